"""The Models area: the library with each model's state; resume, continue, rename, delete, reveal."""

from __future__ import annotations

import contextlib
import importlib
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QFileSystemWatcher, QSize, QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from training_core.convert.onnx_extras import missing_extras
from training_core.errors import GanStudioError
from training_core.families import family

from ..workers.tasks import run_task

STATE_LABELS = {
    "new": "New",
    "running": "Training…",
    "paused": "Paused",
    "interrupted": "Interrupted",
    "finished": "Finished",
    "failed": "Failed",
    "damaged": "Damaged",
}
# Buttons whose label changes keep the width of their widest label: the row never shifts under the
# pointer (a click meant for Delete once opened Export ONNX).
LABELS = {"resume_button": ("Resume", "Continue Training…"), "export_button": ("Export ONNX…", "Exporting…")}
COLUMNS = ["Name", "Family", "State", "Iterations", "Direction", "Dataset", "Updated"]
DIRECTIONS = {"AtoB": "A → B", "BtoA": "B → A"}
REFRESH_DELAY_MS = 300  # a training run rewrites model.json in bursts: one refresh per burst
# While a model trains, its lock is checked this often: a killed process writes nothing a folder
# watcher could see, only the kernel drops its lock, and the list must say "Interrupted" at once.
RUN_LOCK_POLL_MS = 1000


def _done(entry) -> int:
    """Iterations trained: live progress while running, else what the last checkpoint holds."""
    record = entry.record
    if record is None:
        return 0
    return (record.progress or record.iterations) if entry.state == "running" else record.iterations


def _state_label(entry) -> str:
    """ "Paused" while an open app holds the run paused; a run that ended with a checkpoint is "Stopped"."""
    if entry.state == "paused" and not entry.in_use:
        return "Stopped"
    return STATE_LABELS.get(entry.state, entry.state)


def _columns(entry) -> list[str]:
    """The row of one model; a damaged one shows its folder and what is wrong."""
    r = entry.record
    if r is None:
        return [entry.id, "?", f"Damaged: {entry.damage}", "", "", "", ""]
    return [
        entry.name,
        r.family,
        _state_label(entry),
        "imported" if r.imported else f"{_done(entry):,} / {r.total_iterations:,}",
        "both ways" if family(r.family).both_ways else DIRECTIONS.get(r.direction, ""),
        str(r.dataset.get("root", "")),
        r.updated.replace("T", " ")[:16],
    ]


class ModelsPanel(QWidget):
    resume_requested = Signal(str, object)  # model id, new total iterations (or None)
    convert_requested = Signal(str)  # model id
    library_changed = Signal()  # models appeared, went or were renamed
    states_changed = Signal()  # a model started, paused, stopped or died (in any process)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.library = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._library_changed_on_disk)
        self._refresh_soon = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._refresh_soon.timeout.connect(self._refresh_from_disk)
        self._running = []  # entries read as running at the last refresh
        self._lock_poll = QTimer(self, interval=RUN_LOCK_POLL_MS)
        self._lock_poll.timeout.connect(self._check_running)
        self._onnx_missing = missing_extras()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setIconSize(QSize(96, 32))
        self.tree.setSortingEnabled(False)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.resume_selected())
        self.empty = QLabel("No models yet. Train one on the Train tab; it will appear here.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.resume_button = QPushButton("Resume")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        self.reveal_button = QPushButton("Show in File Manager")
        self.convert_button = QPushButton("Convert with…")
        self.export_button = QPushButton("Export ONNX…")
        self.import_button = QPushButton("Import Checkpoint…")
        self.import_button.setToolTip(
            "Import latest_net_G.pth (pix2pix) or latest_net_G_A.pth + latest_net_G_B.pth "
            "(CycleGAN) from the reference PyTorch implementation"
        )
        self.convert_button.clicked.connect(
            lambda: self.selected_id() and self.convert_requested.emit(self.selected_id())
        )
        self.export_button.clicked.connect(self.export_selected)
        self.import_button.clicked.connect(self.import_checkpoint)
        self.resume_button.clicked.connect(self.resume_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.reveal_button.clicked.connect(self.reveal_selected)
        for attribute, labels in LABELS.items():
            button = getattr(self, attribute)
            button.setFixedWidth(max(_width_with_label(button, label) for label in labels))
        self.export_button.installEventFilter(self)  # the pointer on it asks again whether ONNX is installed
        buttons = QHBoxLayout()
        for b in (
            self.resume_button,
            self.convert_button,
            self.rename_button,
            self.delete_button,
            self.export_button,
            self.reveal_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_library(self, library) -> None:
        self.library = library
        self.refresh()

    def eventFilter(self, watched, event) -> bool:
        if watched is self.export_button and event.type() in (QEvent.Type.Enter, QEvent.Type.ToolTip):
            self._recheck_onnx()
        return super().eventFilter(watched, event)

    def _recheck_onnx(self) -> None:
        """The packages may have been installed since the app started: no restart needed."""
        importlib.invalidate_caches()
        missing = missing_extras()
        if missing != self._onnx_missing:
            self._onnx_missing = missing
            self._update_buttons()

    def _library_changed_on_disk(self, _path: str) -> None:
        """A model was trained, renamed or removed by any process (this one too): refresh once it settles."""
        self._refresh_soon.start()

    def _watch(self, entries) -> None:
        """The library folder (models appear and go) and each model folder (model.json is replaced on writes)."""
        watched = self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        with contextlib.suppress(OSError):  # a library on a read-only disk is shown all the same
            self.library.root.mkdir(parents=True, exist_ok=True)
        folders = [str(self.library.root)] + [str(e.path) for e in entries]
        self._watcher.addPaths([f for f in folders if Path(f).is_dir()])

    def refresh(self) -> None:
        if self.library is None:
            return
        entries = self.library.list()
        self._running = [e for e in entries if e.state == "running"]
        self._lock_poll.start() if self._running else self._lock_poll.stop()
        # Nothing chosen yet: the latest unfinished model, ready to Resume.
        unfinished = (e.id for e in entries if e.can_resume)
        selected = self.selected_id() or next(unfinished, None)
        self.tree.clear()
        self._watch(entries)
        for entry in entries:
            item = QTreeWidgetItem(_columns(entry))
            if entry.damage:
                item.setToolTip(2, f"{entry.damage}. Delete it, or restore its model.json from a backup.")
                item.setForeground(2, Qt.GlobalColor.red)
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setData(2, Qt.ItemDataRole.UserRole, entry.state)
            item.setData(1, Qt.ItemDataRole.UserRole, bool(entry.record and entry.record.imported))
            item.setData(3, Qt.ItemDataRole.UserRole, entry.in_use)
            item.setData(4, Qt.ItemDataRole.UserRole, entry.weights_problem)  # a folder or a pipe is none
            if entry.sample_path.exists():
                item.setIcon(0, QIcon(QPixmap(str(entry.sample_path)).scaledToHeight(32)))
            self.tree.addTopLevelItem(item)
            if entry.id == selected:
                item.setSelected(True)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        has_models = self.tree.topLevelItemCount() > 0
        self.empty.setVisible(not has_models)
        self.tree.setVisible(has_models)
        self._update_buttons()

    def _check_running(self) -> None:
        """Read the state again (as ``gan-studio-models list`` does) once a running model's lock is gone."""
        if any(not entry.in_use for entry in self._running):
            self._refresh_from_disk()

    def _listed(self) -> list[tuple[str, str]]:
        items = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        return [(item.data(0, Qt.ItemDataRole.UserRole), item.data(2, Qt.ItemDataRole.UserRole)) for item in items]

    def _refresh_from_disk(self) -> None:
        known = self._listed()
        self.refresh()
        now = self._listed()
        if [key for key, _ in now] != [key for key, _ in known]:
            self.library_changed.emit()  # the Convert tab's model list follows
        if now != known:
            self.states_changed.emit()  # the Train tab's card of unfinished runs follows

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _selected_state(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(2, Qt.ItemDataRole.UserRole) if items else None

    def _update_buttons(self) -> None:
        """Each action enabled when it can work, and when it cannot, its tooltip says why."""
        state = self._selected_state()
        items = self.tree.selectedItems()
        imported = bool(items and items[0].data(1, Qt.ItemDataRole.UserRole))
        in_use = bool(items and items[0].data(3, Qt.ItemDataRole.UserRole))
        weights_problem = items[0].data(4, Qt.ItemDataRole.UserRole) if items else ""
        if state is None:
            blocked = "Select a model first"
        elif state == "damaged":
            blocked = "This model's model.json is damaged: it can only be deleted or shown in the file manager"
        elif in_use:
            blocked = "This model is training right now: stop it on the Train tab first"
        else:
            blocked = ""
        no_weights = blocked or weights_problem[:1].upper() + weights_problem[1:]
        reasons = {
            self.resume_button: blocked or ("Imported models have no training state to continue" if imported else ""),
            self.rename_button: blocked,
            self.delete_button: "" if state == "damaged" else blocked,
            self.reveal_button: "" if state is not None else blocked,
            self.convert_button: no_weights,
            self.export_button: no_weights or self._onnx_missing,
        }
        tips = {
            self.convert_button: "Open this model in the Convert tab",
            self.export_button: "Export the generator for use outside GAN Studio",
        }
        for button, reason in reasons.items():
            button.setEnabled(not reason)
            button.setToolTip(reason or tips.get(button, ""))
        self.resume_button.setText("Continue Training…" if state == "finished" else "Resume")

    def resume_selected(self) -> None:
        key, state = self.selected_id(), self._selected_state()
        if key is None or state == "running":
            return
        iterations = None
        if state == "finished":
            entry = self.library.get(key)
            done = entry.require().iterations
            value, ok = QInputDialog.getInt(
                self,
                "Continue training",
                f"{entry.name} has trained {done:,} iterations. Train up to this many iterations in total:",
                done * 2 or 1000,
                done + 1,
                100_000_000,
                100,
            )
            if not ok:
                return
            iterations = value
        self.resume_requested.emit(key, iterations)

    def rename_selected(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        entry = self.library.get(key)
        name, ok = QInputDialog.getText(self, "Rename model", "New name:", text=entry.name)
        if ok and name.strip() and name.strip() != entry.name:
            try:
                self.library.rename(key, name)
            except GanStudioError as exc:
                QMessageBox.warning(self, "Cannot rename", str(exc))
            self.refresh()
            self.library_changed.emit()

    def delete_selected(self) -> None:
        key = self.selected_id()
        if key is not None:
            self.delete_model(key)

    def delete_model(self, key: str) -> None:
        """Delete a model of the library after asking (from this list, or the Train tab's resume card)."""
        try:
            entry = self.library.get(key)
        except GanStudioError:  # gone or renamed meanwhile
            self.refresh()
            self.library_changed.emit()
            return
        answer = QMessageBox.question(
            self,
            "Delete model",
            f"Delete “{entry.name}” with all its checkpoints and samples?\n\n{entry.path}\n\nThis cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.library.delete(key)
        except GanStudioError as exc:
            QMessageBox.warning(self, "Cannot delete", str(exc))
        self.refresh()
        self.library_changed.emit()

    def export_selected(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        self._recheck_onnx()
        if self._onnx_missing:
            return
        entry = self.library.get(key)
        direction = self._export_direction(entry)
        if direction is None:
            return
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        stem = entry.name.replace("/", "-").replace("\\", "-")  # its name as the artist knows it
        both_ways = entry.record is not None and len(entry.record.generator_directions) > 1
        file_name = f"{stem} {direction}.onnx" if both_ways else f"{stem}.onnx"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to ONNX", str(Path(documents) / file_name), "ONNX models (*.onnx)"
        )
        if not path:
            return
        from training_core.convert.onnx_export import export_onnx

        # The dialog asked before replacing the file it returned; a name typed without .onnx gets it.
        confirmed = path.lower().endswith(".onnx")
        path = path if confirmed else path + ".onnx"
        self.export_button.setEnabled(False)
        self.export_button.setText("Exporting…")  # a minute or so for a full-size generator

        def done():
            self.export_button.setText("Export ONNX…")
            self._update_buttons()

        run_task(
            partial(export_onnx, direction=direction, overwrite=confirmed),
            entry,
            path,
            owner=self,
            on_result=lambda p: (done(), QMessageBox.information(self, "Exported", f"Saved {p}")),
            on_error=lambda exc: (done(), QMessageBox.warning(self, "Cannot export", str(exc))),
        )

    def _export_direction(self, entry) -> str | None:
        """The generator to export: the only one, or for a model that translates both ways the one the
        artist picks (None when the choice is cancelled)."""
        directions = entry.record.generator_directions if entry.record is not None else ("AtoB",)
        if len(directions) == 1:
            return directions[0]
        labels = [DIRECTIONS[d] for d in directions]
        label, chosen = QInputDialog.getItem(
            self, "Export to ONNX", f"{entry.name} translates both ways. Export which generator?", labels, 0, False
        )
        return directions[labels.index(label)] if chosen else None

    def import_checkpoint(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import generator weights (G, or G_A and G_B)", "", "PyTorch weights (*.pth *.pt);;All files (*)"
        )
        if not paths:
            return
        default = paths[0].rsplit("/", 1)[-1].removesuffix(".pth")
        name, ok = QInputDialog.getText(self, "Import checkpoint", "Name for the imported model:", text=default)
        if ok and name.strip():
            self.import_paths(sorted(paths), name.strip())

    def import_paths(self, paths, name: str) -> None:
        from training_core.library_import import import_reference

        def imported(entry):
            self.refresh()
            self.library_changed.emit()

        run_task(
            import_reference,
            [Path(p) for p in paths],
            name,
            self.library,
            owner=self,
            on_result=imported,
            on_error=lambda exc: QMessageBox.warning(self, "Cannot import", str(exc)),
        )

    def reveal_selected(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        folder = str(self.library.get(key).path)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            QMessageBox.information(
                self,
                "Show in File Manager",
                f"No file manager could be opened here. The model's folder is:\n\n{folder}",
            )


def _width_with_label(button: QPushButton, label: str) -> int:
    shown = button.text()
    button.setText(label)
    width = button.sizeHint().width()
    button.setText(shown)
    return width
