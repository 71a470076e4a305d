"""A GPU check in one run: training speed per precision, a stopped-and-resumed run, tiled conversion.

    python bench/device_check.py [--quick]

Prints figures and ends with a RESULT line. Meant for a CUDA machine; runs on the CPU too (slowly).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402


def speed(family: str, netG: str, precision: str, size: int, steps: int, device) -> float:
    from training_core.config import config_class
    from training_core.models.registry import build_model

    model = build_model(config_class(family)(netG=netG), device=device, precision=precision)
    batch = {"A": torch.rand(1, 3, size, size) * 2 - 1, "B": torch.rand(1, 3, size, size) * 2 - 1}
    model.set_input(batch)
    for _ in range(5):
        losses = model.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        losses = model.step()  # the losses stay on the device: no step waits for the GPU
    if device.type == "cuda":
        torch.cuda.synchronize()
    assert all(np.isfinite(float(v)) for v in losses.values()), losses
    return steps / (time.perf_counter() - start)


def resume_check(device_name: str) -> str:
    from training_core.data.demo import make_demo_dataset
    from training_core.data.discover import discover
    from training_core.store import ModelLibrary
    from training_core.train.control import TrainingControl
    from training_core.train.events import StepMetrics
    from training_core.train.trainer import Trainer

    home = Path(tempfile.mkdtemp())
    report = discover(make_demo_dataset(home / "demo", train=16, val=4))
    library = ModelLibrary(home / "models")
    control = TrainingControl()
    stop_at = lambda e: control.stop() if isinstance(e, StepMetrics) and e.iteration == 10 else None  # noqa: E731
    overrides = dict(iterations=20, sample_every=5, checkpoint_every=100)
    first = Trainer.create(
        report, "gpu", overrides=overrides, library=library, control=control, on_event=stop_at, device=device_name
    ).run()
    second = Trainer.reopen("gpu", library=library, device=device_name).run()
    return f"stopped at {first.iteration}, resumed to {second.iteration}, state {library.get('gpu').state}"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    from training_core.convert.translator import TranslateOptions, Translator
    from training_core.device import describe_device, pick_device
    from training_core.models.networks import define_G

    device = pick_device("auto")
    print("device:", describe_device(device), "torch", torch.__version__)
    steps = 5 if args.quick else 30
    figures = {}
    for family, netG in (("pix2pix", "unet_256"), ("cyclegan", "resnet_9blocks")):
        for precision in ("fp32", "bf16", "fp16"):
            rate = speed(family, netG, precision, 256, steps, device)
            figures[f"{family}_{precision}_it_s"] = round(rate, 2)
            print(f"{family} {netG} 256px {precision}: {rate:.2f} it/s")
    print("resume:", resume_check(device.type))

    torch.manual_seed(0)
    net = define_G(3, 3, 64, "resnet_9blocks", "instance")
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (2000, 3000, 3), dtype=np.uint8))
    auto = Translator(net, 4, device)
    start = time.perf_counter()
    out = auto.translate(photo)
    print(f"3000x2000 translate, {auto.describe()}: {time.perf_counter() - start:.2f} s, size {out.size}")
    tiled = Translator(net, 4, device, TranslateOptions(tile=512))
    start = time.perf_counter()
    out = tiled.translate(photo)
    figures["tiled_3000x2000_s"] = round(time.perf_counter() - start, 2)
    print(f"3000x2000 translate, {tiled.describe()}: {figures['tiled_3000x2000_s']} s, size {out.size}")
    print("RESULT device_check " + " ".join(f"{k}={v}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GAN_STUDIO_HOME", tempfile.mkdtemp())
    sys.exit(main())
