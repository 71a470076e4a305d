"""Held-out quality of the unpaired families (CycleGAN, CUT, FastCUT) on an unpaired split of
people-outlines, outline to person, with the same time for each.

Every tenth pair (in file-name order) is held out. Of the other 90, the outlines of the 45 at even
places become folder trainA and the photos of the 45 at odd places folder trainB: two unpaired
domains in which no photo's own outline is seen. Each model trains on them for the same budget of
its own step time; the models' steps are taken in turn in one process, so the load of a shared
machine falls on all alike. Then each translates the 10 held-out outlines, scored against their
true photos by L1, PSNR and SSIM (the pairs exist here, unlike in real unpaired data).

    python bench/unpaired_quality.py [--quick] [--seconds 180] [--seeds 2] [--size 128]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import add_threads_option, cpu_name, median, people_outlines, result

FAMILIES = ("cyclegan", "cut", "fastcut")
HELD_OUT_EVERY = 10
WARM_UP = 2  # first steps not counted in the budget: the CPU kernels' first use is slow
# The quick preset's CycleGAN networks for all three: slim, so minutes on a CPU teach something.
NETWORKS = dict(netG="resnet_6blocks", ngf=32, ndf=32)


def unpaired_split(source: Path, into: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """trainA (outlines) and trainB (photos) folders of different pairs, and the held-out pair files."""
    from training_core.data.images import load_rgb
    from training_core.data.transforms import split_aligned

    files = sorted((source / "train").iterdir(), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem)
    held_out = [p for i, p in enumerate(files) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    training = [p for p in files if p not in held_out]
    (into / "trainA").mkdir(parents=True)
    (into / "trainB").mkdir(parents=True)
    for i, path in enumerate(training):
        photo, outline = split_aligned(load_rgb(path))  # the aligned files hold photo | outline
        if i % 2 == 0:
            outline.save(into / "trainA" / f"{path.stem}.png")
        else:
            photo.save(into / "trainB" / f"{path.stem}.png")
    return sorted((into / "trainA").iterdir()), sorted((into / "trainB").iterdir()), held_out


def build(family: str, seed: int, precision: str):
    from training_core.config import CUTConfig, CycleGANConfig, FastCUTConfig
    from training_core.models.cut import CUTModel
    from training_core.models.cyclegan import CycleGANModel

    config, model_class = {
        "cyclegan": (CycleGANConfig, CycleGANModel),
        "cut": (CUTConfig, CUTModel),
        "fastcut": (FastCUTConfig, CUTModel),
    }[family]
    return model_class(config(**NETWORKS), seed=seed, precision=precision)


def held_out_scores(model, pairs) -> dict[str, float]:
    from training_core.models.metrics import mean_scores

    return mean_scores((model.translate(a[None], "AtoB").float(), b[None]) for a, b in pairs)[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="20 s each, one seed, 64 px")
    p.add_argument("--seconds", type=float, default=180, help="step time each model trains for")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--precision", default="auto")
    add_threads_option(p)
    args = p.parse_args()
    if args.quick:
        args.seconds, args.seeds, args.size = 20, 1, 64
    import numpy as np
    import torch

    from training_core.config import DataConfig
    from training_core.data.datasets import PairedDataset, UnpairedDataset
    from training_core.device import configure_cpu_threads, resolve_precision

    threads = configure_cpu_threads()
    if args.threads:
        torch.set_num_threads(threads := args.threads)
    precision = resolve_precision(args.precision, torch.device("cpu"))
    domain_a, domain_b, held_out = unpaired_split(people_outlines(), Path(tempfile.mkdtemp(prefix="unpaired-")))
    train_cfg = DataConfig(load_size=round(args.size * 286 / 256), crop_size=args.size)
    # The held-out outlines and their photos, whole (no crop, no flip), outline first.
    val_cfg = DataConfig(load_size=args.size, crop_size=args.size, flip=False, direction="BtoA")
    pairs = [(s["A"], s["B"]) for s in PairedDataset(held_out, val_cfg, multiple=4)]
    print(
        f"CPU: {cpu_name()}, {threads} threads, torch {torch.__version__}, {precision}; {NETWORKS['netG']} "
        f"ngf/ndf {NETWORKS['ngf']}, {args.size} px; {len(domain_a)} outlines, {len(domain_b)} other photos, "
        f"{len(pairs)} held-out pairs; {args.seconds:g} s of steps each"
    )

    runs = [(family, seed) for seed in range(args.seeds) for family in FAMILIES]
    models = {run: build(*run, precision) for run in runs}
    data = {run: UnpairedDataset(domain_a, domain_b, train_cfg, multiple=4, seed=run[1]) for run in runs}
    orders = {run: np.random.default_rng(run[1]) for run in runs}
    spent = dict.fromkeys(runs, 0.0)
    steps = dict.fromkeys(runs, 0)
    while any(spent[run] < args.seconds for run in runs):
        for run in runs:
            if spent[run] >= args.seconds:
                continue
            epoch, position = divmod(steps[run], len(data[run]))
            index = int(orders[run].integers(len(data[run])))
            sample = data[run][(epoch, position, index)]
            start = time.perf_counter()
            model = models[run]
            model.set_input({"A": sample["A"][None], "B": sample["B"][None]})
            model.step()
            if steps[run] >= WARM_UP:
                spent[run] += time.perf_counter() - start
            steps[run] += 1

    scores = {run: held_out_scores(models[run], pairs) for run in runs}
    figures = {}
    print("family    seed  iterations   L1      PSNR dB  SSIM")
    for run in runs:
        s = scores[run]
        print(f"{run[0]:9s} {run[1]:4d}  {steps[run]:10d}   {s['l1']:.4f}  {s['psnr']:.2f}    {s['ssim']:.3f}")
    for family in FAMILIES:
        mine = [scores[run] for run in runs if run[0] == family]
        for measure in ("l1", "psnr", "ssim"):
            figures[f"{family}_{measure}"] = median([s[measure] for s in mine])
        figures[f"{family}_iterations"] = median([steps[run] for run in runs if run[0] == family])
        print(
            f"{family:9s} median: L1 {figures[f'{family}_l1']:.4f}, PSNR {figures[f'{family}_psnr']:.2f} dB, "
            f"SSIM {figures[f'{family}_ssim']:.3f}; L1 against CycleGAN's "
            f"{figures[f'{family}_l1'] / figures['cyclegan_l1']:.3f}"
        )
    result("unpaired_quality", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
