"""The Convert area: a model, an input and an output folder; live before/after preview; batch and watch.

Clips in the folder are listed with the photos: selecting one previews the
frame its scrubber points at, the batch converts it with its frames' progress
in its row, and a converted one plays in the system's player (Play, or a
double-click on its row).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from training_core.config import ConvertConfig
from training_core.convert.clip_files import is_clip_name, iter_clip_files
from training_core.convert.settings import CONVERT_SETTINGS
from training_core.convert.statuses import CONVERTED, FAILED, SKIPPED
from training_core.data.images import iter_image_files, natural_key
from training_core.families import family
from training_core.humanize import display_path, duration

from ..widgets.compare_view import CompareView
from ..widgets.frame_scrubber import FrameScrubber
from ..workers.tasks import run_task
from .convert_editors import make_editor, save_value, saved_value, show_value, value_of

log = logging.getLogger(__name__)
NO_MODEL = "No trained model yet: train one on the Train tab, or import one on the Models tab."
STATUS_LABELS = {CONVERTED: "Converted", SKIPPED: "Skipped", FAILED: "Failed", "": "Waiting"}
OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 1  # a row's converted output (a Path), once there is one
APP_SETTINGS = [s for s in CONVERT_SETTINGS if s.in_app]


def _both_ways(entry) -> bool:
    """The model translates A to B and B to A (CycleGAN's); every other one only A to B."""
    return entry is not None and entry.record is not None and family(entry.family).both_ways


def _direction_for(entry, config) -> str:
    return config.direction if _both_ways(entry) else "AtoB"


def _has_pair_maker(entry) -> bool:
    """The model was trained on pairs made from artworks, so photos can be made into its kind of input."""
    return entry is not None and entry.record is not None and isinstance(entry.record.dataset.get("pair_maker"), dict)


def _model_label(entry) -> str:
    """ "ink · pix2pix · finished, 2000 iterations": which model, and how far it got."""
    record = entry.record
    done = f", {record.iterations} iterations" if record and record.iterations else ""
    return f"{entry.name} · {entry.family} · {entry.state}{done}"


def _folder_row(edit: QLineEdit, button: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


class ConvertPanel(QWidget):
    message = Signal(str)

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.library = None
        self.session = None
        self.preview = None
        self._rows: dict[str, QTreeWidgetItem] = {}
        self._preview_id = 0
        self.watching = False
        self._job_output: Path | None = None  # where the running or last job writes (a model's subfolder)
        self.device = "cpu"

        self.model = QComboBox()
        # One editor per setting of the list the command line is built from: same labels, same defaults.
        self.editors = {s.name: make_editor(s) for s in APP_SETTINGS}
        self.direction = self.editors["direction"]
        self.compare_with = QComboBox()
        self.compare_with.setToolTip("Show a second model's result against the first (A/B)")
        self.input_edit, self.output_edit = QLineEdit(), QLineEdit()
        self.input_edit.setPlaceholderText("Folder of photos to convert (or drop one here)")
        self.output_edit.setPlaceholderText("Folder for the results (never the input folder)")
        browse_in, browse_out = QPushButton("Browse…"), QPushButton("Browse…")
        browse_in.clicked.connect(lambda: self._browse(self.input_edit, "input"))
        browse_out.clicked.connect(lambda: self._browse(self.output_edit, "output"))
        self.input_edit.editingFinished.connect(self.refresh_files)
        self.output_edit.textChanged.connect(self._update_controls)
        self.recursive, self.skip_existing = self.editors["recursive"], self.editors["skip_existing"]
        self.tile, self.scale = self.editors["tile"], self.editors["scale"]
        self.recursive.toggled.connect(self.refresh_files)

        form = QGridLayout()
        left, right = QFormLayout(), QFormLayout()
        left.addRow("Model", self.model)
        left.addRow("Direction", self.direction)  # beside the model: only CycleGAN models have two
        left.addRow("Compare with", self.compare_with)
        left.addRow("Input folder", _folder_row(self.input_edit, browse_in))
        left.addRow("Output folder", _folder_row(self.output_edit, browse_out))
        for setting in APP_SETTINGS:
            editor = self.editors[setting.name]
            if setting.name == "direction":
                continue
            # The clips' settings under the folders, where the photos' column leaves room for them.
            column = left if setting.for_clips else right
            if setting.for_clips and not any(s.for_clips for s in APP_SETTINGS[: APP_SETTINGS.index(setting)]):
                column.addRow(QLabel("<b>Clips</b>"))
            if isinstance(editor, QCheckBox):
                column.addRow(editor)
            else:
                column.addRow(setting.label, editor)
        form.addLayout(left, 0, 0)
        form.addLayout(right, 0, 1)
        form.setColumnStretch(0, 3)
        form.setColumnStretch(1, 2)

        self.start_button = QPushButton("Convert Folder")
        self.cancel_button = QPushButton("Cancel")
        self.watch_button = QPushButton("Watch Folder")
        self.watch_button.setCheckable(True)
        self.watch_button.setToolTip("Keep converting new photos and clips as they arrive in the input folder")
        self.open_output = QPushButton("Open Output Folder")
        self.start_button.clicked.connect(lambda: self.start(watch=False))
        self.watch_button.toggled.connect(self._watch_toggled)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_output.clicked.connect(self.open_output_folder)
        self.progress = QProgressBar()
        self.state = QLabel(" ")
        self.state.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.watch_button, self.cancel_button, self.open_output):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)

        self.files = QTreeWidget()
        self.files.setHeaderLabels(["File", "Result", "Detail"])
        self.files.setRootIsDecorated(False)
        self.files.currentItemChanged.connect(self._file_selected)
        self.files.itemDoubleClicked.connect(self.play)
        self.compare = CompareView("Select a photo to see it converted")
        self.side_by_side = QCheckBox("Side by side")
        self.side_by_side.toggled.connect(self.compare.set_side_by_side)
        self.compare.view_changed.connect(self._sync_side_by_side)  # the S key switches it too
        fit, actual = QPushButton("Fit"), QPushButton("1:1")
        fit.clicked.connect(self.compare.fit)
        actual.clicked.connect(self.compare.actual_size)
        self.preview_state = QLabel(" ")
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the converted clip in the system's player (or double-click its row)")
        self.play_button.clicked.connect(lambda: self.play())
        self.scrubber = FrameScrubber()
        self.scrubber.frame_chosen.connect(self._preview_current)
        self.scrubber.hide()  # for clips only
        view_bar = QHBoxLayout()
        for w in (self.side_by_side, fit, actual, self.play_button):
            view_bar.addWidget(w)
        view_bar.addWidget(self.preview_state, 1)
        compare_box = QWidget()
        compare_layout = QVBoxLayout(compare_box)
        compare_layout.setContentsMargins(0, 0, 0, 0)
        compare_layout.addWidget(self.compare, 1)
        compare_layout.addWidget(self.scrubber)
        compare_layout.addLayout(view_bar)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.files)
        split.addWidget(compare_box)
        split.setSizes([380, 800])

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addWidget(split, 1)
        pixel_editors = [self.editors[name] for name in ("direction", "tile", "scale", "norm", "precision")]
        for combo in (self.model, self.compare_with, *pixel_editors):
            combo.currentIndexChanged.connect(self._preview_current)
        self.editors["prepare_input"].toggled.connect(self._preview_current)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.model.activated.connect(self._model_picked)
        self._model_chosen = False  # the user picked a model (or converted with one) in this session
        self._known_models: set[str] | None = None  # the models of the last refresh; None before the first
        self._restore()
        self._update_controls()

    # -- library -------------------------------------------------------------------------------
    def set_library(self, library) -> None:
        from training_core.device import pick_device

        from ..workers.convert_worker import PreviewService

        self.library = library
        self.device = pick_device("auto")
        if self.preview is None:
            self.preview = PreviewService(self)
            self.preview.ready.connect(self._preview_ready)
            self.preview.failed.connect(self._preview_failed)
        self.refresh_models()
        self.refresh_files()  # the folder of the last session, listed again

    def refresh_models(self) -> None:
        if self.library is None:
            return
        compare = self.compare_with.currentData()
        usable = [e for e in self.library.list() if e.weights_path.exists()]
        current = self._model_to_show(usable)
        for combo in (self.model, self.compare_with):
            combo.blockSignals(True)
            combo.clear()
        self.compare_with.addItem("—", None)
        for entry in usable:
            label = _model_label(entry)
            self.model.addItem(label, entry.id)
            self.compare_with.addItem(label, entry.id)
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        self.compare_with.setCurrentIndex(max(0, self.compare_with.findData(compare)))
        for combo in (self.model, self.compare_with):
            combo.blockSignals(False)
        self._model_changed()
        self._update_controls()

    def _model_to_show(self, usable) -> str:
        """The model the user chose; else one that has just appeared (trained or imported); else the newest."""
        ids = {e.id for e in usable}
        appeared = ids - self._known_models if self._known_models is not None else set()
        self._known_models = ids
        newest = [e.id for e in sorted(usable, key=lambda e: e.record.updated if e.record else "", reverse=True)]
        if appeared and not self._model_chosen:
            return next(i for i in newest if i in appeared)
        current = self.model.currentData() or (self.settings.value("convert/model", "") or "")
        if current in ids:
            return current
        return newest[0] if newest else ""

    def select_model(self, model_id: str) -> None:
        self.refresh_models()
        self.model.setCurrentIndex(max(0, self.model.findData(model_id)))
        self._model_picked()

    def _model_picked(self, *_args) -> None:
        self._model_chosen = True
        self.settings.setValue("convert/model", self.model.currentData() or "")

    def _model_changed(self) -> None:
        entry = self._entry(self.model.currentData())
        if not _both_ways(entry):
            self.direction.setCurrentIndex(0)  # one-way models translate A to B only
        self._update_controls()

    def _entry(self, model_id):
        if not model_id or self.library is None:
            return None
        try:
            return self.library.get(model_id)
        except Exception:
            return None

    # -- folders and files -----------------------------------------------------------------------
    def _browse(self, edit: QLineEdit, which: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Choose the {which} folder", edit.text() or str(Path.home()))
        if folder:
            edit.setText(folder)
            if which == "input":
                self.refresh_files()

    def set_input_folder(self, folder) -> None:
        self.input_edit.setText(str(folder))
        self.refresh_files()

    def refresh_files(self) -> None:
        folder = Path(self.input_edit.text().strip())
        if not folder.is_dir():
            self.files.clear()
            self._rows.clear()
            return
        recursive = self.recursive.isChecked()

        def listing():
            unusable = []  # what the listing leaves out (a folder named like a photo, one that cannot be read)
            found = list(iter_image_files(folder, recursive, skipped=unusable)) + iter_clip_files(folder, recursive)
            found.sort(key=lambda p: [natural_key(part) for part in p.relative_to(folder).parts])
            return found, unusable

        run_task(listing, owner=self, on_result=lambda found: self._show_files(folder, *found))

    def _show_files(self, folder: Path, paths: list[Path], unusable=()) -> None:
        if Path(self.input_edit.text().strip()) != folder:
            return  # the folder changed meanwhile
        self.files.clear()
        self._rows.clear()
        for path in paths:
            self._add_row(folder, path)
        for problem in unusable:  # listed with its reason at once: it will not convert
            item = self._add_row(folder, Path(problem.path))
            item.setText(1, STATUS_LABELS[FAILED])
            item.setText(2, f"{problem.reason}: {problem.detail}")
            item.setForeground(1, Qt.GlobalColor.red)
        self.files.resizeColumnToContents(0)
        self._update_controls()

    def _add_row(self, folder: Path, path: Path) -> QTreeWidgetItem:
        try:
            name = display_path(path.relative_to(folder))
        except ValueError:
            name = display_path(path.name)
        item = QTreeWidgetItem([name, STATUS_LABELS[""], ""])
        # The Path itself: Qt would silently drop the undecodable bytes of a name kept as text.
        item.setData(0, Qt.ItemDataRole.UserRole, path)
        self.files.addTopLevelItem(item)
        self._rows[str(path)] = item
        return item

    # -- preview -------------------------------------------------------------------------------
    def _file_selected(self, current, previous=None) -> None:
        path = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        clip = path is not None and is_clip_name(path.name)
        self.scrubber.setVisible(clip)
        self.scrubber.set_length(0.0)
        if clip:
            from training_core.convert.video_io import clip_seconds

            def show_length(seconds, path=path):
                item = self.files.currentItem()
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == path:
                    self.scrubber.set_length(seconds)

            run_task(clip_seconds, path, owner=self, on_result=show_length, on_error=lambda exc: None)
        self._update_play()
        self._preview_current()

    def _preview_current(self) -> None:
        item = self.files.currentItem()
        entry = self._entry(self.model.currentData())
        if item is None or entry is None or self.preview is None:
            return
        translators = [self._translator_spec(entry)]
        other = self._entry(self.compare_with.currentData())
        if other is not None and other.id != entry.id:
            translators.append(self._translator_spec(other))
        self.preview_state.setText("Converting the preview…")
        path = item.data(0, Qt.ItemDataRole.UserRole)
        at_s = self.scrubber.seconds() if is_clip_name(path.name) else 0.0
        self._preview_id = self.preview.request(path, translators, at_s)

    def _translator_spec(self, entry):
        from training_core.convert.model_file import translator_for_model

        config = self._config()
        direction = _direction_for(entry, config)
        key = (entry.id, entry.record.updated if entry.record else "", direction, config.tile, config.scale)
        key += (config.norm, config.precision, config.prepare_input)
        return key, entry.name, lambda: translator_for_model(entry, direction, self.device, config)

    def _preview_ready(self, request_id: int, before, after, labels) -> None:
        if request_id != self._preview_id:
            return
        self.compare.set_images(before, after, labels)
        self.preview_state.setText("Preview at reduced size; the batch converts at the chosen scale.")

    def _preview_failed(self, request_id: int, message: str) -> None:
        if request_id == self._preview_id:
            self.compare.set_images(None, None)
            self.preview_state.setText(f"Cannot preview this file: {message}")

    # -- batch ---------------------------------------------------------------------------------
    def _config(self) -> ConvertConfig:
        config = ConvertConfig(**{name: value_of(editor) for name, editor in self.editors.items()})
        config.prepare_input = config.prepare_input and _has_pair_maker(self._entry(self.model.currentData()))
        return config

    def start(self, watch: bool = False) -> bool:
        if self.session is not None:
            return False
        entry = self._entry(self.model.currentData())
        source, target = self.input_edit.text().strip(), self.output_edit.text().strip()
        if entry is None or not source or not target:
            self.state.setText("Choose a model, an input folder and an output folder.")
            return False
        from training_core.convert.batch import BatchJob
        from training_core.convert.model_file import translator_for_model

        config = self._config()
        policy = self._ask_about_other_models(entry, source, target)
        if policy is None:
            return False
        config.other_model_outputs = policy
        direction = _direction_for(entry, config)
        device = self.device

        def make_job(on_event, cancel):
            translator = translator_for_model(entry, direction, device, config)
            job = BatchJob(translator, source, target, config, entry.name, on_event, cancel, model_id=entry.id)
            self._job_output = job.output_dir
            return job

        from ..workers.convert_worker import ConvertSession

        self._save()
        for item in self._rows.values():
            item.setText(1, STATUS_LABELS[""])
            item.setText(2, "")
            item.setData(0, OUTPUT_ROLE, None)
        self._update_play()
        self.session = ConvertSession(make_job, watch, self)
        w = self.session.worker
        w.started.connect(self._on_started)
        w.file_done.connect(self._on_file_done)
        w.clip_progress.connect(self._on_clip_progress)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        self.session.ended.connect(self._on_ended)
        self.watching = watch
        self._model_picked()
        self._job_output = Path(target)
        self.session.start()
        self.state.setText("Watching the input folder…" if watch else "Converting…")
        self._update_controls()
        return True

    def _ask_about_other_models(self, entry, source: str, target: str) -> str | None:
        """Where the output folder holds another model's results: "subfolder" (the default button),
        "replace", or None (cancelled). "subfolder" where there is nothing to ask about."""
        from training_core.convert.ledger import OutputLedger
        from training_core.convert.output_paths import folder_name_for

        try:
            others = OutputLedger(Path(target), Path(source)).other_models(entry.id) if Path(target).is_dir() else {}
        except OSError:
            others = {}
        if not others:
            return "subfolder"
        subfolder = folder_name_for(entry.name)
        names = ", ".join(f"{name} ({count})" for name, count in sorted(others.items()))
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Results of another model")
        box.setText(f"{display_path(target)} already holds results of another model: {names}.")
        box.setInformativeText(
            f"Convert into the subfolder “{subfolder}” and keep them, or replace them with {entry.name}'s results?"
        )
        keep = box.addButton(f"Convert into “{subfolder}”", QMessageBox.ButtonRole.AcceptRole)
        replace = box.addButton("Replace Them", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        return {keep: "subfolder", replace: "replace"}.get(box.clickedButton())

    def _sync_side_by_side(self) -> None:
        if self.side_by_side.isChecked() != self.compare.side_by_side:
            self.side_by_side.blockSignals(True)
            self.side_by_side.setChecked(self.compare.side_by_side)
            self.side_by_side.blockSignals(False)

    def _watch_toggled(self, on: bool) -> None:
        if on and self.session is None:
            if not self.start(watch=True):
                self.watch_button.setChecked(False)
        elif not on and self.session is not None:
            self.cancel()

    def cancel(self) -> None:
        if self.session is not None:
            self.session.cancel()
            self.state.setText("Cancelling after the current image…")

    def shutdown(self) -> None:
        """Cancel a conversion and wait for the image in flight, keeping the window painted meanwhile."""
        self._save()  # the folders and choices, for the next session
        if self.preview is not None:
            self.preview.close()
            self.preview = None
        session = self.session
        if session is not None:
            session.cancel()
            session.wait_ended()

    def _on_started(self, event) -> None:
        self.progress.setRange(0, max(1, event.total))
        self.progress.setValue(0)
        log.info("converting %d images; %s", event.total, event.tiling)

    def _on_file_done(self, event) -> None:
        key = str(event.input)
        item = self._rows.get(key) or self._add_row(Path(self.input_edit.text().strip()), event.input)
        item.setText(1, STATUS_LABELS.get(event.status, event.status))
        item.setText(2, event.detail)
        item.setToolTip(2, event.detail)
        item.setData(0, OUTPUT_ROLE, event.output)
        if event.status == FAILED:
            item.setForeground(1, Qt.GlobalColor.red)
        self._update_play()
        self.progress.setRange(0, max(1, event.total))
        self.progress.setValue(event.done)
        if not self.watching:
            self.state.setText(
                f"{event.done} of {event.total} · {event.images_per_s:.2f} images/s · "
                f"ETA {duration(event.eta_s)} · {event.name}"
            )
        else:
            self.state.setText(f"Watching the input folder… last: {event.name} ({event.status})")

    def _on_clip_progress(self, event) -> None:
        item = self._rows.get(str(event.input))
        frames = f"{event.frames_done} of {event.frames_total} frames · {event.frames_per_s:.1f} frames/s"
        if item is not None:
            item.setText(1, "Converting")
            item.setText(2, frames + (f" (continued after {event.resumed_from})" if event.resumed_from else ""))
        self.state.setText(
            f"{event.done} of {event.total} · {display_path(event.input.name)}: {frames} · ETA {duration(event.eta_s)}"
        )

    def _on_finished(self, event) -> None:
        counts = event.summary
        if event.stopped:
            text = f"Stopped ({event.stopped.removeprefix('stopped: ')}): {counts}"
        else:
            text = ("Cancelled: " if event.cancelled and not self.watching else "Done: ") + counts
        if event.report_path:
            where = self._job_output
            folder = "the output folder" if str(where) == self.output_edit.text().strip() else display_path(where)
            text += f". Report: {event.report_path.name} in {folder}."
        self.state.setText(text)
        self.message.emit(text)
        log.info("%s", text)

    def _on_failed(self, message: str) -> None:
        self.state.setText(f"<span style='color:#c0392b'>{message}</span>")
        log.error("%s", message)

    def _on_ended(self) -> None:
        self.session = None
        self.watch_button.blockSignals(True)
        self.watch_button.setChecked(False)
        self.watch_button.blockSignals(False)
        self._update_controls()

    def _playable(self, item) -> Path | None:
        """The converted clip of ``item``'s row, where there is one on disk."""
        output = item.data(0, OUTPUT_ROLE) if item is not None else None
        return output if output is not None and is_clip_name(output.name) and output.is_file() else None

    def _update_play(self) -> None:
        self.play_button.setEnabled(self._playable(self.files.currentItem()) is not None)

    def play(self, item=None, _column: int = 0) -> None:
        """Open the row's converted clip in the system's player; where none opens it, say where it is."""
        clip = self._playable(item or self.files.currentItem())
        if clip is None:
            return
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(clip))):
            self.state.setText(f"Playing {display_path(clip.name)} in the system's player.")
        else:
            self.state.setText(f"No player opened the clip: it is {display_path(clip)}")

    def open_output_folder(self) -> None:
        folder = str(self._job_output) if self._job_output else self.output_edit.text().strip()
        if folder and Path(folder).is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def _update_controls(self) -> None:
        busy = self.session is not None
        ready = self.model.count() > 0
        self.start_button.setEnabled(ready and not busy)
        self.watch_button.setEnabled(ready and (not busy or self.watch_button.isChecked()))
        self.cancel_button.setEnabled(busy)
        self.open_output.setEnabled(bool(self.output_edit.text().strip()))
        for w in (self.model, self.input_edit, self.output_edit, *self.editors.values()):
            w.setEnabled(not busy)
        entry = self._entry(self.model.currentData())
        self.direction.setEnabled(not busy and _both_ways(entry))
        self.editors["prepare_input"].setEnabled(not busy and _has_pair_maker(entry))
        if not ready:
            self.state.setText(NO_MODEL)
        elif self.state.text() == NO_MODEL:
            self.state.setText("")

    # -- settings --------------------------------------------------------------------------------
    def _save(self) -> None:
        s = self.settings
        if self._model_chosen:  # otherwise the next session shows the newest model again
            s.setValue("convert/model", self.model.currentData() or "")
        s.setValue("convert/input", self.input_edit.text())
        s.setValue("convert/output", self.output_edit.text())
        for setting in APP_SETTINGS:
            if setting.name != "direction":  # follows the model
                save_value(s, setting, value_of(self.editors[setting.name]))

    def _restore(self) -> None:
        s = self.settings
        self.input_edit.setText(s.value("convert/input", ""))
        self.output_edit.setText(s.value("convert/output", ""))
        for setting in APP_SETTINGS:
            if setting.name != "direction":
                show_value(self.editors[setting.name], saved_value(s, setting))
