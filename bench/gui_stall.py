"""GUI responsiveness while training or converting: the event loop's longest stall and its 99th percentile.

A heartbeat timer in the real main window ticks every 10 ms while the demo
project trains (quick preset), or while a folder of 512x512 photos converts;
a stall is the time between two ticks beyond the timer's interval. Runs
offscreen; prints a RESULT line.

    python bench/gui_stall.py [--during train|convert] [--seconds 20] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from common import result

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def start_conversion(window, spin):
    """Import a full-size generator into the library and convert a folder of 512x512 photos with it."""
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from training_core.config import CycleGANConfig
    from training_core.models.export import save_generators
    from training_core.models.networks import define_G

    library = window.library
    entry = library.create("bench", {"family": "pix2pix", "model": {}, "data": {}})
    config = CycleGANConfig().validate()
    save_generators(config, {"AtoB": define_G(3, 3, 64, "resnet_9blocks", "instance")}, entry.weights_path)
    library.update(entry, state="finished")
    folder = Path(os.environ["GAN_STUDIO_HOME"]) / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(200):
        Image.fromarray(rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    panel = window.convert_panel
    window.tabs.setCurrentWidget(panel)
    panel.select_model(entry.id)
    panel.set_input_folder(folder)
    panel.output_edit.setText(str(folder.parent / "out"))
    spin(lambda: panel.files.topLevelItemCount() == 200, 60)
    panel.start()
    spin(lambda: panel.progress.value() >= 1, 300)
    return panel.progress


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="how long to measure while training")
    p.add_argument("--quick", action="store_true", help="measure for 8 seconds")
    p.add_argument("--during", choices=("train", "convert"), default="train")
    args = p.parse_args()
    seconds = 8.0 if args.quick else args.seconds
    os.environ["GAN_STUDIO_HOME"] = tempfile.mkdtemp(prefix="gan-studio-bench-")

    from PySide6.QtCore import QElapsedTimer, QTimer

    from gan_studio.app import create_application
    from gan_studio.main_window import MainWindow
    from gan_studio.settings import open_settings

    app = create_application()
    window = MainWindow(open_settings())
    window.show()
    window.start_engine_loading()

    def spin(condition, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end and not condition():
            app.processEvents()
            time.sleep(0.005)
        return condition()

    if not spin(lambda: window.train_panel.report is not None and window.train_panel.engine_ready, 120):
        print("the demo project did not open", file=sys.stderr)
        return 1
    if args.during == "train":
        panel = window.train_panel
        panel.iterations.setValue(1_000_000)
        panel.start()
        spin(lambda: panel.progress.value() >= 5, 120)  # past start-up, into steady training
        progress = panel.progress
    else:
        progress = start_conversion(window, spin)

    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick():
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(tick)
    heartbeat.start()
    before = progress.value()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
    heartbeat.stop()
    done = progress.value() - before
    window.shutdown_training()
    window.convert_panel.shutdown()

    stalls = sorted(max(0.0, g - 10.0) for g in gaps)
    p99 = stalls[int(0.99 * (len(stalls) - 1))]
    unit = "iterations" if args.during == "train" else "images converted"
    print(f"{args.during} on {window.device_label.text()}: {done} {unit} during the measurement")
    print(
        f"heartbeats: {len(gaps)}; median gap {statistics.median(gaps):.1f} ms; "
        f"99th percentile stall {p99:.1f} ms; longest stall {stalls[-1]:.1f} ms"
    )
    result(
        f"gui_stall_{args.during}",
        max_stall_ms=stalls[-1],
        p99_stall_ms=p99,
        median_gap_ms=statistics.median(gaps),
        heartbeats=len(gaps),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
