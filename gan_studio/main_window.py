"""The main window: Dataset, Train and Models areas, menus, status bar, log pane."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressBar, QTabWidget

from training_core.data.demo import make_demo_dataset
from training_core.data.demo_landscapes import make_landscape_demo
from training_core.store import ModelLibrary, demo_dir

from . import APP_NAME, __version__
from .panels.convert_panel import ConvertPanel
from .panels.dataset_panel import DatasetPanel
from .panels.models_panel import ModelsPanel
from .panels.train_panel import TrainPanel
from .widgets.log_pane import LogPane
from .workers.tasks import run_task

log = logging.getLogger(__name__)


def load_engine() -> str:
    """Import PyTorch and the engine (seconds), then say which device training will use."""
    import training_core.train.trainer  # noqa: F401  (the heavy import: torch)
    from training_core.device import configure_cpu_threads, describe_device, pick_device

    device = pick_device("auto")
    if device.type == "cpu":
        configure_cpu_threads(leave_one_for_ui=True)
    return describe_device(device)


class MainWindow(QMainWindow):
    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self._quitting = False  # set by quit_saving: closing asks nothing
        self.settings = settings
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        # The one library of this window: every panel is given it (and reads $GAN_STUDIO_HOME through it).
        self.library = ModelLibrary()
        self.help_dialog = None

        self.dataset_panel = DatasetPanel(settings)
        self.train_panel = TrainPanel(settings, self.library)
        self.convert_panel = ConvertPanel(settings)
        self.models_panel = ModelsPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.dataset_panel, "Dataset")
        self.tabs.addTab(self.train_panel, "Train")
        self.tabs.addTab(self.convert_panel, "Convert")
        self.tabs.addTab(self.models_panel, "Models")
        self.setCentralWidget(self.tabs)

        self.log_pane = LogPane()
        logging.getLogger().addHandler(self.log_pane.handler)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log")
        self.log_dock.setWidget(self.log_pane)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.log_dock], [110], Qt.Orientation.Vertical)

        self.device_label = QLabel("Loading PyTorch…")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(100)
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.device_label)

        self.dataset_panel.opened.connect(self._dataset_opened)
        self.dataset_panel.direction_changed.connect(self.train_panel.set_direction)
        self.train_panel.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.train_panel.run_changed.connect(self.models_panel.refresh)
        self.convert_panel.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.models_panel.resume_requested.connect(self._resume)
        self.models_panel.convert_requested.connect(self._convert_with)
        self.models_panel.library_changed.connect(self.convert_panel.refresh_models)
        self.models_panel.library_changed.connect(self.train_panel.refresh_unfinished)
        self.models_panel.states_changed.connect(self.train_panel.refresh_unfinished)
        self.train_panel.resume_card.discard_requested.connect(self.models_panel.delete_model)
        self.train_panel.run_changed.connect(self.convert_panel.refresh_models)
        self._demo_folders: dict[Path, str] = {}  # demo project folder -> kind
        self._build_menus()
        self._restore()

    # -- start-up -------------------------------------------------------------------------
    def start_engine_loading(self) -> None:
        """Called once the window is on screen: the heavy imports happen in the background."""
        run_task(load_engine, owner=self, on_result=self._engine_ready, on_error=self._engine_failed)

    def _engine_ready(self, device: str) -> None:
        self.busy.hide()
        self.device_label.setText(device)
        log.info("engine ready; training will run on %s", device)
        self.models_panel.set_library(self.library)
        self.convert_panel.set_library(self.library)
        self.train_panel.set_engine_ready()
        if self.train_panel.resume_card.isVisibleTo(self.train_panel):
            self.tabs.setCurrentWidget(self.train_panel)  # an unfinished run: its card is the first thing seen
        last = self.settings.value("dataset/last_folder", "")
        if last and Path(last).is_dir():
            self.dataset_panel.open_folder(last)
        elif not self.library.list():
            self.open_demo()

    def _engine_failed(self, exc: Exception) -> None:
        self.busy.hide()
        self.device_label.setText("Engine unavailable")
        QMessageBox.critical(
            self,
            APP_NAME,
            f"PyTorch could not be loaded, so training is unavailable:\n\n{exc}\n\n"
            "Reinstall GAN Studio (pip install gan-studio) and start it again.",
        )

    def _make_pairs(self) -> None:
        self.tabs.setCurrentWidget(self.dataset_panel)
        self.dataset_panel.make_pairs()

    def open_demo(self, replace: bool = False, kind: str = "shapes") -> None:
        """A built-in demo project, made on first use, opened and ready to train."""
        if replace:
            self.dataset_panel.current_folder = None
        make = make_demo_dataset if kind == "shapes" else make_landscape_demo
        self.statusBar().showMessage("Preparing the demo project…")
        run_task(
            make,
            demo_dir(kind),
            owner=self,
            on_result=lambda folder: self._demo_ready(folder, kind),
            on_error=lambda exc: self.train_panel.show_error(f"The demo project could not be made: {exc}"),
        )

    def _demo_ready(self, folder: Path, kind: str) -> None:
        self._demo_folders[Path(folder).absolute()] = kind
        if self.dataset_panel.current_folder is None:  # the user has not opened a folder meanwhile
            self.dataset_panel.open_folder(folder)

    def _dataset_opened(self, report) -> None:
        demo = self._demo_folders.get(Path(report.root).absolute())
        self.train_panel.set_report(report, demo=demo)
        if demo:
            self.tabs.setCurrentWidget(self.train_panel)
            self.statusBar().showMessage("Demo project loaded: press Start to train.", 15000)

    def _convert_with(self, key: str) -> None:
        self.convert_panel.select_model(key)
        self.tabs.setCurrentWidget(self.convert_panel)

    def _resume(self, key: str, iterations) -> None:
        self.tabs.setCurrentWidget(self.train_panel)
        self.train_panel.resume_model(key, iterations)

    # -- menus ------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(shortcut)
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "&Open Dataset Folder…", self.dataset_panel.choose_folder, QKeySequence.StandardKey.Open)
        action(file_menu, "&Make Pairs from Artworks…", self._make_pairs)
        action(file_menu, "Open &Demo Project (shapes, paired)", lambda: self.open_demo(replace=True))
        action(
            file_menu,
            "Open &Landscape Demo (red to blue, unpaired)",
            lambda: self.open_demo(replace=True, kind="landscapes"),
        )
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        train_menu = self.menuBar().addMenu("&Training")
        action(train_menu, "&Start", self.train_panel.start, QKeySequence("Ctrl+Return"))
        action(train_menu, "&Pause / Resume", self.train_panel.toggle_pause, QKeySequence("Ctrl+P"))
        action(train_menu, "S&top", self.train_panel.stop, QKeySequence("Ctrl+."))
        view_menu = self.menuBar().addMenu("&View")
        for i, name in enumerate(("&Dataset", "&Train", "&Convert", "&Models")):
            action(
                view_menu, name, lambda checked=False, i=i: self.tabs.setCurrentIndex(i), QKeySequence(f"Ctrl+{i + 1}")
            )
        view_menu.addSeparator()
        toggle_log = self.log_dock.toggleViewAction()
        toggle_log.setShortcut(QKeySequence("Ctrl+L"))
        view_menu.addAction(toggle_log)
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, f"&Using {APP_NAME}", self.show_help, QKeySequence.StandardKey.HelpContents)
        action(help_menu, "Open &Models Folder", self.open_models_folder)
        help_menu.addSeparator()
        action(help_menu, f"&About {APP_NAME}", self.about)
        action(help_menu, "About &Qt", QApplication.aboutQt)

    def show_help(self) -> None:
        from .widgets.help_dialog import HelpDialog

        if self.help_dialog is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()

    def open_models_folder(self) -> None:
        """The library's folder, where every model lives (for backups, or to copy one elsewhere)."""
        root = self.library.root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # shown all the same: the message below names it
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(root))):
            QMessageBox.information(
                self, "Open Models Folder", f"No file manager could be opened here. The models are in:\n\n{root}"
            )

    def about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            (
                f"<h3>{APP_NAME} {__version__}</h3>"
                "<p>Train image-to-image GANs on your own pictures and convert photos into the style "
                "you taught it.</p><p>pix2pix (Isola et al., 2017) for paired data and CycleGAN "
                "(Zhu et al., 2017) for unpaired data, built on PyTorch and Qt.</p>"
                f"<p>Device: {self.device_label.text()}</p>"
            ),
        )

    # -- drag and drop of folders ------------------------------------------------------------------
    def dragEnterEvent(self, event):
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and Path(urls[0].toLocalFile()).is_dir():
            event.acceptProposedAction()

    def dropEvent(self, event):
        folder = event.mimeData().urls()[0].toLocalFile()
        if self.tabs.currentWidget() is self.convert_panel:  # photos to convert
            self.convert_panel.set_input_folder(folder)
            return
        self.tabs.setCurrentWidget(self.dataset_panel)
        self.dataset_panel.open_folder(folder)

    # -- persistence and closing -------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(self.settings.value("window/tab", 0)))

    def bring_forward(self, folder: str | None = None) -> None:
        """Another launch of GAN Studio asked for this window (and perhaps a dataset folder)."""
        self.showNormal() if self.isMinimized() else self.show()
        self.raise_()
        self.activateWindow()
        if folder:
            self.tabs.setCurrentWidget(self.dataset_panel)
            self.dataset_panel.open_folder(folder)

    def quit_saving(self) -> None:
        """Pause any training with a checkpoint and close, without asking (a logout or a shutdown signal)."""
        if self._quitting:
            return  # a second signal while saving: the save completes first
        self._quitting = True
        self.close()

    def closeEvent(self, event):
        if self.train_panel.is_training():
            if not self._quitting:
                question = (
                    "Training is paused. Quit? It is saved, and you can resume it next time."
                    if self.train_panel.paused
                    else "Training is running. Pause it and quit? It will be saved, and you can "
                    "resume it from the Models tab next time."
                )
                answer = QMessageBox.question(
                    self,
                    APP_NAME,
                    question,
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                    QMessageBox.StandardButton.Yes,
                )
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
            self.shutdown_training()
        self.convert_panel.shutdown()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        self.settings.sync()
        logging.getLogger().removeHandler(self.log_pane.handler)
        super().closeEvent(event)

    def shutdown_training(self) -> None:
        """Stop the run with a checkpoint and wait for it, keeping the window painted meanwhile."""
        session = self.train_panel.session
        if session is None:
            return
        self.statusBar().showMessage("Saving a checkpoint before quitting…")
        session.stop()
        session.wait_ended()
