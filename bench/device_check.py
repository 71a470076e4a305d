"""The one GPU script: everything to measure on a lent GPU, in one run of under 6 minutes.

    python bench/device_check.py [--quick] [--device auto]

1. Training speed per family and precision, eager and compiled (``--compile``: CUDA graphs on
   CUDA), against the plain loop: eager fp32 with PyTorch's default Adam, the reference's way.
   Peak GPU memory of each.
2. End to end: the CLI training pix2pix (unet_256, 256 px, batch 1) for 3000 iterations, start-up
   included, eager and compiled.
3. Conversion of a folder of photos (../shared/photos, or made-up photos of 300 to 1000 px): the
   plain loop (decode, fp32 network, encode, one file at a time) against GAN Studio's batch job.
4. Exact resume: the CUDA resume tests, deterministic kernels included.

Ends with a RESULT line. Runs on the CPU too (``--quick``: a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import ROOT, SHARED, median, result
from convert_speed import batch_job, plain_loop, timed
from PIL import Image
from train_speed import make_plain

RUNS = (("pix2pix", "unet_256"), ("cyclegan", "resnet_9blocks"))


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_rate(family, netG, size, device, precision="fp32", compiled=False, plain=False, steps=30, reps=3):
    """Median iterations/s over ``reps`` timings of ``steps`` steps, and peak GPU memory in MB."""
    from training_core.config import config_class
    from training_core.models.registry import build_model

    torch.manual_seed(0)
    model = build_model(config_class(family)(netG=netG), device=device, precision=precision)
    if plain:
        make_plain(model)
    if compiled:
        model.compile()
    images = [{"A": torch.rand(1, 3, size, size) * 2 - 1, "B": torch.rand(1, 3, size, size) * 2 - 1} for _ in range(4)]

    def steps_of(n):
        for i in range(n):
            model.begin_step()
            model.set_input(images[i % len(images)])
            losses = model.step()
        return losses

    start = time.perf_counter()
    losses = steps_of(3)  # warm-up: compiling, graph capture, cuDNN autotuning
    sync(device)
    warm_up = time.perf_counter() - start
    assert all(np.isfinite(float(v)) for v in losses.values()), losses
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        steps_of(steps)
        sync(device)
        rates.append(steps / (time.perf_counter() - start))
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    return median(rates), peak, warm_up


def training(device, quick: bool, figures: dict) -> None:
    size = 128 if quick and device.type == "cpu" else 256
    steps, reps = (3, 1) if quick else (30, 3)
    precisions = ("fp32",) if quick else ("fp32", "bf16")
    for family, netG in RUNS:
        netG = {"unet_256": f"unet_{size}"}.get(netG, netG)  # a U-Net's depth follows the image size
        base, base_mem, _ = train_rate(family, netG, size, device, plain=True, steps=steps, reps=reps)
        print(f"{family} {netG} {size}px plain loop (fp32, default Adam): {base:.2f} it/s, {base_mem:.0f} MB")
        figures[f"{family}_plain_it_s"] = base
        for precision in precisions:
            for compiled in (False, True):
                if compiled and (quick and family == "cyclegan"):
                    continue
                rate, mem, warm = train_rate(family, netG, size, device, precision, compiled, steps=steps, reps=reps)
                how = "compiled" if compiled else "eager"
                print(
                    f"{family} {precision} {how}: {rate:.2f} it/s ({rate / base:.2f}x the plain loop), "
                    f"{mem:.0f} MB peak, first 3 steps {warm:.1f} s"
                )
                figures[f"{family}_{precision}_{how}_it_s"] = rate
                figures[f"{family}_{precision}_{how}_ratio"] = rate / base


def demo_data(home: Path) -> Path:
    path = SHARED / "datasets" / "people-outlines"
    if path.is_dir():
        return path
    from training_core.data.demo import make_demo_dataset

    return make_demo_dataset(home / "demo", train=100, val=0)


def end_to_end(device, quick: bool, figures: dict) -> Path:
    """Seconds for the CLI to train pix2pix for 3000 iterations, start-up included; returns a model file."""
    home = Path(tempfile.mkdtemp(prefix="gan-studio-e2e-"))
    data = demo_data(home)
    iterations = 100 if quick else 3000
    size = ["--size", "128", "--netG", "unet_128"] if quick and device.type == "cpu" else ["--size", "256"]
    env = dict(os.environ, GAN_STUDIO_HOME=str(home))
    for how, extra in (("eager", []), ("compiled", ["--compile"])):
        if quick and how == "compiled" and device.type == "cpu":
            continue
        command = [sys.executable, "-m", "training_core.cli", str(data), "--name", how, "--preset", "paper"]
        command += [*size, "--iterations", str(iterations), "--direction", "BtoA", "--precision", "fp32"]
        command += ["--device", device.type, "--sample-every", "1000", *extra]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode:
            print(done.stdout[-2000:], done.stderr[-2000:])
            raise SystemExit(f"the {how} CLI run failed")
        print(f"CLI pix2pix {iterations} iterations, {how}: {seconds:.1f} s, start-up included")
        figures[f"cli_{iterations}_{how}_s"] = seconds
    return next((home / "models").glob("*/generator.safetensors"), None)


def photos(home: Path) -> Path:
    if (SHARED / "photos").is_dir():
        return SHARED / "photos"
    rng = np.random.default_rng(0)
    folder = home / "photos"
    folder.mkdir(parents=True)
    for i in range(20):
        w, h = rng.integers(300, 1000, 2)
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"{i}.jpg")
    return folder


def conversion(device, quick: bool, figures: dict) -> None:
    from training_core.models.networks import define_G

    torch.manual_seed(0)
    generator = define_G(3, 3, 32 if quick and device.type == "cpu" else 64, "resnet_9blocks", "instance")
    folder = photos(Path(tempfile.mkdtemp(prefix="gan-studio-photos-")))
    reps = 1 if quick else 3
    plain = timed(plain_loop, generator, folder, device, reps)
    ours = timed(batch_job, generator, folder, device, reps)
    print(f"conversion of {folder}: plain loop {plain:.2f} images/s, GAN Studio {ours:.2f} ({ours / plain:.2f}x)")
    figures.update(convert_plain_img_s=plain, convert_img_s=ours, convert_ratio=ours / plain)


def resume_tests(figures: dict) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core/test_trainer.py", "-k", "cuda"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print("CUDA resume tests:", done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
    figures["resume_tests_rc"] = done.returncode


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps and iterations: a check of the script itself")
    p.add_argument("--device", default="auto")
    args = p.parse_args()
    from training_core.device import configure_cuda_kernels, describe_device, pick_device

    device = pick_device(args.device)
    configure_cuda_kernels(deterministic=False, fixed_shapes=True)
    print("device:", describe_device(device), "torch", torch.__version__)
    figures: dict = {}
    started = time.perf_counter()
    for part in (training, end_to_end, conversion):
        part(device, args.quick, figures)
        print(f"({time.perf_counter() - started:.0f} s so far)", flush=True)
    if device.type == "cuda":
        resume_tests(figures)
    figures["total_s"] = time.perf_counter() - started
    result("device_check", **figures)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GAN_STUDIO_HOME", tempfile.mkdtemp())
    sys.exit(main())
