"""Conversion throughput: GAN Studio's batch job against a plain loop (decode, translate, encode,
one file at a time, fp32), on ../shared/photos and on a folder of 512x512 images.

    python bench/convert_speed.py [--quick] [--device auto] [--reps 3]
"""

from __future__ import annotations

import argparse
import copy
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import SHARED, median, result
from PIL import Image


def plain_loop(generator, folder: Path, out: Path, device) -> int:
    """What a script would do: decode, pad, run the network in fp32, crop, encode; one file at a time."""
    from training_core.convert.translator import _mirror_pad, _round_up
    from training_core.data.images import iter_image_files, load_rgb
    from training_core.data.transforms import to_image, to_tensor

    net = copy.deepcopy(generator).eval().to(device)  # instance norm: eval mode normalises per image
    count = 0
    for path in iter_image_files(folder):
        x = to_tensor(load_rgb(path, min_side=1))[None]
        h, w = x.shape[-2:]
        with torch.inference_mode():
            y = net(_mirror_pad(x, _round_up(h, 4), _round_up(w, 4)).to(device))[:, :, :h, :w]
        to_image(y.cpu()).save(out / (path.stem + ".png"))
        count += 1
    return count


def batch_job(generator, folder: Path, out: Path, device) -> int:
    from training_core.config import ConvertConfig
    from training_core.convert.batch import BatchJob
    from training_core.convert.translator import TranslateOptions, Translator
    from training_core.device import resolve_precision

    config = ConvertConfig(format="png")
    options = TranslateOptions(precision=resolve_precision(config.precision, device))
    report = BatchJob(Translator(generator, 4, device, options), folder, out, config).run()
    return report.counts().get("converted", 0)


def timed(fn, generator, folder, device, reps) -> float:
    rates = []
    for _ in range(reps):
        out = Path(tempfile.mkdtemp(prefix="gan-studio-convert-bench-"))
        start = time.perf_counter()
        count = fn(generator, folder, out, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        rates.append(count / (time.perf_counter() - start))
        shutil.rmtree(out)
    return median(rates)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="four 512x512 images and one repetition")
    p.add_argument("--device", default="auto")
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    from training_core.device import configure_cpu_threads, describe_device, pick_device, resolve_precision
    from training_core.models.networks import define_G

    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads()
    torch.manual_seed(0)
    generator = define_G(3, 3, 64, "resnet_9blocks", "instance").eval()
    square = Path(tempfile.mkdtemp(prefix="gan-studio-512-"))
    rng = np.random.default_rng(0)
    for i in range(4 if args.quick else 12):
        Image.fromarray(rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)).save(square / f"{i}.png")
    folders = [("512x512", square)]
    if (SHARED / "photos").is_dir() and not args.quick:
        folders.insert(0, ("shared photos", SHARED / "photos"))
    reps = 1 if args.quick else args.reps
    print(
        f"device: {describe_device(device)}; optimised precision: {resolve_precision('auto', device)}; "
        f"generator resnet_9blocks ngf 64"
    )
    figures = {}
    for name, folder in folders:
        base = timed(plain_loop, generator, folder, device, reps)
        fast = timed(batch_job, generator, folder, device, reps)
        key = name.split()[0]
        print(f"{name}: plain loop {base:.2f} images/s; GAN Studio batch {fast:.2f} images/s; ratio {fast / base:.2f}")
        figures.update({f"{key}_images_per_s": fast, f"{key}_baseline_images_per_s": base, f"{key}_ratio": fast / base})
    result("convert_speed", **figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
