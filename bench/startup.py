"""Start-up: seconds from launching GAN Studio to its main window being shown (median of runs).

Each run is a fresh Python process that does what ``gan-studio`` does up to showing the window
(PyTorch is imported afterwards, in the background).

    python bench/startup.py [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from common import ROOT, median, result

CHILD = """
import sys, time
from gan_studio.app import create_application
from gan_studio.main_window import MainWindow
from gan_studio.settings import open_settings
app = create_application()
window = MainWindow(open_settings())
window.show()
app.processEvents()
print("shown", time.time(), "torch imported" if "torch" in sys.modules else "torch not imported", flush=True)
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="3 runs")
    args = p.parse_args()
    env = dict(
        os.environ,
        QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        GAN_STUDIO_HOME=tempfile.mkdtemp(prefix="gan-studio-startup-"),
        PYTHONPATH=str(ROOT),
    )
    times, note = [], ""
    for _ in range(3 if args.quick else args.runs):
        start = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
        line = next((x for x in out.stdout.splitlines() if x.startswith("shown")), None)
        if line is None:
            print(out.stdout, out.stderr)
            return 1
        times.append(float(line.split()[1]) - start)
        note = line.split(" ", 2)[2]
    print(
        f"main window shown after {median(times):.2f} s (median of {len(times)}; {note}); "
        f"runs: {', '.join(f'{t:.2f}' for t in times)}"
    )
    result("startup", window_shown_s=median(times), runs=len(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
