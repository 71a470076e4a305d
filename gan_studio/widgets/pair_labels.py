"""Which half of a pair is A and which is B, and which of them is the input, drawn where pairs are shown.

A pair is shown as one picture, A on the left and B on the right (an A|B file, or two files side by
side); the direction decides which half the model takes as its input. Without the labels the two
directions look the same, and a wrong one costs a whole run.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter


def half_labels(direction: str) -> tuple[str, str]:
    """Labels for the left (A) and right (B) halves of a pair, in ``direction`` ("AtoB" or "BtoA")."""
    return ("A · input", "B · target") if direction != "BtoA" else ("A · target", "B · input")


def shortened(labels: tuple[str, str]) -> tuple[str, str]:
    """``half_labels`` for thumbnails, where a half can be 32 pixels wide: "A in" and "B"."""
    return tuple(label.replace(" · input", " in").replace(" · target", "") for label in labels)


def direction_in_words(direction: str) -> str:
    return (
        "A is the input; the model learns to make B"
        if direction != "BtoA"
        else "B is the input; the model learns to make A"
    )


def draw_half_labels(painter: QPainter, area: QRectF, labels: tuple[str, str], point_size: float = 8.0) -> None:
    """A dark badge with each label at the top-left corner of each half of ``area``."""
    painter.save()
    font = QFont(painter.font())
    font.setPointSizeF(point_size)
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    for i, text in enumerate(labels):
        x = area.left() + i * area.width() / 2 + 3
        box = QRectF(x, area.top() + 3, metrics.horizontalAdvance(text) + 6, metrics.height() + 2)
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


def labelled(image: QImage, labels: tuple[str, str]) -> QImage:
    """A copy of ``image`` (a pair, A|B) with its halves labelled, the text sized to the picture."""
    out = image.convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(out)
    point_size = max(5.0, min(7.0, out.height() / 8))
    draw_half_labels(painter, QRectF(0, 0, out.width(), out.height()), labels, point_size)
    painter.end()
    return out
