"""Sample strips: input | output | target, one row per image, as one picture."""

from __future__ import annotations

import torch
from PIL import Image

from ..data.transforms import to_image


def sample_strip(preview: dict[str, torch.Tensor], max_rows: int = 4) -> Image.Image:
    """Tile the model's ``preview()`` tensors (NCHW in [-1, 1]) into an RGB image."""
    columns = [preview[k] for k in ("input", "output", "target") if k in preview]
    rows = min(max_rows, columns[0].shape[0])
    tiles = [[to_image(col[r]).convert("RGB") for col in columns] for r in range(rows)]
    w, h = tiles[0][0].size
    strip = Image.new("RGB", (w * len(columns), h * rows), "white")
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            strip.paste(tile, (c * w, r * h))
    return strip
