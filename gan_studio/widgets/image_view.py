"""A label that shows an image scaled to fit, keeping its aspect ratio, as the widget resizes."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy

from .pair_labels import draw_half_labels


class ImageView(QLabel):
    def __init__(self, placeholder: str = "", parent=None):
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self.half_labels: tuple[str, str] | None = None  # a pair (A|B): which half is A, B, the input
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(120, 90)
        self.setStyleSheet("QLabel { color: palette(mid); }")
        self.setText(placeholder)

    def set_image(self, image: QImage | QPixmap | None, half_labels: tuple[str, str] | None = None) -> None:
        self.half_labels = half_labels
        self.update()
        if image is None or image.isNull():
            self._pixmap = None
            self.setPixmap(QPixmap())
            self.setText(self._placeholder)
            return
        self._pixmap = QPixmap.fromImage(image) if isinstance(image, QImage) else image
        self._rescale()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def set_half_labels(self, half_labels: tuple[str, str] | None) -> None:
        if self._pixmap is not None and self.half_labels is not None:
            self.half_labels = half_labels
            self.update()

    def paintEvent(self, event):
        super().paintEvent(event)
        shown = self.pixmap()
        if self.half_labels and self._pixmap is not None and not shown.isNull():
            area = self.contentsRect()
            size = shown.deviceIndependentSize()
            left = area.left() + (area.width() - size.width()) / 2
            top = area.top() + (area.height() - size.height()) / 2
            painter = QPainter(self)
            draw_half_labels(painter, QRectF(left, top, size.width(), size.height()), self.half_labels, 10)
            painter.end()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is None:
            return
        size = self.contentsRect().size()
        # Pixel art and small samples stay crisp when enlarged; photos get smooth scaling when shrunk.
        smooth = self._pixmap.width() > size.width() or self._pixmap.height() > size.height()
        mode = Qt.TransformationMode.SmoothTransformation if smooth else Qt.TransformationMode.FastTransformation
        self.setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))
