"""Make pairs from artworks: choose a folder and a kind, see the input side of a few artworks change live
with the settings, and create the dataset (with progress and cancel), which then opens, ready to train."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from training_core.data import pair_makers as pm
from training_core.data.images import iter_image_files, load_rgb
from training_core.errors import GanStudioError
from training_core.humanize import display_path

from ..workers.images import to_qimage
from ..workers.tasks import run_task

log = logging.getLogger(__name__)
PREVIEW_COUNT = 4
PREVIEW_SIDE = 200
KIND_LABELS = {
    "lines": ("Line art", "The model learns to paint your style over line drawings."),
    "grey": ("Greyscale", "The model learns to colour: lightness in, your colours out."),
    "flat": ("Flat colours", "The model learns to paint over flat colour regions, as over flats."),
    "blur": ("Blurred copy", "The model learns to add your detail and texture to a soft image."),
}
# The sliders: (setting, label, range), shown for the kinds they belong to.
SLIDERS = (
    ("detail", "Detail (few to many lines)", pm.DETAIL, ("lines",)),
    ("line_weight", "Line weight (px)", pm.LINE_WEIGHT, ("lines",)),
    ("colours", "Colours", pm.COLOURS, ("flat",)),
    ("strength", "Strength", pm.STRENGTH, ("blur",)),
)


class _MakeWorker(QObject):
    progress = Signal(int, int, str)
    finished = Signal(object)  # PairsReport
    failed = Signal(str)

    def __init__(self, folder: Path, output: Path, settings: pm.PairSettings, val_percent: int):
        super().__init__()
        self.args = (folder, output, settings, val_percent)
        self.cancel = threading.Event()

    @Slot()
    def run(self) -> None:
        from training_core.data.make_pairs import make_pairs

        try:
            report = make_pairs(*self.args, on_progress=self.progress.emit, cancel=self.cancel)
        except GanStudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let an exception escape the thread
            log.exception("making pairs failed")
            self.failed.emit(f"Making the pairs stopped: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(report)


class MakePairsDialog(QDialog):
    dataset_made = Signal(object)  # the new dataset's folder (Path)

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Make Pairs from Artworks")
        self.settings = settings
        self._artworks: list[Image.Image] = []  # a few, small, for the live preview
        self._preview_request = 0
        self._thread: QThread | None = None
        self._worker: _MakeWorker | None = None
        self.report = None
        self._made: Path | None = None

        self.folder_edit = QLineEdit(settings.value("pairs/folder", ""))
        self.folder_edit.setPlaceholderText("The folder of your finished artworks (only read)")
        self.folder_edit.editingFinished.connect(self._folder_changed)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self._browse(self.folder_edit, "Choose the folder of artworks"))
        self.kind = QComboBox()
        for kind in pm.KINDS:
            self.kind.addItem(KIND_LABELS[kind][0], kind)
        self.kind_hint = QLabel()
        self.kind_hint.setWordWrap(True)
        self.sliders: dict[str, QSlider] = {}
        self.slider_rows: dict[str, tuple[QLabel, QWidget]] = {}
        form = QFormLayout()
        form.addRow("Artworks", _row(self.folder_edit, browse))
        form.addRow("Input side", self.kind)
        form.addRow("", self.kind_hint)
        defaults = pm.PairSettings()
        for name, label, (least, most), _kinds in SLIDERS:
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(least, most)
            slider.setValue(getattr(defaults, name))
            value = QLabel(str(slider.value()))
            value.setMinimumWidth(24)
            slider.valueChanged.connect(lambda v, shown=value: shown.setText(str(v)))
            slider.valueChanged.connect(self._schedule_preview)
            caption = QLabel(label)
            holder = _row(slider, value, widget=True)
            form.addRow(caption, holder)
            self.sliders[name] = slider
            self.slider_rows[name] = (caption, holder)
        self.working_side = QSpinBox()
        self.working_side.setRange(*pm.WORKING_SIDE)
        self.working_side.setSingleStep(256)
        self.working_side.setValue(defaults.working_side)
        self.working_side.setSuffix(" px")
        self.working_side.setToolTip("Larger artworks are made at this size (their longer side)")
        self.val_percent = QSpinBox()
        self.val_percent.setRange(0, 50)
        self.val_percent.setValue(10)
        self.val_percent.setSuffix(" %")
        self.val_percent.setToolTip("The share of artworks held out to score the model on")
        form.addRow("Working size", self.working_side)
        form.addRow("Held out", self.val_percent)
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("A new folder for the dataset")
        out_browse = QPushButton("Browse…")
        out_browse.clicked.connect(lambda: self._browse(self.output_edit, "Choose where the dataset goes"))
        form.addRow("Dataset folder", _row(self.output_edit, out_browse))

        self.previews = QGridLayout()
        self.preview_labels: list[tuple[QLabel, QLabel]] = []
        for i in range(PREVIEW_COUNT):
            art, made = QLabel(), QLabel()
            for label in (art, made):
                label.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
                label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                label.setStyleSheet("QLabel { background: palette(base); }")
            self.previews.addWidget(art, 0, i)
            self.previews.addWidget(made, 1, i)
            self.preview_labels.append((art, made))
        self.preview_state = QLabel("Choose the folder of artworks to see their input side here.")

        self.progress = QProgressBar()
        self.progress.hide()
        self.state = QLabel(" ")
        self.state.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.create_button = self.buttons.addButton("Create Dataset", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_button.clicked.connect(self.create)
        self.cancel_button.clicked.connect(self._cancel_or_close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Artworks (top) and the input side the model will learn from (bottom):"))
        layout.addLayout(self.previews)
        layout.addWidget(self.preview_state)
        layout.addWidget(self.progress)
        layout.addWidget(self.state)
        layout.addWidget(self.buttons)

        self._preview_timer = QTimer(self, singleShot=True, interval=150)  # slider drags: one update at rest
        self._preview_timer.timeout.connect(self._update_preview)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.working_side.valueChanged.connect(self._schedule_preview)
        self._kind_changed()
        if self.folder_edit.text():
            self._folder_changed()

    # -- settings ------------------------------------------------------------------------------
    def pair_settings(self) -> pm.PairSettings:
        values = {name: slider.value() for name, slider in self.sliders.items()}
        return pm.PairSettings(kind=self.kind.currentData(), working_side=self.working_side.value(), **values)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.kind_hint.setText(KIND_LABELS[kind][1])
        for name, _label, _range, kinds in SLIDERS:
            for widget in self.slider_rows[name]:
                widget.setVisible(kind in kinds)
        self._suggest_output()
        self._schedule_preview()

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text() or str(Path.home()))
        if folder:
            edit.setText(folder)
            if edit is self.folder_edit:
                self._folder_changed()

    def _suggest_output(self) -> None:
        """ "<artworks> pairs (lines)" beside the artworks, until the user types their own."""
        folder = self.folder_edit.text().strip()
        if folder and (not self.output_edit.text() or self.output_edit.property("suggested")):
            source = Path(folder)
            self.output_edit.setText(str(source.parent / f"{source.name} pairs ({self.kind.currentData()})"))
            self.output_edit.setProperty("suggested", True)

    # -- the live preview ------------------------------------------------------------------------
    def _folder_changed(self) -> None:
        folder = Path(self.folder_edit.text().strip())
        self.output_edit.setProperty("suggested", self.output_edit.property("suggested") or not self.output_edit.text())
        self._suggest_output()
        if not folder.is_dir():
            self._artworks = []
            self.preview_state.setText(f"{display_path(folder)} is not a folder.")
            return
        self.preview_state.setText("Reading a few artworks…")
        run_task(_first_artworks, folder, owner=self, on_result=self._artworks_loaded)

    def _artworks_loaded(self, artworks) -> None:
        self._artworks = artworks
        if not artworks:
            self.preview_state.setText("No artwork in this folder could be read (PNG, JPEG, WebP, TIFF, BMP).")
        self._schedule_preview()

    def _schedule_preview(self, *_args) -> None:
        self._preview_timer.start()

    def _update_preview(self) -> None:
        if not self._artworks:
            return
        self._preview_request += 1
        request, settings = self._preview_request, self.pair_settings()
        run_task(
            _made_sides,
            self._artworks,
            settings,
            owner=self,
            on_result=lambda made: self._show_preview(request, made),
            on_error=lambda exc: self.preview_state.setText(f"Cannot make the input side: {exc}"),
        )

    def _show_preview(self, request: int, made) -> None:
        if request != self._preview_request:
            return  # a newer setting is on its way
        for (art_label, made_label), art, side in zip(self.preview_labels, self._artworks, made):
            art_label.setPixmap(QPixmap.fromImage(to_qimage(art)))
            made_label.setPixmap(QPixmap.fromImage(to_qimage(side)))
        for art_label, made_label in self.preview_labels[len(made) :]:
            art_label.clear()
            made_label.clear()
        self.preview_state.setText(
            f"{len(made)} of the artworks, reduced; the dataset is made at up to {self.working_side.value()} px."
        )

    # -- making the dataset ---------------------------------------------------------------------
    def create(self) -> None:
        folder, output = self.folder_edit.text().strip(), self.output_edit.text().strip()
        if not folder or not output:
            self.state.setText("Choose the folder of artworks and a folder for the dataset.")
            return
        self.settings.setValue("pairs/folder", folder)
        self._worker = _MakeWorker(Path(folder), Path(output), self.pair_settings(), self.val_percent.value())
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        for signal in (self._worker.finished, self._worker.failed):
            signal.connect(self._thread.quit)
        self._thread.finished.connect(self._on_thread_done)
        self.create_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.state.setText("Making the pairs…")
        self._thread.start()

    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.state.setText(f"{done} of {total} · {display_path(name)}")

    def _on_finished(self, report) -> None:
        self.report = report
        if report.cancelled:
            self.state.setText(f"Cancelled: {report.summary()}.")
            return
        rejected = "".join(f"<br>not used: {display_path(n)}: {why}" for n, why in list(report.rejected.items())[:8])
        self.state.setText(f"Made {report.summary()} in {display_path(report.output)}.{rejected}")
        self._made = report.output  # handed on and closed once the thread has ended (see _on_thread_done)

    def _on_failed(self, message: str) -> None:
        self.state.setText(f"<span style='color:#c0392b'>{message}</span>")

    def _on_thread_done(self) -> None:
        self.progress.hide()
        self.create_button.setEnabled(True)
        self._thread.deleteLater()
        self._worker.deleteLater()
        self._thread = self._worker = None
        if self._made is not None:  # only now: closing frees the dialog, which must not own a running thread
            self.dataset_made.emit(self._made)
            self.accept()

    def _cancel_or_close(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
            self.state.setText("Cancelling after the current artwork…")
        else:
            self.reject()

    def wait_until_done(self) -> None:
        """Cancel a running job and wait for it (the window closes with it)."""
        if self._thread is not None:
            self._worker.cancel.set()
            self._thread.quit()  # its own quit is queued to this thread, which is about to block
            self._thread.wait()

    def closeEvent(self, event) -> None:
        self.wait_until_done()
        super().closeEvent(event)


def _first_artworks(folder: Path) -> list[Image.Image]:
    """Up to PREVIEW_COUNT artworks of ``folder``, small; unreadable ones are passed over."""
    found = []
    for path in iter_image_files(folder):
        try:
            image = load_rgb(path, draft_size=(2 * PREVIEW_SIDE, 2 * PREVIEW_SIDE))
        except GanStudioError:
            continue
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.LANCZOS)
        found.append(image)
        if len(found) == PREVIEW_COUNT:
            break
    return found


def _made_sides(artworks: list[Image.Image], settings: pm.PairSettings) -> list[Image.Image]:
    return [pm.make_input(art, settings) for art in artworks]


def _row(*widgets, widget: bool = False):
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        row.addWidget(w, 1 if i == 0 else 0)
    if not widget:
        return row
    holder = QWidget()
    holder.setLayout(row)
    return holder
