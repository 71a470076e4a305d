"""Before/after comparison: a draggable split line or side by side, with synchronised zoom and pan.

Mouse: wheel zooms around the pointer, dragging pans, dragging the split
handle moves the split. Keys: F fit, 1 actual pixels, + and - zoom, S switches
split / side by side, arrow keys move the split. With only one image it is a
zoomable viewer (used for training samples).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

HANDLE_PX = 8  # how close to the split line a press grabs it


class CompareView(QWidget):
    view_changed = Signal()
    side_by_side_changed = Signal(bool)  # the mode changed (the S key too): a check box showing it follows

    def __init__(self, placeholder: str = "", parent=None):
        super().__init__(parent)
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.labels = ("Before", "After")
        self.placeholder = placeholder
        self.side_by_side = False
        self.split = 0.5  # fraction of the width
        self.scale = 1.0
        self.offset = QPointF(0, 0)  # image coordinates shown at the pane's top-left
        self.fitted = True
        self._drag: str | None = None
        self._last = QPointF()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- content ---------------------------------------------------------------------------
    def set_images(self, before: QImage | None, after: QImage | None, labels=("Before", "After")) -> None:
        """Show ``after`` against ``before``; keeps the zoom if the size is unchanged."""
        same_size = self.after is not None and after is not None and after.size() == self.after.size()
        self.before, self.after, self.labels = before, after, labels
        if not same_size or self.fitted:
            self.fit()
        self.update()

    def _image_size(self):
        image = self.after or self.before
        return (image.width(), image.height()) if image else (0, 0)

    def _pane_width(self) -> float:
        return self.width() / 2 if self.side_by_side and self.before is not None else self.width()

    # -- view ------------------------------------------------------------------------------
    def fit(self) -> None:
        w, h = self._image_size()
        if not w:
            return
        pane = self._pane_width()
        self.scale = min(pane / w, self.height() / h)
        self.offset = QPointF((w - pane / self.scale) / 2, (h - self.height() / self.scale) / 2)
        self.fitted = True
        self.update()
        self.view_changed.emit()

    def actual_size(self) -> None:
        self.zoom_at(1.0 / self.scale, QPointF(self._pane_width() / 2, self.height() / 2))

    def zoom_at(self, factor: float, at: QPointF) -> None:
        """Zoom by ``factor`` keeping the image point under ``at`` (widget coordinates) in place."""
        new_scale = min(32.0, max(0.02, self.scale * factor))
        local = QPointF(at.x() % self._pane_width(), at.y())
        point = self.offset + local / self.scale
        self.scale = new_scale
        self.offset = point - local / self.scale
        self.fitted = False
        self.update()
        self.view_changed.emit()

    def pan(self, delta: QPointF) -> None:
        self.offset -= delta / self.scale
        self.fitted = False
        self.update()
        self.view_changed.emit()

    def set_side_by_side(self, on: bool) -> None:
        changed = on != self.side_by_side
        self.side_by_side = on
        self.fit()
        if changed:
            self.side_by_side_changed.emit(on)
        self.view_changed.emit()  # also without an image: the panel's box follows the S key

    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.update()
        self.view_changed.emit()

    # -- painting --------------------------------------------------------------------------
    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.fitted:
            self.fit()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        if self.after is None and self.before is None:
            painter.setPen(self.palette().mid().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        smooth = self.scale < 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        pane = self._pane_width()
        if self.before is None or self.after is None:
            self._draw(painter, self.after or self.before, QRectF(0, 0, self.width(), self.height()), 0)
        elif self.side_by_side:
            self._draw(painter, self.before, QRectF(0, 0, pane, self.height()), 0)
            self._draw(painter, self.after, QRectF(pane, 0, pane, self.height()), pane)
            painter.setPen(QPen(self.palette().mid().color(), 1))
            painter.drawLine(int(pane), 0, int(pane), self.height())
            self._label(painter, self.labels[0], 8)
            self._label(painter, self.labels[1], pane + 8)
        else:
            x = self.split * self.width()
            self._draw(painter, self.before, QRectF(0, 0, x, self.height()), 0)
            self._draw(painter, self.after, QRectF(x, 0, self.width() - x, self.height()), 0)
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(int(x), 0, int(x), self.height())
            painter.setBrush(QColor(255, 255, 255))
            painter.drawEllipse(QPointF(x, self.height() / 2), 7, 7)
            self._label(painter, self.labels[0], 8)
            self._label(
                painter, self.labels[1], self.width() - 8 - painter.fontMetrics().horizontalAdvance(self.labels[1]) - 8
            )

    def _draw(self, painter: QPainter, image: QImage, clip: QRectF, pane_x: float) -> None:
        painter.save()
        painter.setClipRect(clip)
        target = QRectF(
            pane_x - self.offset.x() * self.scale,
            -self.offset.y() * self.scale,
            image.width() * self.scale,
            image.height() * self.scale,
        )
        painter.drawImage(target, image)
        painter.restore()

    def _label(self, painter: QPainter, text: str, x: float) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(x, 8, metrics.horizontalAdvance(text) + 8, metrics.height() + 4)
        painter.fillRect(box, QColor(0, 0, 0, 140))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    # -- input -----------------------------------------------------------------------------
    def _near_split(self, x: float) -> bool:
        return (
            not self.side_by_side
            and self.before is not None
            and self.after is not None
            and abs(x - self.split * self.width()) <= HANDLE_PX
        )

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = "split" if self._near_split(event.position().x()) else "pan"
            self._last = event.position()

    def mouseMoveEvent(self, event):
        pos = event.position()
        if self._drag == "split":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._drag == "pan":
            self.pan(pos - self._last)
        else:
            shape = Qt.CursorShape.SplitHCursor if self._near_split(pos.x()) else Qt.CursorShape.OpenHandCursor
            self.setCursor(shape)
        self._last = pos

    def mouseReleaseEvent(self, event):
        self._drag = None

    def mouseDoubleClickEvent(self, event):
        self.fit()

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(1.25**steps, event.position())

    def keyPressEvent(self, event):
        key = event.key()
        center = QPointF(self._pane_width() / 2, self.height() / 2)
        if key == Qt.Key.Key_F:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.actual_size()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_at(1.25, center)
        elif key == Qt.Key.Key_Minus:
            self.zoom_at(0.8, center)
        elif key == Qt.Key.Key_S:
            self.set_side_by_side(not self.side_by_side)
        elif key == Qt.Key.Key_Left:
            self.set_split(self.split - 0.05)
        elif key == Qt.Key.Key_Right:
            self.set_split(self.split + 0.05)
        else:
            super().keyPressEvent(event)
