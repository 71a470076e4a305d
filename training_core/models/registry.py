"""Building a family's model: the torch side of ``models.families``, whose facts load without it."""

from __future__ import annotations

from ..config import ModelConfig
from ..families import family
from .base import GANModel


def model_class(name: str) -> type[GANModel]:
    """The model class of the family called ``name`` (a ConfigError for an unknown one)."""
    return family(name).model_class()


def build_model(config: ModelConfig, device="cpu", seed: int = 0, precision: str = "fp32") -> GANModel:
    return model_class(config.family)(config, device=device, seed=seed, precision=precision)
