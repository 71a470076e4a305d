"""``gan-studio --self-test``: smoke-test an installed or frozen build without a screen.

Opens the main window offscreen, imports the engine, translates a tiny image
with a tiny generator, and exits 0 when everything worked. Uses a temporary
data folder, so the user's models and settings are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def run_self_test() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["GAN_STUDIO_HOME"] = tempfile.mkdtemp(prefix="gan-studio-self-test-")
    checks = []

    def check(name, fn):
        start = time.perf_counter()
        try:
            detail = fn()
        except Exception as exc:  # report every failure, then exit non-zero
            checks.append((name, False, f"{type(exc).__name__}: {exc}"))
            return
        checks.append((name, True, f"{detail} ({time.perf_counter() - start:.1f} s)"))

    def window():
        from .app import create_application
        from .main_window import MainWindow
        from .settings import open_settings

        app = create_application()
        main = MainWindow(open_settings())
        main.show()
        app.processEvents()
        tabs = [main.tabs.tabText(i) for i in range(main.tabs.count())]
        main.close()
        return "tabs: " + ", ".join(tabs)

    def engine():
        from .main_window import load_engine

        return load_engine()

    def translate():
        import torch
        from PIL import Image

        from training_core.convert.translator import Translator
        from training_core.models.networks import define_G

        torch.manual_seed(0)
        out = Translator(define_G(3, 3, 4, "resnet_1blocks", "instance"), 4).translate(Image.new("RGB", (37, 23)))
        if out.size != (37, 23):
            raise AssertionError(f"translated size {out.size}, expected (37, 23)")
        return "37x23 image translated"

    check("main window", window)
    check("engine", engine)
    check("translate", translate)
    for name, ok, detail in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    passed = all(ok for _, ok, _ in checks)
    print("self-test passed" if passed else "self-test FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(run_self_test())
