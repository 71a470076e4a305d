"""Helpers shared by the benchmarks: medians, the RESULT line, where the shared data lives."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GAN_STUDIO_SHARED", ROOT.parent / "shared"))  # another place for ../shared
sys.path.insert(0, str(ROOT))


def median(values) -> float:
    return statistics.median(values)


def result(name: str, **figures) -> None:
    """The benchmark's last line: RESULT <name> key=value ..."""
    print(
        f"RESULT {name} " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    )


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def people_outlines() -> Path:
    path = SHARED / "datasets" / "people-outlines"
    if not path.is_dir():
        sys.exit(f"{path} is missing: the benchmarks use ../shared/datasets/people-outlines")
    return path


def add_threads_option(parser) -> None:
    """``--threads N``: the CPU threads a benchmark runs with."""
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads (0: as the app chooses; 1 keeps a loaded machine's cores from thrashing)",
    )
