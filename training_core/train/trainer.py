"""The training loop: one model of the library, trained in the calling thread.

Reports through ``on_event`` (see events.py) and obeys a TrainingControl. Pause and stop write a
checkpoint first; a crash loses at most the iterations since the last one. Resuming restores
every random generator and the data position, so on the CPU a resumed run is bit-identical to one
that never stopped.

Read top to bottom: ``run`` holds the run and turns what can go wrong into a Failed event, ``_loop``
trains, ``_setup`` builds the model and puts the last checkpoint back, ``_after_step`` reports,
samples and checkpoints as they fall due. Around it: the run's library entry (``runs.py``), its
batches (``data/feed.py``), its previews and held-out scores (``fixed_images.py`` and the family),
what a checkpoint holds (``run_state.py``) and what a failure says (``failures.py``).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

import torch

from ..config import TrainConfig
from ..data.datasets import PairedDataset, UnpairedDataset
from ..data.discover import DatasetReport, discover
from ..data.feed import DataFeed
from ..device import configure_cpu_threads, configure_cuda_kernels, describe_device, pick_device, resolve_precision
from ..errors import DatasetError, GanStudioError, ImageLoadError
from ..families import PAIRED
from ..families import family as family_of
from ..fsutil import explain_write_error
from ..models.export import model_generators, save_generators
from ..models.finite import nonfinite_names
from ..models.registry import build_model
from ..presets import DEFAULT_PRESET
from ..rate import RateMeter
from ..store import DiskError, ModelEntry, ModelLibrary
from . import distributed, failures, rng, run_state, runs
from .checkpoint import CheckpointError
from .control import TrainingControl
from .divergence import Diverged, diverged
from .events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    Paused,
    Resumed,
    SampleImages,
    Started,
    StepMetrics,
    ValidationMetrics,
)
from .fixed_images import FixedImages
from .loss_average import LossAverage
from .out_of_memory import is_out_of_memory, out_of_memory_message
from .outbox import Outbox
from .plan import PlanError, make_plan
from .recorder import LibraryRecorder
from .restart import (
    RestartNeeded,
    no_usable_checkpoint,
    prepare_restart,
    refusal,
    refuse_restart_while_resumable,
    what_is_missing,
)
from .run_dir import RunFolder
from .schedule import Plateau, make_scheduler

log = logging.getLogger(__name__)
VAL_BATCH_ON_GPU = 16  # one pass for sixteen held-out images: a GPU at batch 1 waits on launches
LOG_EVERY = 10  # iterations averaged into one metrics.jsonl line
# Samples before the preset's cadence begins: a newcomer sees the model start to learn within a minute,
# not after 100 iterations of an empty panel.
EARLY_SAMPLES = (10, 25, 50)
REPORT_INTERVAL_S = 0.25  # losses are read back from the device at most this often (each read waits for it)


class Trainer:
    def __init__(
        self,
        entry: ModelEntry,
        library: ModelLibrary | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
        control: TrainingControl | None = None,
        device: str = "auto",
        leave_core_for_ui: bool = False,
        new_total: int | None = None,
        restart: bool = False,
    ):
        self.library = library or ModelLibrary()
        self.entry = entry
        record = entry.require()
        self.model_cfg, self.data_cfg, self.train_cfg = (
            record.model_config(),
            record.data_config(),
            record.train_config(),
        )
        # A resumed run's new length: checked now, applied once this process holds the run (run()), so a
        # resume that is refused changes nothing.
        self.new_train_cfg = (
            None if new_total is None else TrainConfig.from_dict({**self.train_cfg.to_dict(), "iterations": new_total})
        )
        self.family = family_of(self.model_cfg.family)
        self.run_folder = RunFolder(entry.run_dir)
        # Without its plan a run cannot continue: run() refuses, or a restart (asked for) plans again.
        self.plan_damage = ""  # why dataset.json is there but cannot be used
        try:
            self.plan = self.run_folder.load_plan() if self.run_folder.plan_path.is_file() else None
        except PlanError as exc:
            self.plan, self.plan_damage = None, str(exc)
        self.restart = restart  # train again from iteration 0, when no checkpoint can continue the run
        self.control = control or TrainingControl()
        self.device_preference = device
        self.leave_core_for_ui = leave_core_for_ui
        self.iteration = 0
        self.saved_iteration: int | None = None  # of the last checkpoint written or resumed from
        self.dist = distributed.from_env()  # set under torchrun
        self.is_main = self.dist is None or self.dist.is_main
        # model.json follows the run's events; only one process writes it.
        self.recorder = LibraryRecorder(self.library, entry) if self.is_main else None
        self.events = Outbox(self.recorder, on_event or (lambda event: None), self.is_main)
        self.val_batch = 1  # held-out images per pass: more on a GPU (set in _setup)
        self.logged, self.reported = LossAverage(), LossAverage()  # for metrics.jsonl; for StepMetrics
        self._last_report = 0.0
        self._rate = RateMeter(window=50)

    @classmethod
    def create(
        cls,
        report: DatasetReport,
        name: str,
        family: str | None = None,
        preset: str = DEFAULT_PRESET,
        overrides: dict | None = None,
        library: ModelLibrary | None = None,
        **kwargs,
    ) -> Trainer:
        """A new model in the library, trained on ``report``'s data with ``preset`` + ``overrides``."""
        library = library or ModelLibrary()
        entry = runs.create(report, name, family, preset, overrides, library, kwargs.get("device", "auto"))
        return cls(entry, library, **kwargs)

    @classmethod
    def reopen(
        cls,
        key: str,
        library: ModelLibrary | None = None,
        iterations: int | None = None,
        restart: bool = False,
        **kwargs,
    ) -> Trainer:
        """The trainer of an existing model, to continue it (optionally to a new total length).

        ``restart``: train it again from iteration 0, allowed only when no checkpoint can continue it."""
        library = library or ModelLibrary()
        entry = runs.reopen(key, library, kwargs.get("device", "auto"))
        trainer = cls(entry, library, new_total=iterations, restart=restart, **kwargs)
        if restart and trainer.plan is not None:  # refused as a request, before the run is locked or changed
            refuse_restart_while_resumable(entry.name, trainer.run_folder)
        return trainer

    # -- the run -----------------------------------------------------------------------
    def run(self) -> Event:
        """Train until finished, stopped or failed; returns the last event (Finished or Failed)."""
        trained = self.entry.require().iterations
        missing = self.plan_damage or what_is_missing(self.run_folder.path, trained)
        if missing and not self.restart:  # refused before anything is written: the record stays as it was
            return self.events.tell(
                Failed(self.iteration, str(refusal(self.entry.name, trained, missing)), restart=True)
            )
        try:
            lock = self.run_folder.lock() if self.is_main else None
        except GanStudioError as exc:  # another process trains it, or the lock cannot be written
            self.events.tell(Failed(self.iteration, str(exc)))  # the model's record is the other process's
            return Failed(self.iteration, str(exc))
        try:
            if self.restart:
                try:
                    self.plan = prepare_restart(
                        self.entry.name, self.run_folder, self.plan, bool(self.plan_damage), self._plan_again
                    )
                except GanStudioError as exc:  # refused (a checkpoint can continue), or the dataset is gone
                    return self.events.tell(Failed(self.iteration, str(exc)))
            if self.new_train_cfg is not None:
                self.train_cfg = self.new_train_cfg
            try:
                notes = self._setup()
            except RestartNeeded:
                raise
            except GanStudioError as exc:
                return self._fail(str(exc), exc)
            return self._loop(notes)
        except RestartNeeded as exc:  # only a restart from scratch trains this model again: nothing changed
            return self.events.tell(Failed(self.iteration, str(exc), restart=True))
        except OSError as exc:  # disk full, folder gone or read-only: the last saved checkpoint is intact
            return self._fail(
                failures.could_not_save(explain_write_error(exc, self.entry.path, self._bytes_per_save())),
                exc,
            )
        except Diverged as exc:  # NaN or infinity: nothing more was saved; the message says what to lower
            return self._fail(str(exc), exc, resume_helps=False)
        except DiskError as exc:  # the same, met while writing model.json
            return self._fail(failures.could_not_save(exc), exc)
        except Exception as exc:  # last resort: report, never crash the caller's thread
            return self._fail(failures.unexpected(exc), exc, expected=False)
        finally:
            if lock is not None:
                lock.release()
            if self.dist is not None:
                distributed.shutdown()

    def _loop(self, notes: tuple[str, ...]) -> Event:
        if self.new_train_cfg is not None and self.recorder:  # the run can go on: its record takes the new length
            self.recorder.extend(self.train_cfg)
        total = self.train_cfg.iterations
        device = f"{describe_device(self.device)}, {self.precision}"
        self.events.emit(Started(self.iteration, total, device, self.iteration > 0, notes, self.family.name))
        compiling_since = time.perf_counter() if self.model.compiled else None
        while self.iteration < total:
            if self.dist is not None:
                # Headless multi-process runs have no pause: any process asked to pause or stop stops all.
                wanted = self.control.stop_requested or self.control.pause_requested
                if distributed.any_rank(wanted, self.device):
                    return self._end(completed=False)
            elif self.control.stop_requested:
                return self._end(completed=False)
            if self.control.pause_requested and self.dist is None and not self._pause():
                return self._end(completed=False, checkpoint=False)
            try:
                batch = next(self.feed)
            except Exception as exc:
                return self._data_failure(exc)  # nothing was trained on this batch yet
            try:
                self.model.begin_step()
                self.model.set_input(batch)
                losses = self.model.step()
                for scheduler in self.schedulers.values():
                    scheduler.step()
                if compiling_since is not None:
                    if self.device.type == "cuda":
                        torch.cuda.synchronize()
                    log.info("compiled the networks in %.1f s (the first step)", time.perf_counter() - compiling_since)
                    compiling_since = None
            except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
                if not is_out_of_memory(exc):
                    raise
                return self._fail(out_of_memory_message(self.device.type, self.iteration), exc)
            self.iteration += 1
            try:
                self._after_step(losses)
            except (ImageLoadError, DatasetError) as exc:  # a preview or held-out image is gone
                return self._data_failure(exc)  # the step is complete: the state is consistent
        return self._end(completed=True)

    def _data_failure(self, exc: Exception) -> Event:
        """A file of the run cannot be read: save the (consistent) state, and say what to do."""
        self._checkpoint("data error")
        return self.events.fail(
            self.iteration, failures.unreadable_data(exc, self.iteration, self.train_cfg, self.data_cfg), exc
        )

    def _setup(self) -> tuple[str, ...]:
        """The device, the data, the model and its schedules; from the last checkpoint where there is one."""
        cfg = self.train_cfg
        self.device = pick_device(self.device_preference)
        if self.dist is not None:
            self.device = distributed.device_for(self.dist, self.device)
        self.precision = resolve_precision(cfg.precision, self.device)
        if self.device.type == "cpu":
            configure_cpu_threads(self.leave_core_for_ui)
        # Every run sets these process-wide switches, so one run's choice does not outlive it in the app.
        configure_cuda_kernels(self.device.type == "cuda" and cfg.deterministic, "crop" in self.data_cfg.preprocess)
        self.val_batch = 1 if self.device.type == "cpu" else VAL_BATCH_ON_GPU
        multiple, plan = self.model_cfg.size_multiple, self.plan
        assert plan is not None  # made or restored before setup: a run without one is refused first
        if self.family.data == PAIRED:
            dataset = PairedDataset(plan.train, self.data_cfg, multiple, cfg.seed)
        else:
            dataset = UnpairedDataset(plan.train_a, plan.train_b, self.data_cfg, multiple, cfg.seed)
        self.fixed = FixedImages(plan, self.family, self.data_cfg, multiple, cfg.seed)
        model_cfg = self.model_cfg
        if self.dist is not None and cfg.scale_lr:
            model_cfg = dataclasses.replace(model_cfg, lr=model_cfg.lr * self.dist.world)
        self.model = build_model(model_cfg, self.device, cfg.seed, self.precision)
        self.model.train()
        if cfg.compile:
            self.model.compile()
        self.plateau = Plateau(cfg) if cfg.lr_policy == "plateau" else None
        self.schedulers = {name: make_scheduler(opt, cfg, self.plateau) for name, opt in self.model.optimizers.items()}
        notes = distributed.notes(self.dist, cfg.batch_size, self.model_cfg.lr, cfg.scale_lr)
        data_state = {"epoch": 0, "position": 0}
        if self.run_folder.checkpoints():
            try:
                loaded = self.run_folder.load_latest()
            except CheckpointError as exc:
                raise no_usable_checkpoint(self.entry.name, self.entry.require().iterations, exc) from None
            self.iteration, data_state = run_state.restore(loaded.state, self.model, self.schedulers, self.plateau)
            self.saved_iteration = self.iteration
            notes = loaded.notes + notes + (f"resumed from iteration {self.iteration}",)
        else:
            rng.seed_everything(cfg.seed)
        self._truncate_metrics_log(self.iteration)  # lines written after that checkpoint never happened
        if self.dist is not None:
            distributed.wrap(self.model, self.dist, cfg.sync_batchnorm)
        rank, world = (self.dist.rank, self.dist.world) if self.dist else (0, 1)
        self.feed = DataFeed(
            dataset, cfg.batch_size, cfg.seed, self.device, cfg.num_workers, **data_state, rank=rank, world=world
        )
        return notes

    def _plan_again(self):
        """The files of the dataset again, for a restart whose plan is gone."""
        return make_plan(discover(self.entry.require().dataset.get("root", "")), self.family.name, self.train_cfg)

    # -- after each step -----------------------------------------------------------------
    def _after_step(self, losses: dict[str, torch.Tensor]) -> None:
        """Report, log, sample and checkpoint as due; losses stay on the device until they are read."""
        cfg, it = self.train_cfg, self.iteration
        now = time.perf_counter()
        self._rate.tick(now)
        rate, eta = self._rate.rate, self._rate.eta(cfg.iterations - it)
        lr = self.model.optimizers["G"].param_groups[0]["lr"]
        self.logged.add(losses)
        self.reported.add(losses)
        due = it % cfg.sample_every == 0 or it == cfg.iterations or (it in EARLY_SAMPLES and it < cfg.sample_every)
        if it % LOG_EVERY == 0 or it == cfg.iterations:
            self._log({"iteration": it, "epoch": self.feed.epoch, "lr": lr, "losses": self._finite(self.logged.take())})
        reported = {}
        if due or now - self._last_report >= REPORT_INTERVAL_S:
            reported, self._last_report = self._finite(self.reported.take()), now
        self.events.emit(StepMetrics(it, cfg.iterations, self.feed.epoch, reported, lr, rate, eta))
        if self.plateau is not None:
            self.plateau.add_loss(sum(v for k, v in losses.items() if not k.startswith("D")))
        if due:
            held_out_l1 = self._samples()
            if self.plateau is not None:
                self._observe_plateau(self.plateau, held_out_l1)
        if it % cfg.checkpoint_every == 0 and it < cfg.iterations:
            self._checkpoint("interval")

    def _observe_plateau(self, plateau: Plateau, held_out_l1: float | None) -> None:
        """The plateau policy watches the held-out L1 where there is one, else the training loss."""
        window = plateau.take_mean_loss()
        value = held_out_l1 if held_out_l1 is not None else window
        if self.dist is not None:  # rank 0's value (it alone validates): every process cuts the rate together
            value = distributed.share(value, self.dist)
        plateau.observe(value)

    def _samples(self) -> float | None:
        """The fixed preview strip and, where there are held-out images, their scores (rank 0 only).

        Returns the held-out L1, where there is one. The metrics log also keeps the checkerboard
        measure (``metrics.checkerboard``: about 1 is clean, more is a visible grid)."""
        if not self.is_main:
            return None
        strip = self.fixed.strip(self.model)
        # Also as the model's sample.png, which the Models view reads at any moment.
        path = self.run_folder.save_sample(strip, self.iteration, also=self.entry.sample_path)
        self.events.emit(SampleImages(self.iteration, strip, path))
        if not self.fixed.has_held_out:
            return None
        means, count = self.fixed.scores(self.model, self.val_batch)  # what the family compares
        self._log({"iteration": self.iteration, "val": means})
        kind = self.family.held_out_kind
        self.events.emit(ValidationMetrics(self.iteration, means["l1"], means["psnr"], means["ssim"], count, kind))
        return means["l1"]

    def _finite(self, losses: dict[str, float]) -> dict[str, float]:
        """The losses as read back from the device; a NaN or infinite one stops the run (Diverged)."""
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise self._diverged("losses", bad)
        return losses

    def _diverged(self, what: str, names: list[str]) -> Diverged:
        # The setting to lower, not the schedule's current rate.
        return diverged(what, names, self.iteration, self.saved_iteration, self.model_cfg.lr, self.precision)

    # -- saving and ending ---------------------------------------------------------------
    def _checkpoint(self, reason: str):
        if not self.is_main:  # the weights are the same in every process: one writes
            return None
        model_state = self.model.state_dict()
        # Never a checkpoint or generator of NaN weights in place of the last good one.
        bad = nonfinite_names({k: model_state[k] for k in ("nets", "averaged", "optimizers")})
        if bad:
            raise self._diverged("weights", bad)
        state = run_state.capture(self.iteration, self.feed.state, model_state, self.schedulers, self.plateau)
        path = self.run_folder.save_checkpoint(state, keep=self.train_cfg.keep_checkpoints)
        save_generators(self.model_cfg, model_generators(self.model), self.entry.weights_path)
        self.saved_iteration = self.iteration
        self.events.emit(CheckpointSaved(self.iteration, path, reason))
        return path

    def _pause(self) -> bool:
        """Checkpoint and wait; True when resumed, False when stopped while paused."""
        self._checkpoint("pause")
        self.events.emit(Paused(self.iteration))
        if not self.control.wait_while_paused():
            return False
        self._rate.reset()  # the pause is not training time
        self.events.emit(Resumed(self.iteration))
        return True

    def _end(self, completed: bool, checkpoint: bool = True) -> Event:
        if checkpoint:
            self._checkpoint("finish" if completed else "stop")
        if self.dist is not None:
            distributed.barrier()  # no process leaves before rank 0 has saved
        inference = None
        if completed and self.plan is not None and self.plan.val and self.model_cfg.norm == "batch" and self.is_main:
            try:
                inference = self.fixed.inference_norm(self.model)
            except Exception:  # a nicety: the trained model is already saved
                log.exception("could not compare the normalisation modes; translating with image statistics")
        return self.events.emit(Finished(self.iteration, completed, self.entry.path, inference))

    def _fail(self, message: str, exc: BaseException | None = None, **how: bool) -> Event:
        return self.events.fail(self.iteration, message, exc, **how)

    def _bytes_per_save(self) -> int:
        """What one checkpoint and the generator file take on disk (the newest ones written), or 0."""
        weights = self.entry.weights_path
        return self.run_folder.checkpoint_bytes() + (weights.stat().st_size if weights.exists() else 0)

    def _log(self, record: dict) -> None:
        if self.is_main:
            self.run_folder.log_metrics(record)

    def _truncate_metrics_log(self, iteration: int) -> None:
        if self.is_main:
            self.run_folder.truncate_metrics(iteration)
