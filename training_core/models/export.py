"""The model file conversion needs: generator weights as safetensors, with their config inside.

Keys are ``<direction>.<parameter>`` ("AtoB." for pix2pix; "AtoB." and
"BtoA." for CycleGAN). The safetensors metadata carries the model config as
JSON, so a weights file alone is enough to rebuild the generator; nothing in
it is executable.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save

from ..config import ModelConfig
from ..fsutil import atomic_path
from .base import GANModel

FORMAT = "gan-studio-generator"
VERSION = "1"


def model_generators(model: GANModel) -> dict:
    return {direction: model.generator(direction) for direction in model.directions}


def save_generators(config: ModelConfig, generators: dict, path: Path) -> None:
    """Write ``{direction: generator}`` and the config that rebuilds them, atomically."""
    tensors = {
        f"{direction}.{key}": value.detach().cpu().contiguous()
        for direction, net in generators.items()
        for key, value in net.state_dict().items()
    }
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "family": config.family,
        "config": json.dumps(config.to_dict()),
        "directions": ",".join(generators),
    }
    # Serialised here and written by Python: safetensors' own writer removes its file when the disk fills
    # and says "SafetensorError"; a Python write says ENOSPC, which the caller turns into "the disk is full".
    data = save(tensors, metadata=metadata)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
