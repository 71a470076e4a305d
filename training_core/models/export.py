"""The model file conversion needs: generator weights as safetensors, with their config inside.

Keys are ``<direction>.<parameter>`` ("AtoB." for pix2pix; "AtoB." and
"BtoA." for CycleGAN). The safetensors metadata carries the model config as
JSON, so a weights file alone is enough to rebuild the generator; nothing in
it is executable.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save_file

from ..fsutil import atomic_path
from .base import GANModel

FORMAT = "gan-studio-generator"
VERSION = "1"


def save_generators(model: GANModel, path: Path) -> None:
    tensors = {
        f"{direction}.{key}": value.detach().cpu().contiguous()
        for direction in model.directions
        for key, value in model.generator(direction).state_dict().items()
    }
    metadata = {"format": FORMAT, "version": VERSION, "family": model.config.family,
                "config": json.dumps(model.config.to_dict()), "directions": ",".join(model.directions)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
