"""Command-line entry points (no display needed).

``gan-studio-train`` trains pix2pix or CycleGAN on a dataset folder (or on the
built-in demo project with ``--demo``), writing sample strips as it goes and
the trained generator(s) as safetensors plus a JSON description at the end.
Ctrl+C stops early and still saves what was learned.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import datetime
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch.utils.data import DataLoader

from . import store
from .config import DataConfig, PREPROCESS_MODES
from .data.datasets import PairedDataset, UnpairedDataset
from .data.demo import make_demo_dataset
from .data.discover import discover
from .device import DEVICE_CHOICES, configure_cpu_threads, describe_device, pick_device
from .errors import ConfigError, GanStudioError
from .fsutil import atomic_path, atomic_write_text
from .models.registry import FAMILIES, build_model, config_class, family_for_layout
from .train.samples import sample_strip

log = logging.getLogger("gan_studio.cli")

# A CPU-friendly demo: a slimmer U-Net at the demo images' own 128 px.
DEMO_SETTINGS = {"netG": "unet_128", "ngf": 32, "ndf": 32, "preprocess": "none", "crop_size": 128,
                 "load_size": 128, "iterations": 300, "sample_every": 50}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gan-studio-train", description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="?", help="dataset folder (pix2pix: aligned A|B images or A/ B/ folders; "
                                           "CycleGAN: trainA/ trainB/)")
    p.add_argument("--demo", action="store_true", help="train on the built-in demo project")
    p.add_argument("--family", choices=sorted(FAMILIES), help="model family (default: from the data's layout)")
    p.add_argument("--netG", help="generator, e.g. unet_256, unet_128, resnet_9blocks, resnet_6blocks")
    p.add_argument("--ngf", type=int, help="generator width (default 64)")
    p.add_argument("--ndf", type=int, help="discriminator width (default 64)")
    p.add_argument("--preprocess", choices=PREPROCESS_MODES)
    p.add_argument("--load-size", type=int)
    p.add_argument("--crop-size", type=int)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--direction", choices=("AtoB", "BtoA"))
    p.add_argument("--iterations", type=int, help="training iterations (default 2000; demo 300)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} or cuda:N")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-every", type=int, help="iterations between sample strips")
    p.add_argument("--out", type=Path, help="output folder (default: a new run under the user data dir)")
    return p


def _settings(args) -> dict:
    """Command-line values over the demo preset (with --demo) over the defaults."""
    given = {k: v for k, v in vars(args).items() if v is not None}
    base = dict(DEMO_SETTINGS) if args.demo else {"iterations": 2000, "sample_every": 200}
    return {**base, **given}


def _build_dataset(report, family: str, data_cfg: DataConfig, multiple: int, seed: int):
    train = report.splits.get("train")
    if train is None:
        raise ConfigError(f"{report.root} has no training images")
    if family == "pix2pix":
        if report.layout not in ("aligned", "paired"):
            raise ConfigError(f"pix2pix needs paired data, but {report.root} is {report.layout}; "
                              "use --family cyclegan for unpaired folders")
        items = train.pairs if report.layout == "paired" else train.images
        return PairedDataset(items, data_cfg, multiple, seed)
    if report.layout == "unpaired" or report.layout == "paired":
        a = train.domain_a or [p for p, _ in train.pairs]
        b = train.domain_b or [q for _, q in train.pairs]
        return UnpairedDataset(a, b, data_cfg, multiple, seed)
    raise ConfigError(f"CycleGAN needs two folders of images (trainA/ and trainB/), but {report.root} is {report.layout}")


def _save_model(model, out: Path, meta: dict) -> None:
    generators = {d: model.generator(d) for d in model.directions}
    tensors = {f"{d}.{k}": v.detach().cpu().contiguous()
               for d, net in generators.items() for k, v in net.state_dict().items()}
    with atomic_path(out / "generator.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"format": "gan-studio-generator", "version": "1"})
    atomic_write_text(out / "model.json", json.dumps(meta, indent=2))


def train(args) -> Path:
    s = _settings(args)
    folder = make_demo_dataset(store.demo_dir()) if args.demo else args.data
    if folder is None:
        raise ConfigError("give a dataset folder, or --demo to train on the built-in demo project")
    report = discover(folder)
    log.info(report.summary())
    family = s.get("family") or family_for_layout(report.layout)
    model_cfg = config_class(family)(**{k: s[k] for k in ("netG", "ngf", "ndf") if k in s}).validate()
    data_cfg = DataConfig(**{k: s[k] for k in ("preprocess", "load_size", "crop_size", "direction") if k in s},
                          flip=not args.no_flip).validate()
    data_cfg.check_networks(model_cfg)
    if s["batch_size"] > 1 and data_cfg.preprocess in ("none", "scale_width"):
        raise ConfigError("a batch size above 1 needs images of one size: choose a crop preprocess")
    dataset = _build_dataset(report, family, data_cfg, model_cfg.size_multiple, args.seed)

    device = pick_device(args.device)
    if device.type == "cpu":
        configure_cpu_threads()
    torch.manual_seed(args.seed)
    model = build_model(model_cfg, device=device, seed=args.seed)
    out = args.out or store.runs_dir() / f"{family}-{datetime.now():%Y%m%d-%H%M%S}"
    (out / "samples").mkdir(parents=True, exist_ok=True)
    log.info("training %s (%s) on %s for %d iterations; writing to %s",
             family, model_cfg.netG, describe_device(device), s["iterations"], out)

    iteration, epoch, started = 0, 0, time.perf_counter()
    try:
        while iteration < s["iterations"]:
            dataset.set_epoch(epoch)
            loader = DataLoader(dataset, batch_size=s["batch_size"], shuffle=True,
                                generator=torch.Generator().manual_seed(args.seed + epoch))
            for batch in loader:
                model.set_input(batch)
                losses = model.train_step()
                iteration += 1
                if iteration % s["sample_every"] == 0 or iteration == s["iterations"]:
                    sample_strip(model.preview()).save(out / "samples" / f"iter_{iteration:06d}.png")
                    rate = iteration / (time.perf_counter() - started)
                    log.info("iter %d  %s  (%.2f it/s)", iteration,
                             "  ".join(f"{k} {v:.3f}" for k, v in losses.items()), rate)
                if iteration >= s["iterations"]:
                    break
            epoch += 1
    except KeyboardInterrupt:
        log.warning("stopped at iteration %d; saving what was learned", iteration)
    _save_model(model, out, {"family": family, "model": model_cfg.to_dict(), "data": data_cfg.to_dict(),
                             "iterations": iteration, "dataset": str(report.root)})
    log.info("saved the model to %s", out)
    return out


def train_main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = _parser().parse_args(argv)
    try:
        train(args)
    except GanStudioError as exc:
        log.error("error: %s", exc)
        return 2
    return 0
