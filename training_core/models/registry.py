"""Family names -> config and model classes."""

from __future__ import annotations

from ..config import CycleGANConfig, ModelConfig, Pix2PixConfig
from ..errors import ConfigError
from .base import GANModel
from .cyclegan import CycleGANModel
from .pix2pix import Pix2PixModel

FAMILIES: dict[str, tuple[type[ModelConfig], type[GANModel]]] = {
    "pix2pix": (Pix2PixConfig, Pix2PixModel),
    "cyclegan": (CycleGANConfig, CycleGANModel),
}


def _lookup(family: str):
    try:
        return FAMILIES[family]
    except KeyError:
        raise ConfigError(f"model family {family!r} is not known: choose one of {', '.join(FAMILIES)}") from None


def model_class(family: str) -> type[GANModel]:
    return _lookup(family)[1]


def build_model(config: ModelConfig, device="cpu", seed: int = 0, precision: str = "fp32") -> GANModel:
    return model_class(config.family)(config, device=device, seed=seed, precision=precision)
