"""Training throughput: GAN Studio's training step against a plain eager fp32 step (no autocast).

The baseline is the same networks and losses in fp32 with PyTorch's default Adam, as the reference
implementation trains; GAN Studio adds its precision choice and its fused optimizer kernels.

pix2pix (unet_256, PatchGAN, batch 1, 256 px) on ../shared/datasets/people-outlines and CycleGAN
(resnet_9blocks, 256 px) on its two halves as domains. Prints iterations per second (median of
several repetitions), peak memory, and the ratio to the baseline measured in the same run.

    python bench/train_speed.py [--quick] [--device auto] [--reps 3] [--steps 6]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from common import median, people_outlines, result


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def batches(size: int):
    """Real people-outlines pairs, prepared as training does (decode, resize, crop, flip)."""
    from training_core.config import DataConfig
    from training_core.data.datasets import PairedDataset
    from training_core.data.discover import discover

    # CycleGAN takes the halves as its two domains; its speed does not depend on them being paired.
    cfg = DataConfig(load_size=round(size * 286 / 256), crop_size=size, direction="BtoA")
    dataset = PairedDataset(discover(people_outlines()).splits["train"].images, cfg, multiple=4)
    i = 0
    while True:
        sample = dataset[i % len(dataset)]
        i += 1
        yield {"A": sample["A"][None], "B": sample["B"][None]}


def make_plain(model) -> None:
    """The baseline's optimizers: PyTorch's default Adam, as the reference implementation builds it."""
    for name, optimizer in model.optimizers.items():
        group = optimizer.param_groups[0]
        model.optimizers[name] = torch.optim.Adam(group["params"], lr=group["lr"], betas=group["betas"])


def measure(family: str, netG: str, precision: str, size: int, device, reps: int, steps: int, plain=False):
    from training_core.config import config_class
    from training_core.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(config_class(family)(netG=netG), device=device, precision=precision)
    if plain:
        make_plain(model)
    data = batches(size)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2):  # warm-up: allocator, cuDNN autotuning, oneDNN kernel choice
        model.set_input(next(data))
        model.step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    peak_rss = rss_mb()
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(steps):
            model.set_input(next(data))
            model.step()
        sync()
        rates.append(steps / (time.perf_counter() - start))
        peak_rss = max(peak_rss, rss_mb())
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else peak_rss
    return median(rates), peak


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps, CycleGAN at 128 px: about a minute on 2 cores")
    p.add_argument("--device", default="auto")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--steps", type=int, default=6)
    args = p.parse_args()
    from training_core.device import configure_cpu_threads, describe_device, pick_device, resolve_precision

    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    fast = resolve_precision("auto", device)
    print(f"device: {describe_device(device)}; optimised precision: {fast}; torch {torch.__version__}")
    figures = {}
    runs = [
        ("pix2pix", "unet_256", 256, args.steps),
        (
            "cyclegan",
            "resnet_9blocks",
            128 if args.quick else 256,
            1 if args.quick and device.type == "cpu" else args.steps,
        ),
    ]
    for family, netG, size, steps in runs:
        reps = 2 if args.quick else args.reps
        steps = min(steps, 3) if args.quick else steps
        base, base_mem = measure(family, netG, "fp32", size, device, reps, steps, plain=True)
        opt, opt_mem = measure(family, netG, fast, size, device, reps, steps)
        unit = "MB peak GPU memory" if device.type == "cuda" else "MB peak process memory"
        print(
            f"{family} {netG} {size}px: baseline fp32 eager {base:.2f} it/s ({base_mem:.0f} {unit}); "
            f"GAN Studio {fast} {opt:.2f} it/s ({opt_mem:.0f} {unit}); ratio {opt / base:.2f}"
        )
        figures.update(
            {
                f"{family}_it_per_s": opt,
                f"{family}_baseline_it_per_s": base,
                f"{family}_ratio": opt / base,
                f"{family}_peak_mb": opt_mem,
            }
        )
    result("train_speed", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
