"""PIL images to QImages (safe off the GUI thread, unlike QPixmap)."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QImage

from training_core.data.images import load_rgb


def to_qimage(img: Image.Image) -> QImage:
    rgb = img.convert("RGB")
    data = rgb.tobytes()
    qimage = QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: ``data`` goes away with this function


def load_fitted(paths: tuple, width: int, height: int) -> QImage:
    """One image, or several side by side (a pair), scaled to fit ``width`` x ``height``."""
    tile_w = (width - 2 * (len(paths) - 1)) // len(paths)
    tiles = []
    for path in paths:
        img = load_rgb(path, draft_size=(tile_w, height))
        img.thumbnail((tile_w, height), Image.Resampling.LANCZOS)
        tiles.append(img)
    if len(tiles) == 1:
        return to_qimage(tiles[0])
    sheet = Image.new(
        "RGB", (sum(t.width for t in tiles) + 2 * (len(tiles) - 1), max(t.height for t in tiles)), (255, 255, 255)
    )
    x = 0
    for tile in tiles:
        sheet.paste(tile, (x, 0))
        x += tile.width + 2
    return to_qimage(sheet)
