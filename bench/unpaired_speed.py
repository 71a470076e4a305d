"""FastCUT and CUT against CycleGAN: seconds per training iteration and peak memory, same generator
(resnet_9blocks, ngf 64), same discriminator, same size, batch 1, on people-outlines' two halves as
the two domains. The CUT authors report FastCUT at about half of CycleGAN's time and memory.

Times: the three families' steps taken in turn in one process, so the load of a shared machine
falls on all alike; the median of each one's steps. Memory: each family in a process of its own,
so one's peak cannot hide in another's: on the CPU the peak resident memory of that process
(ru_maxrss), also counted from what it held once the networks were built; on CUDA the peak
allocated GPU memory.

    python bench/unpaired_speed.py [--quick] [--size 256] [--precision auto] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from common import add_threads_option, cpu_name, median, result

FAMILIES = ("cyclegan", "cut", "fastcut")  # the baseline first


def rss_now_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(family: str, device_name: str, precision: str, threads: int = 0):
    import torch

    from training_core.config import CUTConfig, CycleGANConfig, FastCUTConfig
    from training_core.device import configure_cpu_threads, pick_device, resolve_precision
    from training_core.models.cut import CUTModel
    from training_core.models.cyclegan import CycleGANModel

    device = pick_device(device_name)
    if device.type == "cpu":
        torch.set_num_threads(threads) if threads else configure_cpu_threads()
    config, model_class = {
        "cyclegan": (CycleGANConfig, CycleGANModel),
        "cut": (CUTConfig, CUTModel),
        "fastcut": (FastCUTConfig, CUTModel),
    }[family]
    return model_class(config(netG="resnet_9blocks"), device=device, precision=resolve_precision(precision, device))


def memory_of(family: str, size: int, precision: str, device_name: str, threads: int) -> dict:
    """One family's peak memory over a few steps, in this process (the parent runs it in a child)."""
    import torch
    from train_speed import batches

    model = build(family, device_name, precision, threads)
    built = rss_now_mb() if model.device.type == "cpu" else 0.0
    data = batches(size)
    for _ in range(3):
        model.set_input(next(data))
        model.step()
    if model.device.type == "cuda":
        return {"peak_mb": torch.cuda.max_memory_allocated() / 2**20, "built_mb": built}
    return {"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "built_mb": built}


def seconds_per_iteration(size: int, precision: str, rounds: int, device_name: str, threads: int) -> dict[str, float]:
    """Each family's median step time, the families' steps taken in turn: a shared machine's load
    then falls on all of them alike."""
    import torch
    from train_speed import batches

    models = {family: build(family, device_name, precision, threads) for family in FAMILIES}
    data = batches(size)
    cuda = next(iter(models.values())).device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    times: dict[str, list[float]] = {family: [] for family in FAMILIES}
    for round_ in range(2 + rounds):  # two warm-up rounds: allocator, kernel choice
        batch = next(data)
        for family, model in models.items():
            start = time.perf_counter()
            model.set_input(batch)
            model.step()
            sync()
            if round_ >= 2:
                times[family].append(time.perf_counter() - start)
    return {family: median(t) for family, t in times.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="128 px, three rounds")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--precision", default="auto")
    add_threads_option(p)
    p.add_argument("--device", default="auto")
    p.add_argument("--rounds", type=int, default=9, help="timed steps of each family")
    p.add_argument("--memory-of", choices=FAMILIES, help=argparse.SUPPRESS)  # the child's part
    args = p.parse_args()
    if args.quick:
        args.size, args.rounds = 128, 3
    if args.memory_of:
        print(json.dumps(memory_of(args.memory_of, args.size, args.precision, args.device, args.threads)))
        return 0
    import torch

    from training_core.device import pick_device, resolve_precision

    precision = resolve_precision(args.precision, pick_device(args.device))
    where = torch.cuda.get_device_name() if torch.cuda.is_available() and args.device != "cpu" else cpu_name()
    threads = f"{args.threads or 'all'} threads"
    print(
        f"{where}, {threads}; torch {torch.__version__}; "
        f"resnet_9blocks, ngf/ndf 64, {args.size} px, batch 1, {precision}"
    )
    figures = {family: {} for family in FAMILIES}
    for family in FAMILIES:
        child = [sys.executable, __file__, "--memory-of", family, *sys.argv[1:]]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        figures[family] = json.loads(out.strip().splitlines()[-1])
    for family, seconds in seconds_per_iteration(
        args.size, args.precision, args.rounds, args.device, args.threads
    ).items():
        figures[family]["s_per_it"] = seconds
    base = figures["cyclegan"]
    line = {}
    for family, f in figures.items():
        training_mb, base_training_mb = f["peak_mb"] - f["built_mb"], base["peak_mb"] - base["built_mb"]
        print(
            f"{family:9s} {f['s_per_it']:.3f} s/it ({f['s_per_it'] / base['s_per_it']:.2f} of CycleGAN's), "
            f"peak {f['peak_mb']:.0f} MB ({f['peak_mb'] / base['peak_mb']:.2f}); "
            f"above the built networks {training_mb:.0f} MB ({training_mb / base_training_mb:.2f})"
        )
        line.update(
            {
                f"{family}_s_per_it": f["s_per_it"],
                f"{family}_peak_mb": f["peak_mb"],
                f"{family}_time_ratio": f["s_per_it"] / base["s_per_it"],
                f"{family}_memory_ratio": f["peak_mb"] / base["peak_mb"],
            }
        )
    result("unpaired_speed", **line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
