"""Sample strips: input | output | target, one row per preview image, as one picture."""

from __future__ import annotations

import torch
from PIL import Image

from ..data.transforms import to_image


def sample_strip(rows: list[tuple[torch.Tensor, ...]]) -> Image.Image:
    """Tile rows of CHW tensors in [-1, 1] into one RGB image; rows may differ in size."""
    tiles = [[to_image(t).convert("RGB") for t in row] for row in rows]
    width = max(sum(t.width for t in row) for row in tiles)
    height = sum(max(t.height for t in row) for row in tiles)
    strip = Image.new("RGB", (width, height), "white")
    y = 0
    for row in tiles:
        x = 0
        for tile in row:
            strip.paste(tile, (x, y))
            x += tile.width
        y += max(t.height for t in row)
    return strip
