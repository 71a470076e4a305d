"""The built-in demo project: line drawings of simple shapes and their painted versions.

Generated, not shipped, so any size works and nothing large sits in the repo.
Each shape kind has its own paint colour (circles red, squares blue,
triangles gold) over a fixed sky-to-sand background, so a model can really
learn the mapping and a first training shows visible progress in minutes.
Layout: pix2pix "aligned" (outline on the left = A, painting on the right = B).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..fsutil import atomic_path

PAINT = {"circle": (214, 64, 56), "square": (52, 101, 196), "triangle": (232, 178, 42)}
SKY, SAND = np.array([150, 200, 235]), np.array([236, 214, 170])

DEMO_NAMES = {"shapes": "Demo shapes", "landscapes": "Demo landscapes"}  # new models' names, CLI and app


def _background(size: int) -> Image.Image:
    t = np.linspace(0.0, 1.0, size)[:, None, None]
    rows = (SKY * (1 - t) + SAND * t).astype(np.uint8)
    return Image.fromarray(np.repeat(rows, size, axis=1))


def _shape_box(kind: str, rng: np.random.Generator, size: int) -> list:
    r = rng.uniform(0.10, 0.22) * size
    cx, cy = rng.uniform(r, size - r, 2)
    if kind == "triangle":
        return [(cx, cy - r), (cx + r * 0.95, cy + r * 0.8), (cx - r * 0.95, cy + r * 0.8)]
    return [cx - r, cy - r, cx + r, cy + r]


def demo_pair(rng: np.random.Generator, size: int = 128) -> tuple[Image.Image, Image.Image]:
    """One (outline, painting) pair of ``size`` x ``size`` images."""
    outline = Image.new("RGB", (size, size), "white")
    painting = _background(size)
    draw_o, draw_p = ImageDraw.Draw(outline), ImageDraw.Draw(painting)
    width = max(1, size // 64)
    for _ in range(int(rng.integers(2, 5))):
        kind = str(rng.choice(list(PAINT)))
        box = _shape_box(kind, rng, size)
        style = {"fill": PAINT[kind], "outline": (30, 30, 30), "width": width}
        # White fill hides what the shape covers, so the drawing matches the painting.
        line = {"fill": "white", "outline": (0, 0, 0), "width": width}
        if kind == "circle":
            draw_p.ellipse(box, **style)
            draw_o.ellipse(box, **line)
        elif kind == "square":
            draw_p.rectangle(box, **style)
            draw_o.rectangle(box, **line)
        else:
            draw_p.polygon(box, **style)
            draw_o.polygon(box, **line)
    return outline, painting


def make_demo_dataset(folder: str | Path, train: int = 48, val: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write the demo project (aligned pairs in train/ and val/) into ``folder`` and return it.

    Existing files are left alone: a folder that already holds the demo is reused.
    """
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        out = folder / split
        out.mkdir(parents=True, exist_ok=True)
        for i in range(1, count + 1):
            outline, painting = demo_pair(rng, size)
            path = out / f"{i}.png"
            if path.exists():
                continue
            pair = Image.new("RGB", (2 * size, size))
            pair.paste(outline, (0, 0))
            pair.paste(painting, (size, 0))
            with atomic_path(path) as tmp:  # a half-written file would be reused forever
                pair.save(tmp, format="PNG")
    return folder
