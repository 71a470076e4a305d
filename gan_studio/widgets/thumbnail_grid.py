"""A virtualised grid of thumbnails: only visible items are loaded, off the GUI thread, and cached.

QListView asks the model for the decoration of the rows it paints; the model
answers from its cache or with a placeholder while a worker makes the
thumbnail. Thousands of items scroll smoothly because nothing is loaded for
rows nobody looks at.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView

from ..workers.images import load_fitted
from ..workers.tasks import run_task
from .pair_labels import labelled, shortened

THUMB_HEIGHT = 96
CACHE_LIMIT = 3000


class ThumbnailModel(QAbstractListModel):
    """Items are (label, paths): one path for an image, two for a pair shown side by side."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[tuple[str, tuple[Path, ...]]] = []
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0  # results for an older item list are dropped
        self.wide = False  # pairs (two files, or one A|B file) get tiles twice as wide
        self.half_labels: tuple[str, str] | None = None  # drawn on each pair's halves: which is A, B, the input
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._placeholder = self._blank(THUMB_HEIGHT)

    def set_items(
        self, items: list[tuple[str, tuple[Path, ...]]], wide: bool = False, half_labels: tuple[str, str] | None = None
    ) -> None:
        self.beginResetModel()
        self.items = items
        self.wide = wide
        self.half_labels = half_labels if wide else None
        # The view sizes every tile like the first one it asks about (uniform sizes), which is
        # usually this placeholder: it must have the tile's shape, or pairs show only their middle.
        self._placeholder = self._blank(2 * THUMB_HEIGHT if wide else THUMB_HEIGHT)
        self._cache.clear()
        self._pending.clear()
        self._generation += 1
        self.endResetModel()

    @staticmethod
    def _blank(width: int) -> QPixmap:
        pixmap = QPixmap(width, THUMB_HEIGHT)
        pixmap.fill(QColor(128, 128, 128, 40))
        return pixmap

    def rowCount(self, parent=QModelIndex()):  # noqa: B008 (Qt's own signature)
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        label, paths = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.ToolTipRole:
            if self.half_labels and len(paths) == 2:
                return "\n".join(f"{label}: {p}" for label, p in zip(self.half_labels, paths, strict=True))
            if self.half_labels:
                return f"{str(paths[0])}\n(left: {self.half_labels[0]}, right: {self.half_labels[1]})"
            return "\n".join(str(p) for p in paths)
        if role == Qt.ItemDataRole.UserRole:
            return paths
        if role == Qt.ItemDataRole.DecorationRole:
            row = index.row()
            if row in self._cache:
                self._cache.move_to_end(row)
                return self._cache[row]
            self._request(row, paths)
            return self._placeholder
        return None

    def thumbnail_ready(self, row: int) -> bool:
        return row in self._cache

    def _request(self, row: int, paths) -> None:
        if row in self._pending:
            return
        self._pending.add(row)
        generation = self._generation
        width = 2 * THUMB_HEIGHT if self.wide else THUMB_HEIGHT
        run_task(
            load_fitted,
            paths,
            width,
            THUMB_HEIGHT,
            pool=self._pool,
            owner=self,
            on_result=lambda image: self._loaded(generation, row, image),
            on_error=lambda exc: self._loaded(generation, row, None),
        )

    def _loaded(self, generation: int, row: int, image: QImage | None) -> None:
        if generation != self._generation:
            return
        self._pending.discard(row)
        if image is None:  # unreadable since discovery: keep a visible "broken" tile
            image = QImage(THUMB_HEIGHT, THUMB_HEIGHT, QImage.Format.Format_RGB32)
            image.fill(QColor(200, 60, 60))
        elif self.half_labels:
            image = labelled(image, shortened(self.half_labels))
        self._cache[row] = QPixmap.fromImage(image)
        while len(self._cache) > CACHE_LIMIT:
            self._cache.popitem(last=False)
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class ThumbnailGrid(QListView):
    selected = Signal(tuple)  # the paths of the chosen item

    def __init__(self, parent=None):
        super().__init__(parent)
        self.thumbs = ThumbnailModel(self)
        self.setModel(self.thumbs)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)  # lets the view lay out thousands of items without asking each
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSpacing(6)
        self.set_wide(False)
        self.selectionModel().currentChanged.connect(self._current_changed)

    def set_wide(self, wide: bool) -> None:
        """Wide tiles for pairs (A|B), square ones for single images."""
        width = 2 * THUMB_HEIGHT if wide else THUMB_HEIGHT
        self.setIconSize(QSize(width, THUMB_HEIGHT))
        self.setGridSize(QSize(width + 16, THUMB_HEIGHT + 34))

    def set_items(self, items, wide: bool, half_labels: tuple[str, str] | None = None) -> None:
        self.set_wide(wide)
        self.thumbs.set_items(items, wide, half_labels)

    def set_half_labels(self, half_labels: tuple[str, str] | None) -> None:
        """Label the pairs' halves anew (the direction changed); the tiles in view are drawn again."""
        if self.thumbs.wide and half_labels != self.thumbs.half_labels:
            self.thumbs.set_items(self.thumbs.items, True, half_labels)

    def _current_changed(self, current, previous) -> None:
        if current.isValid():
            self.selected.emit(self.thumbs.data(current, Qt.ItemDataRole.UserRole))
