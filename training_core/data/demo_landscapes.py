"""The second demo project: simple landscapes in red-dominant (A) and blue-dominant (B) palettes.

Unpaired on purpose (different scenes in each domain, different file names), so CycleGAN learns to
repaint a red landscape in blue without ever seeing the same scene twice. Sky, sun, rolling hills
and trees; only the palette tells the domains apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..fsutil import atomic_path

PALETTES = {
    "red": {
        "sky": ((255, 196, 150), (200, 70, 60)),
        "sun": (255, 236, 170),
        "hills": [(150, 50, 40), (120, 35, 30), (90, 25, 20)],
        "tree": (70, 20, 15),
    },
    "blue": {
        "sky": ((170, 215, 255), (60, 90, 190)),
        "sun": (235, 245, 255),
        "hills": [(50, 80, 150), (35, 60, 120), (25, 40, 90)],
        "tree": (15, 25, 70),
    },
}


def landscape(rng: np.random.Generator, palette: dict, size: int = 128) -> Image.Image:
    t = np.linspace(0, 1, size)[:, None, None]
    top, bottom = np.array(palette["sky"][0]), np.array(palette["sky"][1])
    sky = (bottom * (1 - t) + top * t)[::-1]  # light at the horizon, deep at the top
    img = Image.fromarray(np.repeat(sky, size, axis=1).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.06, 0.12) * size
    cx, cy = rng.uniform(0.15, 0.85) * size, rng.uniform(0.12, 0.4) * size
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=palette["sun"])
    xs = np.arange(size + 1)
    for i, colour in enumerate(palette["hills"]):
        base = size * (0.5 + 0.15 * i + rng.uniform(-0.05, 0.05))
        amp, freq, phase = rng.uniform(4, 12) * size / 128, rng.uniform(1, 3), rng.uniform(0, 6.3)
        ys = base - amp * np.sin(xs / size * freq * 2 * np.pi + phase)
        draw.polygon([(0, size)] + list(zip(xs.tolist(), ys.tolist())) + [(size, size)], fill=colour)
    for _ in range(int(rng.integers(2, 7))):
        x, y, h = rng.uniform(0, size), rng.uniform(0.65, 0.95) * size, rng.uniform(0.08, 0.16) * size
        draw.polygon([(x, y - h), (x - h * 0.35, y), (x + h * 0.35, y)], fill=palette["tree"])
    return img


def make_landscape_demo(folder: str | Path, count: int = 40, size: int = 128, seed: int = 0) -> Path:
    """Write trainA/ (red landscapes) and trainB/ (blue landscapes) into ``folder``; existing files stay."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    for domain, name in (("trainA", "red"), ("trainB", "blue")):
        out = folder / domain
        out.mkdir(parents=True, exist_ok=True)
        for i in range(1, count + 1):
            path = out / f"{name}-{i}.png"
            image = landscape(rng, PALETTES[name], size)  # drawn even when kept: the sequence stays the same
            if not path.exists():
                with atomic_path(path) as tmp:
                    image.save(tmp, format="PNG")
    return folder


def mean_hue_blueness(img: Image.Image) -> float:
    """How blue an image is: mean of (blue - red) in [-1, 1]; red landscapes are negative."""
    a = np.asarray(img.convert("RGB"), dtype=np.float32) / 255
    return float((a[..., 2] - a[..., 0]).mean())
