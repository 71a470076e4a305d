"""GUI responsiveness while training: the event loop's longest stall and its 99th percentile.

A heartbeat timer in the real main window ticks every 10 ms while the demo
project trains (quick preset, CPU by default); a stall is the time between
two ticks beyond the timer's interval. Runs offscreen; prints a RESULT line.

    python bench/gui_stall.py [--seconds 20] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=20.0, help="how long to measure while training")
    p.add_argument("--quick", action="store_true", help="measure for 8 seconds")
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
    panel = window.train_panel
    panel.iterations.setValue(1_000_000)
    panel.start()
    spin(lambda: panel.progress.value() >= 5, 120)  # past start-up, into steady training

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
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.001)
    heartbeat.stop()
    iterations = panel.progress.value()
    window.shutdown_training()

    stalls = sorted(max(0.0, g - 10.0) for g in gaps)
    p99 = stalls[int(0.99 * (len(stalls) - 1))]
    print(f"training on {window.device_label.text()}: {iterations} iterations during the run")
    print(f"heartbeats: {len(gaps)}; median gap {statistics.median(gaps):.1f} ms; "
          f"99th percentile stall {p99:.1f} ms; longest stall {stalls[-1]:.1f} ms")
    print(f"RESULT gui_stall_training max_stall_ms={stalls[-1]:.1f} p99_stall_ms={p99:.1f} "
          f"median_gap_ms={statistics.median(gaps):.1f} heartbeats={len(gaps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
