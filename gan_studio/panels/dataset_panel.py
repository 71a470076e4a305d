"""The Dataset area: open a folder, see what the engine found, browse it, choose the direction."""

from __future__ import annotations

import html
import threading
from collections import Counter
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from training_core.data.discover import discover
from training_core.humanize import display_path

from ..widgets.image_view import ImageView
from ..widgets.pair_labels import direction_in_words, half_labels
from ..widgets.thumbnail_grid import ThumbnailGrid
from ..workers.images import load_fitted
from ..workers.tasks import run_task

LAYOUT_NAMES = {
    "aligned": "paired images (A|B side by side)",
    "paired": "paired folders (A/ and B/)",
    "unpaired": "unpaired folders (two domains)",
    "single": "a single folder of images",
}


def grid_items(report) -> tuple[list, bool]:
    """Thumbnail items for a report's usable files, and whether tiles are wide (pairs)."""
    items = []
    for split, part in report.splits.items():
        prefix = "" if split == "train" else f"{split}: "
        items += [(prefix + a.stem, (a, b)) for a, b in part.pairs]
        items += [(prefix + p.stem, (p,)) for p in part.images]
        items += [(f"{prefix}A: {p.stem}", (p,)) for p in part.domain_a]
        items += [(f"{prefix}B: {p.stem}", (p,)) for p in part.domain_b]
    return items, report.layout in ("aligned", "paired")


class DatasetPanel(QWidget):
    opened = Signal(object)  # DatasetReport
    direction_changed = Signal(str)

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.report = None
        self.current_folder: Path | None = None  # being opened, or open

        self.open_button = QPushButton("Open Folder…")
        self.open_button.clicked.connect(self.choose_folder)
        self.make_pairs_button = QPushButton("Make Pairs from Artworks…")
        self.make_pairs_button.setToolTip(
            "Turn a folder of your finished artworks into training pairs: their line art, greyscale, "
            "flat colours or a blurred copy as the input, the artwork as the target"
        )
        self.make_pairs_button.clicked.connect(self.make_pairs)
        self.path_label = QLabel("Open a folder of images, or drop one on the window.")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop checking this folder")
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.cancel_button.hide()
        self._scan_cancel: threading.Event | None = None
        self.direction = QComboBox()
        self.direction.addItem("A → B", "AtoB")
        self.direction.addItem("B → A", "BtoA")
        self.direction.setToolTip("Which side is the input: the model learns to turn it into the other side")
        self.direction.currentIndexChanged.connect(self._direction_chosen)
        self.direction_hint = QLabel(direction_in_words("AtoB"))
        self.direction_hint.setStyleSheet("QLabel { color: palette(mid); }")
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.make_pairs_button)
        top.addWidget(self.path_label, 1)
        top.addWidget(self.busy)
        top.addWidget(self.cancel_button)
        top.addWidget(QLabel("Direction:"))
        top.addWidget(self.direction)
        top.addWidget(self.direction_hint)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.grid = ThumbnailGrid()
        self.grid.selected.connect(self._show_preview)
        self.preview = ImageView("Select an image to see it large")
        self.rejects = QTableWidget(0, 3)
        self.rejects.setHorizontalHeaderLabels(["File", "Reason", "Detail"])
        self.rejects.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.rejects.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.rejects.verticalHeader().hide()
        # Long paths keep both ends visible ("/home/…/people-broken-07.jpg"); the whole path is the tooltip.
        self.rejects.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.rejects.setWordWrap(False)
        self.rejects.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.rejects.setColumnWidth(0, 360)
        self.rejects.hide()

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.grid)
        split.addWidget(self.preview)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(split)
        vertical.addWidget(self.rejects)
        vertical.setStretchFactor(0, 4)
        vertical.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(vertical, 1)

    # -- opening -----------------------------------------------------------------------
    def choose_folder(self) -> None:
        start = self.settings.value("dataset/last_folder", str(Path.home()))
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset folder", start)
        if folder:
            self.open_folder(folder)

    def make_pairs(self) -> None:
        """The Make Pairs dialog; the dataset it makes opens here, ready to train."""
        from ..widgets.make_pairs_dialog import MakePairsDialog

        dialog = MakePairsDialog(self.settings, self)
        dialog.dataset_made.connect(self.open_folder)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def open_folder(self, folder) -> None:
        """Discover ``folder`` in the background; the report arrives through ``opened``."""
        folder = Path(folder)
        self.cancel_scan()  # a folder still being checked is no longer wanted
        self.current_folder = folder
        self._scan_cancel = cancel = threading.Event()
        self.busy.show()
        self.cancel_button.show()
        self.open_button.setEnabled(False)
        self.path_label.setText(f"Checking every image in {display_path(folder)}…")
        run_task(
            partial(discover, cancel=cancel),
            folder,
            owner=self,
            on_result=lambda r: self._opened(folder, r),
            on_error=lambda exc: self._failed(folder, exc, cancel.is_set()),
        )

    def cancel_scan(self) -> None:
        """Stop checking the folder being opened (the scan ends within one file)."""
        if self._scan_cancel is not None:
            self._scan_cancel.set()

    def _opened(self, folder: Path, report) -> None:
        if folder != self.current_folder:
            return  # a newer folder was opened meanwhile
        self._done()
        self.report = report
        self.settings.setValue("dataset/last_folder", str(folder))
        self.path_label.setText(display_path(report.root))
        self._show_report(report)
        items, wide = grid_items(report)
        self.grid.set_items(items, wide, self._half_labels())
        self.preview.set_image(None)
        self.direction.setEnabled(report.layout != "single")
        self.opened.emit(report)

    def _half_labels(self) -> tuple[str, str] | None:
        """What the halves of this dataset's pairs are, in the chosen direction (None: not pairs)."""
        paired = self.report is not None and self.report.layout in ("aligned", "paired")
        return half_labels(self.direction.currentData()) if paired else None

    def _direction_chosen(self) -> None:
        direction = self.direction.currentData()
        self.direction_hint.setText(direction_in_words(direction))
        self.grid.set_half_labels(self._half_labels())
        self.preview.set_half_labels(self._half_labels())
        self.direction_changed.emit(direction)

    def _failed(self, folder: Path, exc: Exception, cancelled: bool = False) -> None:
        if folder != self.current_folder:
            return
        self._done()
        self.path_label.setText(display_path(folder))
        if cancelled:
            self.summary.setText(f"Checking {html.escape(display_path(folder))} was cancelled.")
            return
        self.summary.setText(f"<b style='color:#c0392b'>This folder cannot be used.</b> {html.escape(str(exc))}")

    def _done(self) -> None:
        self._scan_cancel = None
        self.busy.hide()
        self.cancel_button.hide()
        self.open_button.setEnabled(True)

    def _show_report(self, report) -> None:
        counts = [f"{split}: {report.describe_split(split)}" for split in report.splits]
        lines = [
            f"<b>{html.escape(LAYOUT_NAMES.get(report.layout, report.layout))}</b> — {html.escape(', '.join(counts))}",
            f"<span style='color:palette(mid)'>{html.escape(report.layout_reason)}</span>",
        ]
        if report.rejected:
            reasons = Counter(r.reason for r in report.rejected)
            grouped = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
            lines.append(
                f"<span style='color:#c0392b'>{len(report.rejected)} files can't be used "
                f"({html.escape(grouped)}); they are listed below and will be skipped.</span>"
            )
        lines += [f"<span style='color:#b9770e'>⚠ {html.escape(w)}</span>" for w in report.warnings]
        self.summary.setText("<br>".join(lines))
        self.rejects.setRowCount(len(report.rejected))
        for row, r in enumerate(report.rejected):
            try:
                shown = display_path(Path(r.path).relative_to(report.root))  # train/photo.jpg: what differs
            except ValueError:
                shown = display_path(r.path)
            for col, (text, tip) in enumerate(
                ((shown, display_path(r.path)), (r.reason, r.reason), (r.detail, r.detail))
            ):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.rejects.setItem(row, col, item)
        self.rejects.resizeColumnToContents(1)
        self.rejects.setVisible(bool(report.rejected))

    def _show_preview(self, paths: tuple) -> None:
        size = self.preview.size()
        run_task(
            load_fitted,
            paths,
            max(256, 2 * size.width()),
            max(256, 2 * size.height()),
            owner=self,
            on_result=lambda image: self._preview_ready(paths, image),
            on_error=lambda exc: self.preview.setText(f"Cannot show this image: {exc}"),
        )

    def _preview_ready(self, paths, image) -> None:
        current = self.grid.currentIndex()
        if current.isValid() and self.grid.thumbs.data(current, Qt.ItemDataRole.UserRole) == paths:
            pair = len(paths) == 2 or self.report.layout == "aligned"
            self.preview.set_image(image, self._half_labels() if pair else None)
