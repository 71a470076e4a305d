"""Which training options beat the papers on a small dataset? Train pix2pix on a fixed split of
people-outlines (90 pairs to train on, every tenth of the 100 held out) with the papers'
configuration, each new option alone, and the options combined; at a fixed number of iterations
and several seeds, print the median held-out L1, PSNR, SSIM and checkerboard measure, and save a
picture of the same held-out inputs translated by each configuration.

    python bench/quality.py [--preset quick] [--iterations 1000] [--seeds 3] [--configs paper,ema,...]

The checkerboard measure is ``metrics.checkerboard``: the output's spectral energy at the
transposed convolutions' periods relative to the target's (about 1 is clean, more is a grid).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, median, people_outlines, result

from training_core.config import Pix2PixConfig
from training_core.families.pix2pix import MEASURED_BEST as MEASURED_BEST_PIX2PIX
from training_core.models.inference_norm import NORM_MODES

# The papers' configuration, spelled out (the settings' defaults are the papers'): the quick and
# high presets now change some of them.
PAPERS = {
    name: getattr(Pix2PixConfig(), name)
    for name in (*MEASURED_BEST_PIX2PIX, "num_D", "lambda_feat", "spectral_norm", "ema_decay")
}
# Each option alone on top of the papers' configuration, then all of them together, then the
# presets' choice (what measured best).
ALONE = {
    "paper": {},
    "diffaug": {"diff_augment": "color,translation,cutout"},
    "ema": {"ema_decay": 0.999},
    "resize": {"upsample": "resize"},
    "spectral": {"spectral_norm": True},
    "multiscale": {"num_D": 2, "lambda_feat": 10.0},
    "lr2x": {"lr": 4e-4},  # twice the papers' learning rate
    "ssim": {"lambda_ssim": 100.0},  # the structural loss beside the L1, with the same weight
}
OPTIONS = {name: {**PAPERS, **settings} for name, settings in ALONE.items()}
OPTIONS["combined"] = {k: v for settings in ALONE.values() for k, v in settings.items()}
OPTIONS["presets"] = {**PAPERS, **MEASURED_BEST_PIX2PIX}
HELD_OUT_EVERY = 10  # every tenth pair (in file-name order) is held out
PICTURE_ROWS = 4


def fixed_split(source: Path, into: Path) -> Path:
    """A copy of the dataset with train/ and val/ folders: the same held-out pairs for every run."""
    files = sorted((source / "train").iterdir(), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem)
    for i, path in enumerate(files):
        split = "val" if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else "train"
        (into / split).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, into / split / path.name)
    return into


def parse_configs(text: str) -> dict[str, dict]:
    """Names from OPTIONS, or name=setting:value;setting:value: the papers' configuration with those settings."""
    configs = {}
    for item in filter(None, re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', text)):  # commas outside quotes
        if "=" not in item:
            configs[item] = OPTIONS[item]
            continue
        name, spec = item.split("=", 1)
        configs[name] = {**PAPERS, **{k: json.loads(v) for k, v in (pair.split(":", 1) for pair in spec.split(";"))}}
    return configs


def train_once(report, library, name, preset, settings, iterations, seed, size, device):
    from training_core.train.events import Finished, ValidationMetrics
    from training_core.train.trainer import Trainer

    scores = []
    overrides = dict(
        settings,
        direction="BtoA",  # outline -> person
        iterations=iterations,
        seed=seed,
        sample_every=iterations,
        checkpoint_every=10**7,
        **({"crop_size": size} if size else {}),
    )
    trainer = Trainer.create(
        report,
        f"{name}-{seed}",
        preset=preset,
        overrides=overrides,
        library=library,
        device=device,
        on_event=lambda e: scores.append(e) if isinstance(e, ValidationMetrics) else None,
    )
    start = time.perf_counter()
    if not isinstance(trainer.run(), Finished) or not scores:
        raise SystemExit(f"{name} seed {seed} did not finish")
    seconds = time.perf_counter() - start
    logged = [json.loads(line) for line in (trainer.entry.run_dir / "metrics.jsonl").read_text().splitlines()]
    val = [r["val"] for r in logged if "val" in r][-1]
    pairs = [(s["A"], s["B"]) for s in trainer.fixed.held_out()]
    by_norm = {mode: held_out_scores(trainer, pairs, mode) for mode in NORM_MODES}
    # What the artist gets: the trained model converts with the statistics that scored better.
    chosen = min(by_norm, key=lambda mode: by_norm[mode]["l1"])
    return trainer, {**val, "seconds": seconds, "norm": chosen, "by_norm": by_norm}


def measured(scores: dict, measure: str) -> dict[str, float]:
    """A run's held-out scores as validated during training (running statistics) or as converted."""
    if measure == "running":
        return scores
    if "by_norm" not in scores:
        raise SystemExit("a run from --merge has only the scores validated in training: use --measure running")
    return scores["by_norm"][scores["norm"]]


def held_out_scores(trainer, pairs, norm: str) -> dict[str, float]:
    """L1, PSNR, SSIM and checkerboard measure on the held-out pairs, translated with ``norm`` statistics."""
    import torch

    from training_core.models.inference_norm import inference_copy
    from training_core.models.metrics import mean_scores

    net = inference_copy(trainer.model.generator("AtoB"), norm)
    with torch.inference_mode():
        return mean_scores((net(a[None].to(trainer.model.device)), b[None]) for a, b in pairs)[0]


def held_out_row_images(trainer):
    """(input, output, target) for the first held-out pairs, as the trained model translates them."""
    pairs = [(s["A"], s["B"]) for s in trainer.fixed.held_out()[:PICTURE_ROWS]]
    return [(a, trainer.model.translate(a[None])[0].float().cpu(), b) for a, b in pairs]


def save_picture(columns: dict[str, list], path: Path) -> None:
    """One row per held-out input: the input, each configuration's output, the target."""
    from PIL import Image, ImageDraw

    from training_core.data.transforms import to_image

    names = list(columns)
    first = columns[names[0]]
    tiles = [[to_image(a) for a, _, _ in first]]
    tiles += [[to_image(out) for _, out, _ in columns[n]] for n in names]
    tiles += [[to_image(b) for _, _, b in first]]
    labels = ["input", *names, "target"]
    w, h = tiles[0][0].size
    label_h = 18
    sheet = Image.new("RGB", (w * len(tiles), label_h + h * len(first)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, (label, column) in enumerate(zip(labels, tiles)):
        draw.text((c * w + 4, 3), label, fill="black")
        for r, tile in enumerate(column):
            sheet.paste(tile, (c * w, label_h + r * h))
    sheet.save(path, quality=90)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="quick", help="quick: 128 px slim networks; paper: 256 px, full width")
    p.add_argument("--size", type=int, default=0, help="crop size (default: the preset's)")
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    p.add_argument("--merge", type=Path, action="append", default=[], help="also tabulate runs from this --json")
    p.add_argument("--configs", default=",".join(OPTIONS), help=f"from {', '.join(OPTIONS)}, or name=k:v;k:v")
    p.add_argument("--device", default="auto")
    p.add_argument("--picture", type=Path, default=ROOT / "bench" / "quality.jpg")
    p.add_argument("--json", type=Path, help="also write every run's scores here")
    p.add_argument(
        "--measure",
        choices=("converted", "running"),
        default="converted",
        help="converted: with the batch-norm statistics the trained model converts with (the better of its "
        "own and running ones on the held-out pairs); running: as validated during training",
    )
    p.add_argument("--quick", action="store_true", help="40 iterations, one seed, paper and combined")
    args = p.parse_args()
    if args.quick:
        args.iterations, args.seeds, args.configs = 40, 1, "paper,combined"
    configs = parse_configs(args.configs)
    os.environ["GAN_STUDIO_HOME"] = tempfile.mkdtemp(prefix="gan-studio-quality-")

    from training_core.data.discover import discover
    from training_core.store import ModelLibrary

    report = discover(fixed_split(people_outlines(), Path(tempfile.mkdtemp(prefix="split-"))))
    library = ModelLibrary()
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    earlier: dict[str, list[dict]] = {}
    for path in args.merge:
        for name, scores in json.loads(path.read_text()).items():
            earlier.setdefault(name, []).extend(scores)
    columns = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for name, settings in configs.items():
            trainer, scores = train_once(
                report, library, name, args.preset, settings, args.iterations, seed, args.size, args.device
            )
            runs[name].append(scores)
            if seed == args.first_seed:
                columns[name] = held_out_row_images(trainer)
                if len(columns) == len(configs):
                    save_picture(columns, args.picture)
            shown = measured(scores, args.measure)
            print(
                f"seed {seed} {name:>11}: L1 {shown['l1']:.4f}  PSNR {shown['psnr']:.2f} dB  "
                f"SSIM {shown['ssim']:.4f}  checkerboard {shown['checkerboard']:.2f}  ({scores['seconds']:.0f} s; "
                + ", ".join(f"{mode} statistics L1 {v['l1']:.4f}" for mode, v in scores["by_norm"].items())
                + ")",
                flush=True,
            )
            if args.json:
                args.json.write_text(json.dumps(runs, indent=1))
    for name, scores in earlier.items():
        runs[name] = scores + runs.get(name, [])
    runs = {name: values for name, values in runs.items() if values}

    print(
        f"\n{args.preset} preset, {args.iterations} iterations, {args.measure} statistics, "
        "medians over seeds (spread = max - min):"
    )
    print("| configuration | seeds | held-out L1 | L1 spread | PSNR dB | SSIM | checkerboard | L1 vs paper |")
    print("|---|---|---|---|---|---|---|---|")
    runs = {name: [measured(r, args.measure) for r in values] for name, values in runs.items()}
    figures, base = {}, median([r["l1"] for r in runs.get("paper", runs[next(iter(runs))])])
    for name, values in runs.items():
        l1s = [r["l1"] for r in values]
        row = {k: statistics.median(r[k] for r in values) for k in ("l1", "psnr", "ssim", "checkerboard")}
        print(
            f"| {name} | {len(values)} | {row['l1']:.4f} | {max(l1s) - min(l1s):.4f} | {row['psnr']:.2f} "
            f"| {row['ssim']:.3f} | {row['checkerboard']:.2f} | {row['l1'] / base:.3f} |"
        )
        figures[f"{name}_l1"] = row["l1"]
        figures[f"{name}_checkerboard"] = row["checkerboard"]
    print(f"picture: {args.picture}")
    result("quality", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
