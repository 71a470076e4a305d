"""The Train area: choose family and preset, start, pause, resume, stop; watch losses and samples."""

from __future__ import annotations

import html
import logging
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from training_core.humanize import duration

from ..widgets.compare_view import CompareView
from ..widgets.loss_chart import LossChart

log = logging.getLogger(__name__)
FAMILY_LABELS = {"pix2pix": "pix2pix (paired)", "cyclegan": "CycleGAN (unpaired)"}
GENERATORS = ["unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks"]


def _spin(low: int, high: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    return box


class AdvancedSettings(QWidget):
    """Network and optimisation settings; filled from the preset, editable by the user."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.netG = QComboBox()
        self.netG.setEditable(True)
        self.netG.addItems(GENERATORS)
        self.ngf, self.ndf = _spin(1, 256), _spin(1, 256)  # config.MAX_WIDTH (config imports torch: not here)
        self.netD = QComboBox()
        for label, value in (
            ("PatchGAN 70x70", "basic"),
            ("PatchGAN, n layers", "n_layers"),
            ("Pixel (1x1)", "pixel"),
            ("Image-level (one score)", "image"),
        ):
            self.netD.addItem(label, value)
        self.optimizer_G, self.optimizer_D = QComboBox(), QComboBox()
        for combo in (self.optimizer_G, self.optimizer_D):
            for label, value in (("Adam", "adam"), ("RMSprop", "rmsprop"), ("SGD with momentum", "sgd")):
                combo.addItem(label, value)
        self.size = _spin(16, 4096, 16)
        self.batch_size = _spin(1, 256)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 0.1)
        self.lr.setSingleStep(1e-4)
        self.lr_policy = QComboBox()
        self.precision = QComboBox()
        self.device = QComboBox()
        self.sample_every, self.checkpoint_every = _spin(1, 1_000_000), _spin(1, 10_000_000)
        form = QFormLayout(self)
        form.addRow("Generator", self.netG)
        form.addRow("Generator width (ngf)", self.ngf)
        form.addRow("Discriminator", self.netD)
        form.addRow("Discriminator width (ndf)", self.ndf)
        form.addRow("Training size (px)", self.size)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Learning-rate schedule", self.lr_policy)
        form.addRow("Generator optimizer", self.optimizer_G)
        form.addRow("Discriminator optimizer", self.optimizer_D)
        form.addRow("Precision", self.precision)
        form.addRow("Device", self.device)
        form.addRow("Samples every (iterations)", self.sample_every)
        form.addRow("Checkpoint every (iterations)", self.checkpoint_every)

    def fill_choices(self, lr_policies, precisions, devices) -> None:
        for combo, values in ((self.lr_policy, lr_policies), (self.precision, precisions), (self.device, devices)):
            combo.clear()
            combo.addItems(list(values))

    def load(self, model_cfg, data_cfg, train_cfg) -> None:
        self.netG.setCurrentText(model_cfg.netG)
        self.ngf.setValue(model_cfg.ngf)
        self.ndf.setValue(model_cfg.ndf)
        self.netD.setCurrentIndex(max(0, self.netD.findData(model_cfg.netD)))
        self.optimizer_G.setCurrentIndex(max(0, self.optimizer_G.findData(model_cfg.optimizer_G)))
        self.optimizer_D.setCurrentIndex(max(0, self.optimizer_D.findData(model_cfg.optimizer_D)))
        self.size.setValue(data_cfg.crop_size)
        self.batch_size.setValue(train_cfg.batch_size)
        self.lr.setValue(model_cfg.lr)
        self.lr_policy.setCurrentText(train_cfg.lr_policy)
        self.precision.setCurrentText(train_cfg.precision)
        self.sample_every.setValue(train_cfg.sample_every)
        self.checkpoint_every.setValue(train_cfg.checkpoint_every)

    def overrides(self) -> dict:
        return {
            "netG": self.netG.currentText().strip(),
            "ngf": self.ngf.value(),
            "ndf": self.ndf.value(),
            "netD": self.netD.currentData(),
            "optimizer_G": self.optimizer_G.currentData(),
            "optimizer_D": self.optimizer_D.currentData(),
            "size": self.size.value(),
            "batch_size": self.batch_size.value(),
            "lr": self.lr.value(),
            "lr_policy": self.lr_policy.currentText(),
            "precision": self.precision.currentText(),
            "sample_every": self.sample_every.value(),
            "checkpoint_every": self.checkpoint_every.value(),
        }


class TrainPanel(QWidget):
    run_changed = Signal()  # a run started, checkpointed or ended: the library changed
    message = Signal(str)  # for the status bar

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.report = None
        self.session = None
        self.engine_ready = False
        self.direction = "AtoB"
        self._run_family: str | None = None
        self.paused = False
        self._loading_preset = False

        self.dataset_label = QLabel("Open a dataset on the Dataset tab first.")
        self.dataset_label.setWordWrap(True)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #e8f1fb; color: #1b3a5c; padding: 8px; border-radius: 4px; }")
        self.banner.hide()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name of the new model")
        self.family = QComboBox()
        self.preset = QComboBox()
        self.preset_about = QLabel()
        self.preset_about.setWordWrap(True)
        self.preset_about.setStyleSheet("QLabel { color: palette(mid); }")
        self.iterations = _spin(1, 100_000_000, 100)
        self.advanced = AdvancedSettings()
        self.advanced.hide()
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.family.currentIndexChanged.connect(self._load_preset)
        self.preset.currentIndexChanged.connect(self._load_preset)

        form = QFormLayout()
        form.addRow("Model name", self.name)
        form.addRow("Model family", self.family)
        form.addRow("Preset", self.preset)
        form.addRow("", self.preset_about)
        form.addRow("Iterations", self.iterations)
        setup = QGroupBox("New model")
        setup_layout = QVBoxLayout(setup)
        setup_layout.addLayout(form)
        setup_layout.addWidget(self.advanced_toggle)
        setup_layout.addWidget(self.advanced)
        setup_layout.addStretch(1)
        self.setup_box = setup

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m iterations")
        self.rate = QLabel(" ")
        self.validation = QLabel(" ")
        for label in (self.rate, self.validation):
            label.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("QLabel { background: #fdecea; color: #8a1c12; padding: 8px; border-radius: 4px; }")
        self.error.hide()

        left = QVBoxLayout()
        left.addWidget(self.dataset_label)
        left.addWidget(self.banner)
        left.addWidget(setup, 1)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.rate)
        left.addWidget(self.validation)
        left.addWidget(self.error)
        left_widget = QWidget()
        left_widget.setLayout(left)

        self.chart = LossChart()
        # Zoomable (wheel, drag, F to fit, 1 for actual pixels): small samples are worth a close look.
        self.samples = CompareView("Samples (input | output | target) appear here while training")
        self.samples_caption = QLabel(" ")
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.chart)
        sample_box = QWidget()
        sample_layout = QVBoxLayout(sample_box)
        sample_layout.setContentsMargins(0, 0, 0, 0)
        sample_layout.addWidget(self.samples, 1)
        sample_layout.addWidget(self.samples_caption)
        right.addWidget(sample_box)
        right.setStretchFactor(1, 2)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_widget)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        split.setSizes([430, 850])
        left_widget.setMinimumWidth(360)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._update_controls()

    # -- inputs ----------------------------------------------------------------------------
    def set_engine_ready(self) -> None:
        from training_core.config import LR_POLICIES, PRECISIONS
        from training_core.device import DEVICE_CHOICES
        from training_core.presets import DEFAULT_PRESET, PRESETS

        self._loading_preset = True
        self.advanced.fill_choices(LR_POLICIES, PRECISIONS, DEVICE_CHOICES)
        self.advanced.device.setCurrentText(self.settings.value("train/device", "auto"))
        self.preset.clear()
        for name in PRESETS:
            self.preset.addItem(name.capitalize(), name)
        self.preset.setCurrentIndex(max(0, self.preset.findData(self.settings.value("train/preset", DEFAULT_PRESET))))
        self._presets = PRESETS
        self.engine_ready = True
        self._loading_preset = False
        self._fill_families()
        self._update_controls()

    def set_report(self, report, demo: str | None = None) -> None:
        self.report = report
        parts = ", ".join(f"{s}: {p.count()}" for s, p in report.splits.items())
        self.dataset_label.setText(
            f"Dataset: <b>{html.escape(report.root.name)}</b> ({html.escape(report.layout)}; {html.escape(parts)})"
        )
        self.banner.setVisible(bool(demo))
        if demo == "landscapes":
            self.banner.setText(
                "This is the built-in landscape demo: red landscapes and, separately, blue ones "
                "(unpaired). Press <b>Start</b> and CycleGAN learns to repaint red scenes in blue."
            )
        elif demo:
            self.banner.setText(
                "This is the built-in demo project: line drawings of shapes and their painted "
                "versions. Press <b>Start</b> and watch the samples learn to paint within "
                "minutes, even on a laptop CPU."
            )
        names = {"shapes": "Demo shapes", "landscapes": "Demo landscapes"}
        self.name.setText(f"{names.get(demo) or report.root.name} {datetime.now():%Y-%m-%d %H.%M}")
        self._fill_families()
        self._update_controls()

    def set_direction(self, direction: str) -> None:
        self.direction = direction

    def _fill_families(self) -> None:
        if not self.engine_ready or self.report is None:
            return
        from training_core.models.registry import family_for_layout

        self._loading_preset = True
        self.family.clear()
        allowed = ["cyclegan"] if self.report.layout == "unpaired" else ["pix2pix", "cyclegan"]
        for family in allowed:
            self.family.addItem(FAMILY_LABELS[family], family)
        self.family.setCurrentIndex(self.family.findData(family_for_layout(self.report.layout)))
        self._loading_preset = False
        self._load_preset()

    def _load_preset(self) -> None:
        if self._loading_preset or not self.engine_ready or self.report is None or self.family.count() == 0:
            return
        from training_core.errors import GanStudioError
        from training_core.presets import resolve

        preset = self.preset.currentData()
        self.preset_about.setText(self._presets[preset]["about"])
        train = self.report.splits["train"]
        # Epoch-based presets count what one epoch iterates, as the engine does.
        count = max(len(train.domain_a), len(train.domain_b)) if self.report.layout == "unpaired" else train.count()
        try:
            model_cfg, data_cfg, train_cfg = resolve(self.family.currentData(), preset, count)
        except GanStudioError as exc:
            self.show_error(str(exc))
            return
        self.advanced.load(model_cfg, data_cfg, train_cfg)
        self.iterations.setValue(train_cfg.iterations)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.session or not self.engine_ready or self.report is None:
            return
        from training_core.store import ModelLibrary
        from training_core.train.trainer import Trainer

        report, name = self.report, self.name.text().strip()
        family, preset = self.family.currentData(), self.preset.currentData()
        overrides = {**self.advanced.overrides(), "iterations": self.iterations.value(), "direction": self.direction}
        device = self.advanced.device.currentText()
        self.settings.setValue("train/preset", preset)
        self.settings.setValue("train/device", device)
        self._run_family = family
        self.chart.clear()
        self.samples.set_images(None, None)

        def make_trainer(**kwargs):
            return Trainer.create(
                report,
                name,
                family=family,
                preset=preset,
                overrides=overrides,
                library=ModelLibrary(),
                device=device,
                leave_core_for_ui=True,
                **kwargs,
            )

        self._run(make_trainer, f"Starting {name}…")

    def resume_model(self, key: str, iterations: int | None = None) -> None:
        """Continue a model of the library (paused, interrupted, or finished with a new total)."""
        if self.session:
            self.show_error("A training run is already going; stop it before resuming another model.")
            return
        from training_core.store import ModelLibrary
        from training_core.train.trainer import Trainer

        entry = ModelLibrary().get(key)
        self._run_family = entry.family
        self._load_history(entry)
        device = self.advanced.device.currentText() or "auto"

        def make_trainer(**kwargs):
            return Trainer.reopen(
                entry.id, ModelLibrary(), iterations=iterations, device=device, leave_core_for_ui=True, **kwargs
            )

        self._run(make_trainer, f"Resuming {entry.name}…")

    def _run(self, make_trainer, message: str) -> None:
        from ..workers.training_worker import TrainingSession

        self.error.hide()
        self.session = TrainingSession(make_trainer, self)
        w = self.session.worker
        w.started.connect(self._on_started)
        w.step.connect(self._on_step)
        w.sample.connect(self._on_sample)
        w.validation.connect(self._on_validation)
        w.checkpoint.connect(self._on_checkpoint)
        w.paused.connect(self._on_paused)
        w.resumed.connect(self._on_resumed)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        self.session.ended.connect(self._on_session_ended)
        self.paused = False
        self.session.start()
        self.message.emit(message)
        self._update_controls()

    def toggle_pause(self) -> None:
        if not self.session:
            return
        if self.paused:
            self.session.resume()
        else:
            self.pause_button.setEnabled(False)  # until the checkpoint is written
            self.message.emit("Pausing: saving a checkpoint…")
            self.session.pause()

    def stop(self) -> None:
        if self.session:
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.message.emit("Stopping: saving a checkpoint…")
            self.session.stop()

    def is_training(self) -> bool:
        return self.session is not None

    # -- engine events -------------------------------------------------------------------------
    def _on_started(self, event) -> None:
        self.progress.setRange(0, event.total_iterations)
        self.progress.setValue(event.iteration)
        notes = " ".join(event.notes)
        self.message.emit(f"Training on {event.device}" + (f" — {notes}" if notes else ""))
        log.info(
            "training on %s from iteration %d of %d%s",
            event.device,
            event.iteration,
            event.total_iterations,
            f" ({notes})" if notes else "",
        )
        self.run_changed.emit()

    def _on_step(self, event) -> None:
        self.progress.setRange(0, event.total_iterations)
        self.progress.setValue(event.iteration)
        self.rate.setText(
            f"{event.it_per_s:.2f} it/s · ETA {duration(event.eta_s)} · epoch {event.epoch + 1} · lr {event.lr:.2e}"
        )
        self.chart.add(event.iteration, event.losses)

    def _on_sample(self, image: QImage, iteration: int) -> None:
        self.samples.set_images(None, image)
        self.samples_caption.setText(
            f"Samples at iteration {iteration:,}: input | output | "
            f"{'reconstruction' if self._family_of_run() == 'cyclegan' else 'target'}"
        )

    def _on_validation(self, event) -> None:
        self.validation.setText(
            f"Validation on {event.count} held-out pairs: L1 {event.l1:.4f} · "
            f"PSNR {event.psnr:.2f} dB · SSIM {event.ssim:.3f}"
        )
        log.info(
            "iteration %d: validation L1 %.4f, PSNR %.2f dB, SSIM %.3f",
            event.iteration,
            event.l1,
            event.psnr,
            event.ssim,
        )

    def _on_checkpoint(self, event) -> None:
        log.info("checkpoint saved at iteration %d (%s): %s", event.iteration, event.reason, event.path.name)
        self.run_changed.emit()

    def _on_paused(self, iteration: int) -> None:
        self.paused = True
        self.message.emit(f"Paused at iteration {iteration:,}; a checkpoint was saved.")
        self._update_controls()
        self.run_changed.emit()

    def _on_resumed(self, iteration: int) -> None:
        self.paused = False
        self.message.emit(f"Resumed at iteration {iteration:,}.")
        self._update_controls()

    def _on_finished(self, event) -> None:
        text = "Finished" if event.completed else "Stopped"
        self.message.emit(f"{text} at iteration {event.iteration:,}; the model is saved in the library.")
        log.info("%s at iteration %d; the model is in %s", text.lower(), event.iteration, event.model_dir)

    def _on_failed(self, event) -> None:
        self.show_error(event.message)
        if event.details:
            log.error("%s", event.details)

    def _on_session_ended(self) -> None:
        self.session = None
        self.paused = False
        self._update_controls()
        self.run_changed.emit()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        log.error("%s", text)

    # -- helpers -----------------------------------------------------------------------------
    def _family_of_run(self) -> str:
        trainer = self.session.worker.trainer if self.session else None
        return trainer.family if trainer else (self._run_family or self.family.currentData())

    def _load_history(self, entry) -> None:
        """Show what the model already did: its loss curve and latest samples."""
        from training_core.train.run_dir import RunFolder

        self.chart.clear()
        self.chart.add_many(RunFolder(entry.run_dir).loss_history())
        if entry.sample_path.exists():
            self.samples.set_images(None, QImage(str(entry.sample_path)))

    def _update_controls(self) -> None:
        running = self.session is not None
        can_start = self.engine_ready and self.report is not None and not running
        self.start_button.setEnabled(can_start)
        self.start_button.setToolTip(
            ""
            if can_start
            else "Loading the engine…"
            if not self.engine_ready
            else "Open a dataset first"
            if self.report is None
            else "Training is running"
        )
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if running and self.paused else "Pause")
        self.stop_button.setEnabled(running)
        self.setup_box.setEnabled(not running)
