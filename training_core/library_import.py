"""Models trained elsewhere, brought into the library: the reference code's generator files.

Above both halves it joins: ``models.reference_import`` reads the files into a
config and generators (and knows nothing of the library); ``store`` keeps the
model. Conversion and export then treat it as any model of the library.
"""

from __future__ import annotations

from pathlib import Path

from .config import DataConfig
from .models.export import save_generators
from .models.reference_import import reference_config
from .store import ModelEntry, ModelLibrary, now_iso


def import_reference(paths: list[Path], name: str, library: ModelLibrary) -> ModelEntry:
    """A new library model from reference generator files, finished and ready to convert with.

    The files are read and checked before anything is written; the model
    appears in the library complete or not at all (``ModelLibrary.create``).
    """
    config, generators = reference_config([Path(p) for p in paths])
    return library.create(
        name,
        {
            "family": config.family,
            "model": config.to_dict(),
            "data": DataConfig().to_dict(),
            "iterations": 0,
            "imported": {
                "from": [str(Path(p).absolute()) for p in paths],
                "at": now_iso(),
                "source": "reference pix2pix/CycleGAN (PyTorch)",
            },
            # Reference checkpoints were evaluated in eval mode: keep their running statistics.
            "inference": {"norm": "running"},
            "dataset": {},
            "metrics": {},
        },
        prepare=lambda folder: save_generators(config, generators, folder / "generator.safetensors"),
        state="finished",
    )
