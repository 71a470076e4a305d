"""Named starting points for a run: a quick CPU-friendly one, the papers' settings, a high-quality one.

A preset fills the model, data and training configs; explicit overrides win. Its model settings
are each family's own (``Family.presets``); the data and the run's are shared.
Run lengths given in epochs become iterations once the dataset size is known.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from . import options
from .config import DataConfig, ModelConfig, TrainConfig
from .errors import ConfigError
from .families import family as family_of

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "about": "slim networks at 128 px: learns something visible in minutes on a laptop CPU",
        "data": {"load_size": 143, "crop_size": 128},
        "train": {"iterations": 2000, "sample_every": 100, "checkpoint_every": 250},
    },
    "paper": {
        "about": "the papers' settings: 256 px, full-width networks, 200 epochs (100 constant + 100 decay)",
        "data": {"load_size": 286, "crop_size": 256},
        "epochs": 200,
        "train": {"sample_every": 200, "checkpoint_every": 1000},
    },
    "high": {
        "about": "512 px crops with full-width networks, 200 epochs: sharper results, needs a GPU",
        "data": {"load_size": 572, "crop_size": 512},
        "epochs": 200,
        "train": {"sample_every": 200, "checkpoint_every": 1000},
    },
}
DEFAULT_PRESET = "quick"


def _route(values: dict, section: str) -> dict:
    return {k: v for k, v in values.items() if options.BY_NAME[k].section == section}


def resolve(
    family: str, preset: str = DEFAULT_PRESET, train_count: int = 1, overrides: dict | None = None
) -> tuple[ModelConfig, DataConfig, TrainConfig]:
    """The three configs for ``family`` from ``preset``, with ``overrides`` (names from ``options.SETTINGS``).

    A crop size given without a load size loads at the preset's load/crop ratio.
    """
    if preset not in PRESETS:
        raise ConfigError(f"preset {preset!r} is not known: choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    fam = family_of(family)
    overrides = {options.ALIASES.get(k, k): v for k, v in (overrides or {}).items()}
    unknown = sorted(set(overrides) - {s.name for s in options.SETTINGS})
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    other_family = sorted(k for k in overrides if not options.BY_NAME[k].applies_to(family))
    if other_family:
        raise ConfigError(f"{', '.join(other_family)} do(es) not apply to {family}")
    for name, value in overrides.items():  # what the user gave is checked before anything derived from it
        options.BY_NAME[name].check(value)
    data = {**p["data"]}
    if "crop_size" in overrides and "load_size" not in overrides:
        ratio = p["data"]["load_size"] / p["data"]["crop_size"]
        # Never a load size beyond the limit that the user did not ask for: at worst no margin to crop from.
        data["load_size"] = min(round(overrides["crop_size"] * ratio), options.MAX_IMAGE_SIZE)
    model_cfg = fam.config(**{**fam.presets.get(preset, {}), **_route(overrides, "model")}).validate()
    data_cfg = DataConfig(**{**data, **_route(overrides, "data")}).validate()
    train_cfg = TrainConfig(**{**p["train"], **_route(overrides, "train")}).validate()
    data_cfg.check_networks(model_cfg)
    return model_cfg, data_cfg, run_length(train_cfg, preset, train_count, overrides)


def run_length(train_cfg: TrainConfig, preset: str, train_count: int, overrides: dict | None = None) -> TrainConfig:
    """``train_cfg`` with a preset's length in epochs counted in iterations of ``train_count`` items
    (a batch each); a length given in ``overrides`` wins. A new run knows its epoch's length only
    once its plan has held images out, which needs the other settings first."""
    epochs = PRESETS[preset].get("epochs")
    if epochs is None or "iterations" in (overrides or {}):
        return train_cfg
    iterations = epochs * max(1, math.ceil(train_count / train_cfg.batch_size))
    return dataclasses.replace(train_cfg, iterations=iterations).validate()


def defaults(family: str, preset: str = DEFAULT_PRESET, train_count: int = 1) -> dict:
    """Every setting's value for ``family`` under ``preset``, by setting name."""
    configs = dict(zip(("model", "data", "train"), resolve(family, preset, train_count)))
    return {s.name: getattr(configs[s.section], s.name) for s in options.for_family(family)}
