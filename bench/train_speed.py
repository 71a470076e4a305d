"""Training throughput: GAN Studio's training step against the plain eager fp32 step, and each lever alone.

The baseline is the same networks and losses in eager fp32 with PyTorch's own layers and its
default Adam, as the reference implementation trains. Measured in the same run, interleaved with
it (baseline, candidate, baseline, ... so that other work on the machine hits all alike):

- ``default``: what ``precision=auto`` trains with here;
- on a CPU, each lever alone against the plain step: bf16 autocast with fused Adam (the default
  before issue 26), + bf16 working copies of the weights kept between steps, + small maps as
  matrix products, both (the default on CPUs with native bf16), and both in channels_last;
  with ``--compile``, also the default step compiled by torch.compile (its compile time printed).

Also the machine's own limit in the same run: fp32 and bf16 matrix-product throughput (4096x4096)
and a step's FLOPs (torch.utils.flop_counter), so each figure comes with the fraction of the bf16
peak it reaches. pix2pix (unet_256, PatchGAN, batch 1, 256 px, the paper preset's networks) on
../shared/datasets/people-outlines and CycleGAN (resnet_9blocks, 256 px) on its two halves as
domains. Medians of repetitions; the load average beside each figure.

    python bench/train_speed.py [--quick] [--device auto] [--reps 5] [--steps 3] [--compile]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

import torch
from common import cpu_name, median, people_outlines, result


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def load() -> float:
    try:
        return os.getloadavg()[0]
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
    """The baseline: PyTorch's own layers and its default Adam, as the reference implementation trains."""
    from training_core.models.small_maps import use_library_kernels

    for net in model.nets.values():
        use_library_kernels(net)
    for name, optimizer in model.optimizers.items():
        group = optimizer.param_groups[0]
        model.optimizers[name] = torch.optim.Adam(group["params"], lr=group["lr"], betas=group["betas"])


def without_copies(model) -> None:
    model.keeps_working_copies = False


def library_kernels(model) -> None:
    from training_core.models.small_maps import use_library_kernels

    for net in model.nets.values():
        use_library_kernels(net)


def channels_last(model) -> None:
    for net in model.nets.values():
        net.to(memory_format=torch.channels_last)
    set_input = model.set_input

    def set_input_channels_last(batch):
        set_input({k: v.contiguous(memory_format=torch.channels_last) for k, v in batch.items()})

    model.set_input = set_input_channels_last


def compiled(model) -> None:
    model.compile()


# name -> (precision, changes to the model as built): "default" is what precision=auto builds.
CPU_LEVERS = {
    "bf16 autocast (before)": ("bf16", [without_copies, library_kernels]),
    "+ working copies alone": ("bf16", [library_kernels]),
    "+ small maps alone": ("bf16", [without_copies]),
    "channels_last (both levers)": ("bf16", [channels_last]),
}


class Run:
    """One model stepping on its own stream of batches."""

    def __init__(self, family, netG, precision, size, device, changes):
        from training_core.config import config_class
        from training_core.models.registry import build_model

        torch.manual_seed(0)
        self.model = build_model(config_class(family)(netG=netG), device=device, precision=precision)
        for change in changes:
            change(self.model)
        self.data = batches(size)
        self.sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        start = time.perf_counter()
        self.steps(1)  # the first step: compiling, oneDNN's kernel choice, the allocator's first pages
        self.first_step_s = time.perf_counter() - start
        self.steps(1)
        self.rates, self.loads, self.peak = [], [], rss_mb()

    def steps(self, count: int) -> None:
        for _ in range(count):
            self.model.set_input(next(self.data))
            self.model.step()
        self.sync()

    def measure(self, count: int) -> None:
        start = time.perf_counter()
        self.steps(count)
        self.rates.append(count / (time.perf_counter() - start))
        self.loads.append(load())
        self.peak = max(self.peak, rss_mb())

    @property
    def rate(self) -> float:
        return median(self.rates)


def step_gflop(run: Run) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    run.model.set_input(next(run.data))
    with FlopCounterMode(display=False) as counter:
        run.model.step()
    return counter.get_total_flops() / 1e9


def matmul_tflops(dtype: torch.dtype, device, n: int = 4096, reps: int = 5) -> float:
    """This machine's matrix-product throughput in ``dtype``: the limit a step's convolutions approach."""
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for _ in range(reps + 1):
        start = time.perf_counter()
        a @ b
        sync()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / median(times[1:]) / 1e12


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions, CycleGAN at 128 px")
    p.add_argument("--device", default="auto")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steps", type=int, default=3, help="steps per repetition")
    p.add_argument("--families", default="pix2pix,cyclegan")
    p.add_argument("--compile", action="store_true", help="also the default step compiled by torch.compile")
    p.add_argument("--no-levers", action="store_true", help="only the baseline and the default")
    args = p.parse_args()
    from training_core.device import configure_cpu_threads, describe_device, pick_device, resolve_precision

    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads()
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    fast = resolve_precision("auto", device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    capability = torch.backends.cpu.get_cpu_capability()
    print(
        f"device: {describe_device(device)} ({where}; CPU capability {capability}, "
        f"oneDNN bf16 {'yes' if torch.ops.mkldnn._is_mkldnn_bf16_supported() else 'no'}); "
        f"precision=auto: {fast}; torch {torch.__version__}; load average {load():.2f}"
    )
    peak = {name: matmul_tflops(dtype, device) for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))}
    print(
        f"machine: 4096x4096 matrix product fp32 {peak['fp32']:.3f} TFLOP/s, bf16 {peak['bf16']:.3f} TFLOP/s "
        f"(bf16/fp32 {peak['bf16'] / peak['fp32']:.2f}x; load {load():.2f})"
    )
    figures = {"fp32_tflops": peak["fp32"], "bf16_tflops": peak["bf16"]}
    reps = 3 if args.quick else args.reps
    for family in args.families.split(","):
        netG, size = {"pix2pix": ("unet_256", 256), "cyclegan": ("resnet_9blocks", 128 if args.quick else 256)}[family]
        steps = 1 if family == "cyclegan" and device.type == "cpu" else args.steps
        candidates = {"plain fp32 (baseline)": ("fp32", [make_plain]), f"default ({fast})": (fast, [])}
        if device.type == "cpu" and not args.no_levers:
            # CycleGAN's four networks take about 3 GB a model: only the default before beside it.
            levers = CPU_LEVERS if family == "pix2pix" else dict(list(CPU_LEVERS.items())[:1])
            candidates.update(levers)
        if args.compile:
            candidates[f"default ({fast}), compiled"] = (fast, [compiled])
        runs = {
            name: Run(family, netG, precision, size, device, changes)
            for name, (precision, changes) in candidates.items()
        }
        gflop = step_gflop(runs[f"default ({fast})"])
        for _ in range(reps):
            for run in runs.values():
                run.measure(steps)
        base = runs["plain fp32 (baseline)"]
        print(
            f"\n{family} {netG} ngf/ndf 64, {size} px, batch 1: {gflop:.1f} GFLOP a step; {reps} x {steps} steps each"
        )
        for name, run in runs.items():
            tflops = gflop * run.rate / 1e3
            note = f"; first step {run.first_step_s:.1f} s" if "compiled" in name else ""
            print(
                f"  {name:30s} {run.rate:6.3f} it/s ({1e3 / run.rate:7.1f} ms)  x{run.rate / base.rate:4.2f}  "
                f"{tflops:.3f} TFLOP/s = {tflops / peak['bf16']:4.0%} of bf16 peak  "
                f"load {min(run.loads):.1f}-{max(run.loads):.1f}{note}"
            )
        print(f"  peak process memory with these {len(runs)} models: {max(r.peak for r in runs.values()):.0f} MB")
        default = runs[f"default ({fast})"]
        figures.update(
            {
                f"{family}_it_per_s": default.rate,
                f"{family}_baseline_it_per_s": base.rate,
                f"{family}_ratio": default.rate / base.rate,
                f"{family}_gflop": gflop,
                f"{family}_bf16_peak_fraction": gflop * default.rate / 1e3 / peak["bf16"],
            }
        )
        with contextlib.suppress(KeyError):
            before = runs["bf16 autocast (before)"]
            figures[f"{family}_ratio_before"] = before.rate / base.rate
        del runs
    result("train_speed", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
