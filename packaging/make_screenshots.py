"""Screenshots of every area of the app during a real training and conversion, for the README.

Run under a virtual display so the real window system is used:

    xvfb-run -s "-screen 0 1400x900x24" python packaging/make_screenshots.py [--iterations 300]

Uses a throwaway GAN_STUDIO_HOME; trains the demo project on the CPU, then converts
../shared/photos (or a few generated images) with the result. Writes docs/screenshots/*.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"


def open_window():
    """The app's main window at the README's size, its engine loading, and ``wait(condition)``, which
    keeps the window's events flowing until ``condition()`` holds (and gives up after ``timeout`` s)."""
    from gan_studio.app import create_application
    from gan_studio.main_window import MainWindow
    from gan_studio.settings import open_settings

    app = create_application()
    window = MainWindow(open_settings())
    window.resize(1360, 860)
    window.show()
    window.start_engine_loading()

    def wait(condition, timeout=600.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not condition():
            app.processEvents()
            time.sleep(0.01)
        if not condition():
            raise SystemExit("timed out waiting for the app")

    return app, window, wait


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=300, help="demo training iterations before the shots")
    args = p.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gan-studio-shots-"))
    os.environ["GAN_STUDIO_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))

    import logging

    logging.basicConfig(level=logging.INFO)  # the log pane shows what the app reports
    app, window, wait = open_window()

    def shot(name):
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        OUT.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(OUT / f"{name}.png"))
        print("wrote", OUT / f"{name}.png")

    train = window.train_panel
    wait(lambda: train.engine_ready and train.report is not None)
    window.tabs.setCurrentWidget(window.dataset_panel)
    grid = window.dataset_panel.grid
    wait(lambda: grid.thumbs.thumbnail_ready(0))
    grid.setCurrentIndex(grid.model().index(4, 0))
    wait(window.dataset_panel.preview.has_image)
    shot("dataset")

    window.tabs.setCurrentWidget(train)
    train.setup.iterations.setValue(args.iterations)
    train.start()
    # Stopped half-way, as a closed app or a crash would leave it: the card that offers to resume.
    wait(lambda: train.progress.value() >= args.iterations // 2, timeout=3600)
    train.stop()
    wait(lambda: train.session is None and train.resume_card.isVisible(), timeout=600)
    shot("resume")
    train.resume_card.resume_button.click()
    wait(lambda: train.session is None, timeout=3600)
    shot("train")

    photos = ROOT.parent / "shared" / "photos"
    if not photos.is_dir():
        from training_core.data.demo import make_demo_dataset

        photos = make_demo_dataset(home / "photos", train=4, val=0) / "train"
    convert = window.convert_panel
    window.tabs.setCurrentWidget(convert)
    convert.refresh_models()
    convert.set_input_folder(photos)
    convert.output_edit.setText(str(home / "converted"))
    wait(lambda: convert.files.topLevelItemCount() > 0)
    convert.start()
    wait(lambda: convert.session is None, timeout=1800)
    convert.files.setCurrentItem(convert.files.topLevelItem(0))
    wait(lambda: convert.compare.after is not None, timeout=600)
    shot("convert")

    window.tabs.setCurrentWidget(window.models_panel)
    window.models_panel.refresh()
    window.models_panel.tree.topLevelItem(0).setSelected(True)
    shot("models")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
