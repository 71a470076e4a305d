"""Soak: a tiny model trains for thousands of iterations with pause/resume and stop/reopen cycles;
memory must stay flat. Prints resident memory over time and a RESULT line.

    python bench/soak.py [--iterations 5000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

from common import result  # also puts the repository on sys.path


def rss_mb() -> float:
    """Current resident memory (Linux /proc; elsewhere the peak from resource)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=5000)
    p.add_argument("--quick", action="store_true", help="600 iterations (under a minute on 2 cores)")
    args = p.parse_args()
    total = 600 if args.quick else args.iterations
    home = Path(tempfile.mkdtemp(prefix="gan-studio-soak-"))
    os.environ["GAN_STUDIO_HOME"] = str(home)

    from training_core.data.demo import make_demo_dataset
    from training_core.data.discover import discover
    from training_core.store import ModelLibrary
    from training_core.train.control import TrainingControl
    from training_core.train.events import Paused, StepMetrics
    from training_core.train.trainer import Trainer

    report = discover(make_demo_dataset(home / "demo", train=24, val=4, size=32))
    library = ModelLibrary()
    overrides = dict(
        netG="unet_32", ngf=8, ndf=8, size=32, iterations=total, sample_every=100, checkpoint_every=250, batch_size=2
    )
    samples: list[tuple[int, float]] = []
    cycle = max(50, total // 12)
    stops = {total // 3, 2 * total // 3}  # two full stop + reopen cycles, as after closing the app

    def make_listener(control):
        def listener(event):
            if isinstance(event, StepMetrics):
                if event.iteration % 50 == 0:
                    samples.append((event.iteration, rss_mb()))
                if event.iteration in stops:
                    control.stop()
                elif event.iteration % cycle == 0:
                    control.pause()
            elif isinstance(event, Paused):
                threading.Timer(0.05, control.resume).start()

        return listener

    control = TrainingControl()
    outcome = Trainer.create(
        report, "soak", overrides=overrides, library=library, control=control, on_event=make_listener(control)
    ).run()
    reopened = 0
    while not getattr(outcome, "completed", False):
        if not hasattr(outcome, "completed"):
            print("training failed:", outcome.message)
            return 1
        reopened += 1
        control = TrainingControl()
        outcome = Trainer.reopen("soak", library=library, control=control, on_event=make_listener(control)).run()

    quarter = max(1, len(samples) // 4)
    early = sorted(m for _, m in samples[quarter : 2 * quarter])[len(samples[quarter : 2 * quarter]) // 2]
    late = sorted(m for _, m in samples[-quarter:])[len(samples[-quarter:]) // 2]
    for iteration, mb in samples[:: max(1, len(samples) // 12)]:
        print(f"iteration {iteration:6d}: {mb:7.1f} MB")
    growth = late - early
    print(
        f"{total} iterations, {total // cycle} pause/resume cycles, {reopened} stop/reopen cycles; "
        f"median RSS {early:.1f} MB in the second quarter, {late:.1f} MB in the last; growth {growth:+.1f} MB"
    )
    result("soak", iterations=total, rss_early_mb=early, rss_late_mb=late, growth_mb=growth, reopened=reopened)
    return 0


if __name__ == "__main__":
    sys.exit(main())
