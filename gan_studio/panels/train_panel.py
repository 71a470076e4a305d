"""The Train area: choose family and preset, start, pause, resume, stop; watch losses and samples."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from training_core.errors import GanStudioError
from training_core.families import family
from training_core.humanize import duration
from training_core.store import ModelLibrary

from ..widgets.compare_view import CompareView
from ..widgets.loss_chart import LossChart
from ..widgets.resume_card import ResumeCard
from .run_setup import RunSetup

log = logging.getLogger(__name__)


class TrainPanel(QWidget):
    run_changed = Signal()  # a run started, checkpointed or ended: the library changed
    message = Signal(str)  # for the status bar

    def __init__(self, settings, library: ModelLibrary, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.report = None
        self.library = library  # the main window's; unfinished models are listed once the engine is ready
        self._demo: str | None = None
        self.session = None
        self.engine_ready = False
        self.direction = "AtoB"
        self._run_family: str | None = None
        self.paused = False
        self._loading_preset = False
        # The form shows a new model (True), or the run going now (False): while a run is paused, a
        # dataset opened makes it a new model's form again, so that one can start beside the paused.
        self._form_for_new = True
        self._run_name = ""  # the model of the run going now (running or paused) and its dataset
        self._run_dataset = ""
        self._run_report = None  # the report a started run trains on (None for a resumed one)
        self._run_direction = "AtoB"

        self.dataset_label = QLabel("Open a dataset on the Dataset tab first.")
        self.dataset_label.setWordWrap(True)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #e8f1fb; color: #1b3a5c; padding: 8px; border-radius: 4px; }")
        self.banner.hide()
        self.setup = RunSetup(settings, library)
        self.setup.error.connect(self.show_error)
        self.resume_card = ResumeCard()
        self.resume_card.resume_requested.connect(lambda key: self.resume_model(key))

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
        self.validation.setToolTip(
            "Scores of the model on pairs it never trains on. Difference: mean absolute error (0 is identical). "
            "PSNR: signal-to-noise in decibels; above 20 dB is close. SSIM: structural similarity, 0 to 1."
        )
        for label in (self.rate, self.validation):
            label.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("QLabel { background: #fdecea; color: #8a1c12; padding: 8px; border-radius: 4px; }")
        self.error.hide()
        # Shown when no checkpoint can continue the model being resumed: training it again is the user's call.
        self.restart_button = QPushButton("Start Again from Scratch")
        self.restart_button.setToolTip(
            "Train this model again from iteration 0 with its settings; its current generator is kept "
            "until the new run saves its first checkpoint"
        )
        self.restart_button.clicked.connect(lambda: self.resume_model(self._resumed_id, restart=True))
        self.restart_button.hide()
        self._resumed_id = ""

        # What to train scrolls (a card, a banner and the Advanced settings can outgrow a laptop
        # screen: squeezed, the spin boxes became unreadable); the run's controls and feedback stay put.
        form_column = QWidget()
        form_layout = QVBoxLayout(form_column)
        form_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.dataset_label, self.banner, self.resume_card, self.setup):
            form_layout.addWidget(widget)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(form_column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left = QVBoxLayout()
        left.addWidget(scroll, 1)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.rate)
        left.addWidget(self.validation)
        left.addWidget(self.error)
        left.addWidget(self.restart_button)
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
        split.setSizes([470, 810])
        left_widget.setMinimumWidth(400)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._update_controls()

    # -- inputs ----------------------------------------------------------------------------
    def set_engine_ready(self) -> None:
        self.engine_ready = True
        self._update_controls()
        self.refresh_unfinished()

    def refresh_unfinished(self) -> None:
        """The resume card shows the latest unfinished model, unless a run is going."""
        if not self.engine_ready:  # its Resume would load PyTorch on the GUI thread
            return
        unfinished = [e for e in self.library.list() if e.can_resume]
        self.resume_card.show_runs([] if self.session else unfinished)

    def set_report(self, report, demo: str | None = None) -> None:
        self.report, self._demo = report, demo
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
        if not self.session or self.paused:
            self._new_model_form()
        self._update_controls()

    def _new_model_form(self) -> None:
        self.setup.set_report(self.report, self._demo)
        self.setup.set_direction(self.direction)
        self._form_for_new = True

    def _update_header(self) -> None:
        """Which model the tab shows and on which dataset; and, beside a paused run, what Start makes."""
        lines = []
        if self.session is not None:
            doing = "Paused" if self.paused else "Training"
            lines.append(
                f"{doing}: <b>{html.escape(self._run_name)}</b> on dataset <b>{html.escape(self._run_dataset)}</b>"
            )
        if self.report is not None and self._form_for_new:
            report = self.report
            parts = ", ".join(f"{s}: {p.count()}" for s, p in report.splits.items())
            lines.append(
                f"New model on dataset <b>{html.escape(report.root.name)}</b> "
                f"({html.escape(report.layout)}; {html.escape(parts)})"
            )
            run = html.escape(self._run_name)
            if self.session is not None and self.paused:
                lines.append(f"Start trains it; {run} is saved and stays paused, to resume later.")
            elif self.session is not None:
                lines.append(f"It can start once {run} is paused or stopped.")
        elif self.report is None and self.session is None:
            lines.append("Open a dataset on the Dataset tab first.")
        self.dataset_label.setText("<br>".join(lines))

    def set_direction(self, direction: str) -> None:
        self.direction = direction
        if self._form_for_new:
            self.setup.set_direction(direction)

    # -- running ----------------------------------------------------------------------------
    def start(self) -> None:
        """A new model on the open dataset; a paused run beside it is stopped first (it is saved)."""
        beside_paused = self.session is not None and self.paused and self._form_for_new
        if (self.session and not beside_paused) or not self.engine_ready or self.report is None:
            return
        from training_core.train.trainer import Trainer

        report, name = self.report, self.setup.name.text().strip()
        family, preset = self.setup.family.currentData(), self.setup.preset.currentData()
        overrides = {**self.setup.overrides(), "direction": self.direction}
        device = self.setup.device.currentText()
        self.setup.remember()
        if beside_paused:
            self.message.emit(f"{self._run_name} stays paused; starting {name}…")
            paused = self.session
            paused.stop()
            paused.wait_ended()  # one run at a time on the device; the paused one's checkpoint is on disk
        self._run_family = family
        self._run_name, self._run_dataset, self._run_report = name, report.root.name, report
        self._run_direction = self.direction
        self._form_for_new = False
        self._clear_feedback()

        def make_trainer(**kwargs):
            return Trainer.create(
                report,
                name,
                family=family,
                preset=preset,
                overrides=overrides,
                library=self.library,
                device=device,
                leave_core_for_ui=True,
                **kwargs,
            )

        self._run(make_trainer, f"Starting {name}…")

    def resume_model(self, key: str, iterations: int | None = None, restart: bool = False) -> None:
        """Continue a model of the library (paused, interrupted, or finished with a new total).

        ``restart``: train it again from iteration 0, when no checkpoint can continue it."""
        if self.session:
            self.show_error("A training run is already going; stop it before resuming another model.")
            return
        from training_core.train.trainer import Trainer

        try:
            entry = self.library.get(key)
        except GanStudioError as exc:  # deleted or damaged since the list was read
            self.show_error(str(exc))
            self.refresh_unfinished()
            return
        self._run_family = entry.family
        self._resumed_id = entry.id
        self._run_name, self._run_report = entry.name, None
        self._run_direction = entry.record.direction if entry.record else "AtoB"
        self._run_dataset = Path(str(entry.record.dataset.get("root", "") if entry.record else "")).name or "?"
        self._form_for_new = False
        self._clear_feedback()
        if entry.record is not None:
            self.setup.show_model(entry)
        self._load_history(entry)
        device = self.setup.device.currentText() or "auto"

        def make_trainer(**kwargs):
            return Trainer.reopen(
                entry.id,
                self.library,
                iterations=iterations,
                restart=restart,
                device=device,
                leave_core_for_ui=True,
                **kwargs,
            )

        self._run(make_trainer, f"Resuming {entry.name}…")

    def _run(self, make_trainer, message: str) -> None:
        from ..workers.training_worker import TrainingSession

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
        self._run_family = event.family or self._run_family
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
        self.samples_caption.setText(f"Samples at iteration {iteration:,}: {self._strip_columns()}")

    def _strip_columns(self) -> str:
        """The strip's columns with their domains: which pictures are inputs, outputs and targets."""
        source, target = ("B", "A") if self._run_direction == "BtoA" else ("A", "B")
        return family(self._family_of_run()).columns.format(source=source, target=target)

    def _on_validation(self, event) -> None:
        where = family(self._family_of_run()).held_out.format(count=event.count)
        self.validation.setText(
            f"{where}: difference {event.l1:.3f} (lower is better) · "
            f"PSNR {event.psnr:.1f} dB (higher is better) · SSIM {event.ssim:.2f} (1 is a perfect match)"
        )
        log.info(
            "iteration %d: on held-out pictures, difference from target %.4f (lower is better), "
            "PSNR %.2f dB (higher is better), SSIM %.3f (1 is a perfect match)",
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
        self.rate.setText(f"Paused at iteration {iteration:,}: no time runs while paused")
        if self.report is not None and self.report is not self._run_report:
            self._new_model_form()  # a dataset opened while it trained: a new model on it can start now
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
        self.restart_button.setVisible(event.restart and bool(self._resumed_id))
        if event.details:
            log.error("%s", event.details)

    def _on_session_ended(self) -> None:
        self.session = None
        self.paused = False
        if self.report is not None and not self._form_for_new:  # a new model's form again, on the open dataset
            self._new_model_form()
        self._form_for_new = True
        self._update_controls()
        self.refresh_unfinished()
        self.run_changed.emit()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        log.error("%s", text)

    # -- helpers -----------------------------------------------------------------------------
    def _family_of_run(self) -> str:
        return self._run_family or self.setup.family.currentData()

    def _clear_feedback(self) -> None:
        """A new run starts with no texts, curves or samples of the last one."""
        self.error.hide()
        self.restart_button.hide()
        self.rate.setText(" ")
        self.validation.setText(" ")
        self.samples_caption.setText(" ")
        self.progress.reset()
        self.chart.clear()
        self.samples.set_images(None, None)

    def _load_history(self, entry) -> None:
        """Show what the model already did: its loss curve and latest samples."""
        from training_core.train.run_dir import RunFolder

        self.chart.clear()
        self.chart.add_many(RunFolder(entry.run_dir).loss_history())
        if entry.sample_path.exists():
            self.samples.set_images(None, QImage(str(entry.sample_path)))

    def _update_controls(self) -> None:
        running = self.session is not None
        form_free = self._form_for_new and (not running or self.paused)
        can_start = self.engine_ready and self.report is not None and form_free
        self.start_button.setEnabled(can_start)
        self.start_button.setToolTip(
            ""
            if can_start
            else "Loading the engine…"
            if not self.engine_ready
            else "Open a dataset first"
            if self.report is None
            else "Training is running"
            if not self.paused
            else "Open a dataset to start a new model beside the paused one, or Stop it"
        )
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if running and self.paused else "Pause")
        self.stop_button.setEnabled(running)
        self.setup.setEnabled(form_free)
        self.resume_card.set_busy(running)
        if running:
            self.resume_card.hide()
        self._update_header()
