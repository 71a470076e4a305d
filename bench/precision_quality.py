"""Does bf16 cost quality? Train pix2pix on people-outlines with fp32 and with bf16 (same seeds) and
compare the held-out L1 / PSNR / SSIM after a fixed number of iterations.

    python bench/precision_quality.py [--iterations 500] [--seeds 2] [--quick] [--device auto]
"""

from __future__ import annotations

import argparse
import os
import tempfile

from common import median, people_outlines, result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--device", default="auto")
    p.add_argument("--quick", action="store_true", help="60 iterations, one seed")
    args = p.parse_args()
    iterations, seeds = (60, 1) if args.quick else (args.iterations, args.seeds)
    os.environ["GAN_STUDIO_HOME"] = tempfile.mkdtemp(prefix="gan-studio-quality-")

    from training_core.data.discover import discover
    from training_core.store import ModelLibrary
    from training_core.train.events import ValidationMetrics
    from training_core.train.trainer import Trainer

    report = discover(people_outlines())
    library = ModelLibrary()
    scores: dict[str, list] = {"fp32": [], "bf16": []}
    for seed in range(seeds):
        for precision in scores:
            last = []
            overrides = dict(
                direction="BtoA",
                size=args.size,
                iterations=iterations,
                precision=precision,
                seed=seed,
                sample_every=iterations,
                checkpoint_every=iterations,  # one checkpoint, at the end (the settings cap the interval)
            )
            trainer = Trainer.create(
                report,
                f"{precision}-{seed}",
                preset="quick",
                overrides=overrides,
                library=library,
                device=args.device,
                on_event=lambda e, last=last: last.append(e) if isinstance(e, ValidationMetrics) else None,
            )
            trainer.run()
            v = last[-1]
            scores[precision].append(v)
            print(
                f"seed {seed} {precision}: held-out L1 {v.l1:.4f}  PSNR {v.psnr:.2f} dB  SSIM {v.ssim:.4f} "
                f"({v.count} pairs, {iterations} iterations at {args.size} px)"
            )
    figures = {}
    for precision, values in scores.items():
        figures[f"{precision}_l1"] = median([v.l1 for v in values])
        figures[f"{precision}_psnr"] = median([v.psnr for v in values])
    # Noise: how much the same precision varies between seeds.
    spread = [abs(a.l1 - b.l1) for a, b in zip(scores["fp32"], scores["fp32"][1:])]
    figures["fp32_seed_spread_l1"] = max(spread) if spread else float("nan")
    figures["l1_ratio_bf16_vs_fp32"] = figures["bf16_l1"] / figures["fp32_l1"]
    result("precision_quality", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
