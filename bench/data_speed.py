"""Training samples per second from the dataset, with resized images kept in memory and without.

After the first epoch a sample is a crop and flip of an image kept decoded and resized; without
the cache every sample decodes its file and resizes it again (what the loader did before). The
photos of ../shared/photos (300 px to 4000 px) as the two domains of an unpaired dataset, and
people-outlines as pairs, at the quick preset's 143 px load size and the paper's 286.

    python bench/data_speed.py [--epochs 5] [--reps 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from common import SHARED, median, people_outlines, result

from training_core.config import DataConfig
from training_core.data.datasets import PairedDataset, UnpairedDataset


def samples_per_s(dataset, epochs: int, cached: bool) -> float:
    """Samples/s over epochs 1.. (epoch 0 fills the cache, as the first epoch of a run does)."""
    dataset.limit_cache(1 << 30 if cached else 0)
    for epoch in range(epochs + 1):
        if epoch == 1:
            start = time.perf_counter()
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            dataset[i]
    return epochs * len(dataset) / (time.perf_counter() - start)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)  # as in a loader worker process; spares the timing other processes' noise
    photos = sorted(q for q in (SHARED / "photos").iterdir() if q.suffix.lower() in (".png", ".jpg", ".jpeg"))
    pairs = sorted((people_outlines() / "train").iterdir())
    figures = {}
    for load, crop in ((143, 128), (286, 256)):
        cfg = DataConfig(load_size=load, crop_size=crop)
        for name, make in (
            ("photos", lambda cfg=cfg: UnpairedDataset(photos, photos[::-1], cfg, multiple=4)),
            ("pairs", lambda cfg=cfg: PairedDataset(pairs, cfg, multiple=4)),
        ):
            plain = median(samples_per_s(make(), args.epochs, False) for _ in range(args.reps))
            kept = median(samples_per_s(make(), args.epochs, True) for _ in range(args.reps))
            print(f"{name} at {load} px: read each time {plain:.0f} samples/s, kept {kept:.0f} ({kept / plain:.1f}x)")
            figures[f"{name}_{load}_ratio"] = kept / plain
    result("data_speed", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
