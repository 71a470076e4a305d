"""The Models area: the library with each model's state; resume, continue, rename, delete, reveal."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QMessageBox, QPushButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

STATE_LABELS = {"new": "New", "running": "Training…", "paused": "Paused", "interrupted": "Interrupted",
                "finished": "Finished"}
COLUMNS = ["Name", "Family", "State", "Iterations", "Dataset", "Updated"]


def _done(entry) -> int:
    """Iterations trained: live progress while running, else what the last checkpoint holds."""
    key = "progress" if entry.state == "running" else "iterations"
    return int(entry.meta.get(key) or entry.meta.get("iterations", 0))


class ModelsPanel(QWidget):
    resume_requested = Signal(str, object)  # model id, new total iterations (or None)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.library = None
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
        self.resume_button.clicked.connect(self.resume_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.reveal_button.clicked.connect(self.reveal_selected)
        buttons = QHBoxLayout()
        for b in (self.resume_button, self.rename_button, self.delete_button, self.reveal_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_library(self, library) -> None:
        self.library = library
        self.refresh()

    def refresh(self) -> None:
        if self.library is None:
            return
        selected = self.selected_id()
        self.tree.clear()
        for entry in self.library.list():
            meta = entry.meta
            item = QTreeWidgetItem([
                entry.name, meta.get("family", ""), STATE_LABELS.get(entry.state, entry.state),
                f"{_done(entry):,} / {meta.get('total_iterations', 0):,}",
                str(meta.get("dataset", {}).get("root", "")), meta.get("updated", "").replace("T", " ")[:16],
            ])
            item.setData(0, Qt.ItemDataRole.UserRole, entry.id)
            item.setData(2, Qt.ItemDataRole.UserRole, entry.state)
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

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _selected_state(self) -> str | None:
        items = self.tree.selectedItems()
        return items[0].data(2, Qt.ItemDataRole.UserRole) if items else None

    def _update_buttons(self) -> None:
        state = self._selected_state()
        self.resume_button.setText("Continue Training…" if state == "finished" else "Resume")
        self.resume_button.setEnabled(state in ("paused", "interrupted", "finished", "new"))
        for b in (self.rename_button, self.reveal_button):
            b.setEnabled(state is not None)
        self.delete_button.setEnabled(state is not None and state != "running")

    def resume_selected(self) -> None:
        key, state = self.selected_id(), self._selected_state()
        if key is None or state == "running":
            return
        iterations = None
        if state == "finished":
            entry = self.library.get(key)
            done = entry.meta.get("iterations", 0)
            value, ok = QInputDialog.getInt(self, "Continue training", f"{entry.name} has trained {done:,} "
                                            "iterations. Train up to this many iterations in total:",
                                            done * 2 or 1000, done + 1, 100_000_000, 100)
            if not ok:
                return
            iterations = value
        self.resume_requested.emit(key, iterations)

    def rename_selected(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        from training_core.errors import GanStudioError

        entry = self.library.get(key)
        name, ok = QInputDialog.getText(self, "Rename model", "New name:", text=entry.name)
        if ok and name.strip() and name.strip() != entry.name:
            try:
                self.library.rename(key, name)
            except GanStudioError as exc:
                QMessageBox.warning(self, "Cannot rename", str(exc))
            self.refresh()

    def delete_selected(self) -> None:
        key = self.selected_id()
        if key is None:
            return
        from training_core.errors import GanStudioError

        entry = self.library.get(key)
        answer = QMessageBox.question(
            self, "Delete model", f"Delete “{entry.name}” with all its checkpoints and samples?\n\n{entry.path}\n\n"
            "This cannot be undone.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.library.delete(key)
        except GanStudioError as exc:
            QMessageBox.warning(self, "Cannot delete", str(exc))
        self.refresh()

    def reveal_selected(self) -> None:
        key = self.selected_id()
        if key is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.library.get(key).path)))
