"""Named starting points for a run: a quick CPU-friendly one, the papers' settings, a high-quality one.

A preset fills the model, data and training configs; explicit overrides win.
Run lengths given in epochs become iterations once the dataset size is known.
"""

from __future__ import annotations

import math
from dataclasses import fields

from .config import DataConfig, ModelConfig, TrainConfig
from .errors import ConfigError
from .models.registry import config_class

PRESETS = {
    "quick": {
        "about": "slim networks at 128 px: learns something visible in minutes on a laptop CPU",
        "pix2pix": {"netG": "unet_128", "ngf": 32, "ndf": 32},
        "cyclegan": {"netG": "resnet_6blocks", "ngf": 32, "ndf": 32},
        "data": {"load_size": 143, "crop_size": 128},
        "train": {"iterations": 2000, "sample_every": 100, "checkpoint_every": 250},
    },
    "paper": {
        "about": "the papers' settings: 256 px, full-width networks, 200 epochs (100 constant + 100 decay)",
        "pix2pix": {},
        "cyclegan": {},
        "data": {"load_size": 286, "crop_size": 256},
        "epochs": 200,
        "train": {"sample_every": 200, "checkpoint_every": 1000},
    },
    "high": {
        "about": "512 px crops with full-width networks, 200 epochs: sharper results, needs a GPU",
        "pix2pix": {},
        "cyclegan": {},
        "data": {"load_size": 572, "crop_size": 512},
        "epochs": 200,
        "train": {"sample_every": 200, "checkpoint_every": 1000},
    },
}
DEFAULT_PRESET = "quick"


def _route(overrides: dict, cls) -> dict:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in overrides.items() if k in names}


def resolve(
    family: str, preset: str = DEFAULT_PRESET, train_count: int = 1, overrides: dict | None = None
) -> tuple[ModelConfig, DataConfig, TrainConfig]:
    """The three configs for ``family`` from ``preset``, with ``overrides`` (any config's field names).

    ``size`` is accepted as a shortcut: crop to it, loading at the preset's load/crop ratio.
    """
    if preset not in PRESETS:
        raise ConfigError(f"preset {preset!r} is not known: choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    overrides = dict(overrides or {})
    model_cls = config_class(family)
    known = {f.name for cls in (model_cls, DataConfig, TrainConfig) for f in fields(cls)} | {"size"}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    data = {**p["data"]}
    if "size" in overrides:
        size = overrides.pop("size")
        data.update(crop_size=size, load_size=round(size * p["data"]["load_size"] / p["data"]["crop_size"]))
    train = {**p["train"]}
    if "epochs" in p:
        batch = overrides.get("batch_size", 1)
        train["iterations"] = p["epochs"] * max(1, math.ceil(train_count / batch))
    model_cfg = model_cls(**{**p[family], **_route(overrides, model_cls)}).validate()
    data_cfg = DataConfig(**{**data, **_route(overrides, DataConfig)}).validate()
    train_cfg = TrainConfig(**{**train, **_route(overrides, TrainConfig)}).validate()
    data_cfg.check_networks(model_cfg)
    return model_cfg, data_cfg, train_cfg
