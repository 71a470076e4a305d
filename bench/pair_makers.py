"""Pair makers on real photos: milliseconds per artwork for each kind at two working sizes, and the
README's picture of each kind's input side beside the artworks.

    python bench/pair_makers.py [--quick] [--picture docs/screenshots/pair-kinds.jpg]

Uses ../shared/photos (the artworks here); prints one RESULT line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import SHARED, cpu_name, result
from PIL import Image, ImageDraw, ImageFont

from training_core.data.images import iter_image_files, load_rgb
from training_core.data.pair_makers import KINDS, PairSettings, make_input, working_copy

PHOTOS = SHARED / "photos"
PICTURE_ROWS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")
CELL = 240
LABELS = {"lines": "lines", "grey": "grey", "flat": "flat (8 colours)", "blur": "blur"}


def timings(photos: list[Path], sides: tuple[int, ...], repeats: int) -> dict[tuple[str, int], float]:
    """Median milliseconds per artwork, per (kind, working side)."""
    result = {}
    for side in sides:
        arts = [working_copy(load_rgb(p), side) for p in photos]
        for kind in KINDS:
            settings = PairSettings(kind=kind, working_side=side)
            make_input(arts[0], settings)  # warm-up: OpenCV's first call sets up its thread pool
            runs = []
            for _ in range(repeats):
                start = time.perf_counter()
                for art in arts:
                    make_input(art, settings)
                runs.append((time.perf_counter() - start) / len(arts) * 1000)
            result[(kind, side)] = statistics.median(runs)
    return result


def picture(path: Path) -> None:
    font = ImageFont.load_default(size=18)
    rows = [working_copy(load_rgb(PHOTOS / name), 512) for name in PICTURE_ROWS if (PHOTOS / name).exists()]
    header = 30
    sheet = Image.new("RGB", (CELL * (1 + len(KINDS)), header + CELL * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for col, title in enumerate(["artwork (B)", *(LABELS[k] + " (A)" for k in KINDS)]):
        draw.text((col * CELL + 8, 6), title, fill=(40, 40, 40), font=font)
    for r, art in enumerate(rows):
        for col, image in enumerate([art, *(make_input(art, PairSettings(kind=k)) for k in KINDS)]):
            tile = image.copy()
            tile.thumbnail((CELL - 6, CELL - 6), Image.Resampling.LANCZOS)
            x = col * CELL + (CELL - tile.width) // 2
            y = header + r * CELL + (CELL - tile.height) // 2
            sheet.paste(tile, (x, y))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=85, optimize=True)
    print(f"picture: {path}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one repetition, one size")
    p.add_argument("--picture", type=Path, help="also write the README's picture here")
    args = p.parse_args()
    if not PHOTOS.is_dir():
        print(f"no photos at {PHOTOS}", file=sys.stderr)
        return 2
    photos = list(iter_image_files(PHOTOS))
    sides = (512,) if args.quick else (512, 1024)
    figures = timings(photos, sides, repeats=1 if args.quick else 3)
    print(f"CPU: {cpu_name()}, {len(photos)} photos of mixed sizes (never enlarged to the working size)")
    for (kind, side), ms in figures.items():
        print(f"{kind:6} at {side:5} px: {ms:7.1f} ms per artwork")
    if args.picture:
        picture(args.picture)
    result("pair_makers", **{f"{kind}_{side}_ms": ms for (kind, side), ms in figures.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
