"""Render resources/icons/gan-studio.svg to the PNG sizes desktops ask for (run after editing the SVG).

QT_QPA_PLATFORM=offscreen python packaging/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def main() -> int:
    app = QGuiApplication(sys.argv)  # noqa: F841  (Qt needs an application for rendering)
    renderer = QSvgRenderer(str(ICONS / "gan-studio.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS / f"gan-studio-{size}.png"))
        print("wrote", ICONS / f"gan-studio-{size}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
