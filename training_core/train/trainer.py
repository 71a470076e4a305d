"""The training loop: one model of the library, trained in the calling thread.

Reports through ``on_event`` (see events.py) and obeys a TrainingControl.
Pause and stop write a checkpoint first; a crash loses at most the
iterations since the last one. Resuming restores every random generator and
the data position, so on the CPU a resumed run is bit-identical to one that
never stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import traceback
from collections.abc import Callable

import torch
from torch.utils.data import DataLoader

from ..config import TrainConfig
from ..data.datasets import LoadFailure, PairedDataset, ReportingDataset, UnpairedDataset, collate_or_failure
from ..data.discover import DatasetReport, discover
from ..data.make_pairs import pair_maker_of
from ..data.resized_cache import DEFAULT_BUDGET_BYTES
from ..device import configure_cpu_threads, configure_cuda_kernels, describe_device, pick_device, resolve_precision
from ..errors import ConfigError, DatasetError, GanStudioError, ImageLoadError
from ..families import PAIRED, family_for_layout
from ..families import family as family_of
from ..fsutil import explain_write_error
from ..models.export import model_generators, save_generators
from ..models.finite import nonfinite_names
from ..models.registry import build_model
from ..presets import DEFAULT_PRESET, resolve
from ..rate import RateMeter
from ..runlock import RunInUse
from ..store import DiskError, ModelEntry, ModelLibrary
from ..streams import Stream, stream
from . import distributed, rng
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
from .out_of_memory import is_out_of_memory, out_of_memory_message
from .plan import PlanError, make_plan
from .recorder import LibraryRecorder
from .restart import (
    DAMAGED_SUFFIX,
    RestartNeeded,
    no_usable_checkpoint,
    refusal,
    refuse_restart_while_resumable,
    set_aside_checkpoints,
    what_is_missing,
)
from .run_dir import RunFolder
from .schedule import Plateau, make_scheduler

log = logging.getLogger(__name__)
VAL_BATCH_ON_GPU = 16  # one pass for sixteen held-out images: a GPU at batch 1 waits on launches

LOG_EVERY = 10  # iterations averaged into one metrics.jsonl line
# The batch-norm statistics a conversion can use (convert.norm.NORM_MODES), in plain words.
NORM_WORDS = {"image": "each picture's own", "running": "those learnt in training"}
# Samples before the preset's cadence begins: a newcomer sees the model start to learn within a minute,
# not after 100 iterations of an empty panel.
EARLY_SAMPLES = (10, 25, 50)
REPORT_INTERVAL_S = 0.25  # losses are read back from the device at most this often (each read waits for it)


class RunSampler(torch.utils.data.Sampler):
    """(epoch, position, index) for every sample of the run: a seeded order per epoch, from a start point.

    Under torchrun the run's one stream of samples is dealt out: process ``rank`` of ``world`` takes
    every world-th sample, so N processes with batch B see what one process with batch N x B sees.
    """

    def __init__(self, size: int, seed: int, epoch: int, position: int, rank: int = 0, world: int = 1):
        self.size, self.seed, self.epoch, self.position = size, seed, epoch, position
        self.rank, self.world = rank, world

    def __iter__(self):
        epoch, start, turn = self.epoch, self.position, 0
        while True:
            order = stream(self.seed, Stream.EPOCH_ORDER, epoch).permutation(self.size)
            for position in range(start, self.size):
                if turn % self.world == self.rank:
                    yield epoch, position, int(order[position])
                turn += 1
            epoch, start = epoch + 1, 0


def auto_workers(device) -> int:
    """Loader processes: none on a CPU-only machine (they would compete with training), a few beside a GPU."""
    return min(4, max(0, (os.cpu_count() or 1) - 1)) if device.type == "cuda" else 0


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
        self.model_cfg = record.model_config()
        self.data_cfg = record.data_config()
        self.train_cfg = record.train_config()
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
        self.on_event = on_event or (lambda event: None)
        self.control = control or TrainingControl()
        self.device_preference = device
        self.leave_core_for_ui = leave_core_for_ui
        self.iteration = self.epoch = self.position = 0
        self.saved_iteration: int | None = None  # of the last checkpoint written or resumed from
        self.dist = distributed.from_env()  # set under torchrun
        self.is_main = self.dist is None or self.dist.is_main
        # model.json follows the run's events; only one process writes it.
        self.recorder = LibraryRecorder(self.library, entry) if self.is_main else None
        self.val_batch = 1  # held-out images per pass: more on a GPU (set in _setup)
        self._loss_sums: dict = {}  # loss tensors summed since the last metrics.jsonl line
        self._window_sums: dict = {}  # ... and since the last StepMetrics that carried losses
        self._window_n = 0
        self._loss_n = 0
        self._last_report = 0.0
        self._rate = RateMeter(window=50)

    # -- creating and reopening runs -------------------------------------------------
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
        ctx = distributed.from_env()
        if ctx is not None:  # rank 0 makes the library entry; the others open it
            distributed.init(ctx, kwargs.get("device", "auto"))
            outcome = None
            if ctx.is_main:
                try:
                    outcome = ("ok", cls._create_entry(report, name, family, preset, overrides, library).id)
                except GanStudioError as exc:
                    outcome = ("error", str(exc))
            kind, value = distributed.share(outcome, ctx)
            if kind == "error":
                raise ConfigError(value)
            return cls(library.get(value), library, **kwargs)
        return cls(cls._create_entry(report, name, family, preset, overrides, library), library, **kwargs)

    @staticmethod
    def _create_entry(report, name, family, preset, overrides, library) -> ModelEntry:
        family = family or family_for_layout(report.layout)
        model_cfg, data_cfg, train_cfg = resolve(family, preset, report.count("train"), overrides)
        plan = make_plan(report, family, train_cfg)
        train_count = plan.epoch_items
        model_cfg, data_cfg, train_cfg = resolve(family, preset, train_count, overrides)
        entry = library.create(
            name,
            {
                "family": family,
                "preset": preset,
                "model": model_cfg.to_dict(),
                "data": data_cfg.to_dict(),
                "train": train_cfg.to_dict(),
                "iterations": 0,
                "dataset": {
                    "root": plan.root,
                    "layout": plan.layout,
                    "train": train_count,
                    "val": len(plan.val) + len(plan.val_a) + len(plan.val_b),
                    "val_source": plan.val_source,
                    "summary": report.summary(list_rejected=False),
                    **pair_maker_of(report.root),  # made from artworks: photos convert the same way
                },
                "metrics": {},
            },
            prepare=lambda folder: plan.save(folder / "run" / "dataset.json"),
        )
        return entry

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
        ctx = distributed.from_env()
        if ctx is not None:
            distributed.init(ctx, kwargs.get("device", "auto"))
        entry = library.get(key)
        if entry.state == "running":
            raise RunInUse(f"{entry.name} is training right now in another window or process")
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
            return self._tell(Failed(self.iteration, str(refusal(self.entry.name, trained, missing)), restart=True))
        try:
            lock = self.run_folder.lock() if self.is_main else None
        except GanStudioError as exc:  # another process trains it, or the lock cannot be written
            self._tell(Failed(self.iteration, str(exc)))  # the model's record is the other process's
            return Failed(self.iteration, str(exc))
        try:
            if self.restart:
                try:
                    self._prepare_restart()
                except GanStudioError as exc:  # refused (a checkpoint can continue), or the dataset is gone
                    return self._tell(Failed(self.iteration, str(exc)))
            if self.new_train_cfg is not None:
                self.train_cfg = self.new_train_cfg
            return self._run()
        except RestartNeeded as exc:  # only a restart from scratch trains this model again: nothing changed
            return self._tell(Failed(self.iteration, str(exc), restart=True))
        except OSError as exc:  # disk full, folder gone or read-only: the last saved checkpoint is intact
            why = explain_write_error(exc, self.entry.path, self._bytes_per_save())
            return self._fail(
                f"Could not save the training: {why}. Nothing is lost: the last saved checkpoint is "
                "intact; resume once that is fixed.",
                exc,
            )
        except Diverged as exc:  # NaN or infinity: nothing more was saved; the message says what to lower
            return self._fail(str(exc), exc, resume_helps=False)
        except DiskError as exc:  # the same, met while writing model.json
            return self._fail(
                f"Could not save the training: {exc}. Nothing is lost: the last saved checkpoint is "
                "intact; resume once that is fixed.",
                exc,
            )
        except Exception as exc:  # last resort: report, never crash the caller's thread
            return self._fail(
                f"Training stopped by an unexpected error: {type(exc).__name__}: {exc}. "
                "Resume continues from the last checkpoint.",
                exc,
                expected=False,
            )
        finally:
            if lock is not None:
                lock.release()
            if self.dist is not None:
                distributed.shutdown()

    def _run(self) -> Event:
        try:
            notes = self._setup()
        except RestartNeeded:
            raise
        except GanStudioError as exc:
            return self._fail(str(exc), exc)
        if self.new_train_cfg is not None and self.recorder:  # the run can go on: its record takes the new length
            self.recorder.extend(self.train_cfg)
        total = self.train_cfg.iterations
        device = f"{describe_device(self.device)}, {self.precision}"
        self._emit(Started(self.iteration, total, device, self.iteration > 0, notes, self.family.name))
        batches = self._batches()
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
                batch = next(batches)
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
        if self.train_cfg.batch_size > 1 and "equal size" in str(exc):  # torch's stack, in the loader's collate
            return self._fail(
                f"The training images have different sizes, and images of different sizes cannot share a "
                f"batch (batch size {self.train_cfg.batch_size}; preprocessing {self.data_cfg.preprocess} keeps "
                "each image's size). Start a new model with batch size 1, or with a preprocessing that resizes "
                "or crops every image to one size (resize_and_crop or crop). Training was saved.",
                exc,
            )
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return self._fail(
            f"Cannot read the training data at iteration {self.iteration}: {reason}. "
            "Put a readable copy of the file back (the run keeps its file list), then "
            "resume: training was saved.",
            exc,
        )

    def _setup(self) -> tuple[str, ...]:
        self.device = pick_device(self.device_preference)
        if self.dist is not None:
            self.device = distributed.device_for(self.dist, self.device)
        self.precision = resolve_precision(self.train_cfg.precision, self.device)
        if self.device.type == "cpu":
            configure_cpu_threads(self.leave_core_for_ui)
        # Every run sets these process-wide switches, so one run's choice does not outlive it in the app.
        configure_cuda_kernels(
            self.device.type == "cuda" and self.train_cfg.deterministic, "crop" in self.data_cfg.preprocess
        )
        self.val_batch = 1 if self.device.type == "cpu" else VAL_BATCH_ON_GPU
        multiple = self.model_cfg.size_multiple
        if self.family.data == PAIRED:
            self.dataset = PairedDataset(self.plan.train, self.data_cfg, multiple, self.train_cfg.seed)
        else:
            self.dataset = UnpairedDataset(
                self.plan.train_a, self.plan.train_b, self.data_cfg, multiple, self.train_cfg.seed
            )
        self.fixed = FixedImages(self.plan, self.family, self.data_cfg, multiple, self.train_cfg.seed)
        model_cfg = self.model_cfg
        if self.dist is not None and self.train_cfg.scale_lr:
            model_cfg = dataclasses.replace(model_cfg, lr=model_cfg.lr * self.dist.world)
        self.model = build_model(model_cfg, self.device, self.train_cfg.seed, self.precision)
        self.model.train()
        if self.train_cfg.compile:
            self.model.compile()
        self.plateau = Plateau(self.train_cfg) if self.train_cfg.lr_policy == "plateau" else None
        self.schedulers = {
            name: make_scheduler(opt, self.train_cfg, self.plateau) for name, opt in self.model.optimizers.items()
        }
        notes = self._distributed_notes()
        if not self.run_folder.checkpoints():
            rng.seed_everything(self.train_cfg.seed)
            self._truncate_metrics_log(0)
            self._wrap_for_ddp()
            return notes
        try:
            loaded = self.run_folder.load_latest()
        except CheckpointError as exc:
            raise no_usable_checkpoint(self.entry.name, self.entry.require().iterations, exc) from None
        state = loaded.state
        self.model.load_state_dict(state["model"])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        if self.plateau is not None and "plateau" in state:  # absent when the policy was changed on resume
            self.plateau.load_state_dict(state["plateau"])
        self.iteration = self.saved_iteration = int(state["iteration"])
        self.epoch = int(state["data_state"]["epoch"])
        self.position = int(state["data_state"]["position"])
        rng.restore(state["rng"])
        self._truncate_metrics_log(self.iteration)  # lines written after that checkpoint never happened
        self._wrap_for_ddp()
        return loaded.notes + notes + (f"resumed from iteration {self.iteration}",)

    def _prepare_restart(self) -> None:
        """Before training again from scratch (holding the run): the plan, and no checkpoint of the old run listed.

        Refused while a checkpoint can continue the run: starting again would throw that training away."""
        if self.plan is not None:  # asked again under the lock: another process may have trained it meanwhile
            refuse_restart_while_resumable(self.entry.name, self.run_folder)
        moved = set_aside_checkpoints(self.run_folder.path)
        if moved:
            log.info("set aside %d unusable checkpoint(s) as *%s", len(moved), DAMAGED_SUFFIX)
        if self.plan_damage:  # ours, but kept as it was: set aside, never overwritten
            self.run_folder.plan_path.replace(self.run_folder.plan_path.with_name("dataset.json" + DAMAGED_SUFFIX))
        if self.plan is None:  # the run folder or its plan was deleted: the files of the dataset, again
            record = self.entry.require()
            report = discover(record.dataset.get("root", ""))
            self.plan = make_plan(report, self.family.name, self.train_cfg)
            self.plan.save(self.run_folder.plan_path)

    def _wrap_for_ddp(self) -> None:
        if self.dist is not None:
            distributed.wrap(self.model, self.dist, self.train_cfg.sync_batchnorm)

    def _distributed_notes(self) -> tuple[str, ...]:
        if self.dist is None:
            return ()
        cfg, world = self.train_cfg, self.dist.world
        lr = self.model_cfg.lr * (world if cfg.scale_lr else 1)
        return (
            f"distributed over {world} processes: batch {cfg.batch_size} each, effective batch "
            f"{cfg.batch_size * world}; learning rate {lr:g}" + (" (scaled)" if cfg.scale_lr else ""),
        )

    def _batches(self):
        """Batches from one loader for the whole run (its workers persist across epochs)."""
        cfg = self.train_cfg
        workers = cfg.num_workers if cfg.num_workers >= 0 else auto_workers(self.device)
        rank, world = (self.dist.rank, self.dist.world) if self.dist else (0, 1)
        # Each loader process keeps its own resized images: the budget is shared among them.
        self.dataset.limit_cache(DEFAULT_BUDGET_BYTES // max(1, workers))
        loader = DataLoader(
            ReportingDataset(self.dataset),
            batch_size=cfg.batch_size,
            collate_fn=collate_or_failure,
            sampler=RunSampler(len(self.dataset), cfg.seed, self.epoch, self.position, rank, world),
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=self.device.type == "cuda",
            # Its own generator: creating the iterator must not draw from the global torch RNG.
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        for batch in loader:
            if isinstance(batch, LoadFailure):
                raise batch.error()  # the file and the reason, from a worker process too
            # Where the run's sample stream stands after this step (all processes together): what a
            # checkpoint records and a resume, with any number of processes, restarts from.
            self.position += cfg.batch_size * world
            self.epoch += self.position // len(self.dataset)
            self.position %= len(self.dataset)
            yield batch

    # -- after each step -----------------------------------------------------------------
    def _after_step(self, losses: dict[str, torch.Tensor]) -> None:
        """Report, log, sample and checkpoint as due; losses stay on the device until they are read."""
        cfg, it = self.train_cfg, self.iteration
        now = time.perf_counter()
        self._rate.tick(now)
        rate, eta = self._rate.rate, self._rate.eta(cfg.iterations - it)
        lr = self.model.optimizers["G"].param_groups[0]["lr"]
        for sums in (self._loss_sums, self._window_sums):
            for name, value in losses.items():
                sums[name] = sums[name] + value if name in sums else value
        self._window_n += 1
        due = it % cfg.sample_every == 0 or it == cfg.iterations or (it in EARLY_SAMPLES and it < cfg.sample_every)
        self._loss_n += 1
        if it % LOG_EVERY == 0 or it == cfg.iterations:
            logged = self._finite_losses({k: float(v) / self._loss_n for k, v in self._loss_sums.items()})
            self._log({"iteration": it, "epoch": self.epoch, "lr": lr, "losses": logged})
            self._loss_sums, self._loss_n = {}, 0
        reported = {}
        if due or now - self._last_report >= REPORT_INTERVAL_S:
            reported = self._finite_losses({k: float(v) / self._window_n for k, v in self._window_sums.items()})
            self._window_sums, self._window_n, self._last_report = {}, 0, now
        self._emit(StepMetrics(it, cfg.iterations, self.epoch, reported, lr, rate, eta))
        if self.plateau is not None:
            self.plateau.add_loss(sum(v for k, v in losses.items() if not k.startswith("D")))
        if due:
            held_out_l1 = self._samples()
            if self.plateau is not None:
                self._observe_plateau(held_out_l1)
        if it % cfg.checkpoint_every == 0 and it < cfg.iterations:
            self._checkpoint("interval")

    def _observe_plateau(self, held_out_l1: float | None) -> None:
        """The plateau policy watches the held-out L1 where there is one, else the training loss."""
        window = self.plateau.take_mean_loss()
        value = held_out_l1 if held_out_l1 is not None else window
        if self.dist is not None:  # rank 0's value (it alone validates): every process cuts the rate together
            value = distributed.share(value, self.dist)
        self.plateau.observe(value)

    def _samples(self) -> float | None:
        """The fixed preview strip and, where there are held-out images, their scores (rank 0 only).

        Returns the held-out L1, where there is one. The metrics log also keeps the checkerboard
        measure (``metrics.checkerboard``: about 1 is clean, more is a visible grid)."""
        if not self.is_main:
            return None
        strip = self.fixed.strip(self.model)
        # Also as the model's sample.png, which the Models view reads at any moment.
        path = self.run_folder.save_sample(strip, self.iteration, also=self.entry.sample_path)
        self._emit(SampleImages(self.iteration, strip, path))
        return self._validate() if self.fixed.has_held_out else None

    def _validate(self) -> float:
        """Held-out scores, of what the family compares (its ``held_out_pairs``). Returns the L1."""
        means, count = self.fixed.scores(self.model, self.val_batch)
        self._log({"iteration": self.iteration, "val": means})
        kind = self.family.held_out_kind
        self._emit(ValidationMetrics(self.iteration, means["l1"], means["psnr"], means["ssim"], count, kind))
        return means["l1"]

    def _finite_losses(self, losses: dict[str, float]) -> dict[str, float]:
        """The losses as read back from the device; a NaN or infinite one stops the run (Diverged)."""
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise self._diverged("losses", bad)
        return losses

    def _diverged(self, what: str, names: list[str]) -> Diverged:
        # The setting to lower, not the schedule's current rate.
        return diverged(what, names, self.iteration, self.saved_iteration, self.model_cfg.lr, self.precision)

    # -- saving ---------------------------------------------------------------------------
    def _checkpoint(self, reason: str):
        if not self.is_main:  # the weights are the same in every process: one writes
            return None
        model_state = self.model.state_dict()
        # Never a checkpoint or generator of NaN weights in place of the last good one.
        bad = nonfinite_names({k: model_state[k] for k in ("nets", "averaged", "optimizers")})
        if bad:
            raise self._diverged("weights", bad)
        path = self.run_folder.save_checkpoint(
            {
                "iteration": self.iteration,
                "data_state": {"epoch": self.epoch, "position": self.position},
                "model": model_state,
                "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
                **({"plateau": self.plateau.state_dict()} if self.plateau is not None else {}),
                "rng": rng.capture(),
                # The settings live in model.json alone (the generator file's copy is derived from them).
            },
            keep=self.train_cfg.keep_checkpoints,
        )
        save_generators(self.model_cfg, model_generators(self.model), self.entry.weights_path)
        self.saved_iteration = self.iteration
        self._emit(CheckpointSaved(self.iteration, path, reason))
        return path

    def _choose_inference_norm(self) -> dict:
        """Which batch-norm statistics translate the held-out pairs better (the translator's default)."""
        from ..convert.norm import score_norm_modes

        pairs = [(sample["A"], sample["B"]) for sample in self.fixed.held_out()]
        scores = score_norm_modes(self.model.generator("AtoB"), pairs, self.device)
        best = min(scores, key=scores.get)
        log.info(  # said for an artist: the app's log pane shows it
            "checked on the held-out pairs which colour statistics convert closer to the targets: %s; "
            "photos will be converted with %s",
            ", ".join(f"{NORM_WORDS.get(k, k)} (difference from target {v:.4f})" for k, v in scores.items()),
            NORM_WORDS.get(best, best),
        )
        return {"norm": best, "val_l1": scores}

    def _pause(self) -> bool:
        """Checkpoint and wait; True when resumed, False when stopped while paused."""
        self._checkpoint("pause")
        self._emit(Paused(self.iteration))
        if not self.control.wait_while_paused():
            return False
        self._rate.reset()  # the pause is not training time
        self._emit(Resumed(self.iteration))
        return True

    def _end(self, completed: bool, checkpoint: bool = True) -> Event:
        if checkpoint:
            self._checkpoint("finish" if completed else "stop")
        if self.dist is not None:
            distributed.barrier()  # no process leaves before rank 0 has saved
        inference = None
        if completed and self.plan.val and self.model_cfg.norm == "batch" and self.is_main:
            try:
                inference = self._choose_inference_norm()
            except Exception:  # a nicety: the trained model is already saved
                log.exception("could not compare the normalisation modes; translating with image statistics")
        return self._emit(Finished(self.iteration, completed, self.entry.path, inference))

    def _fail(
        self, message: str, exc: BaseException | None = None, expected: bool = True, resume_helps: bool = True
    ) -> Event:
        """Record and report a failure; the traceback is logged only for an error nobody foresaw."""
        details = "".join(traceback.format_exception(exc)) if exc else ""
        if expected:
            log.error("%s", message)
            log.debug("%s", details)
        else:
            log.error("%s\n%s", message, details)
        event = Failed(self.iteration, message, details, resume_helps=resume_helps)
        try:
            self._emit(event)
        except GanStudioError as exc:  # a full or read-only disk: the message says so already
            log.warning("could not record the failure in model.json: %s", exc)
            self._tell(event)
        return event

    def _bytes_per_save(self) -> int:
        """What one checkpoint and the generator file take on disk (the newest ones written), or 0."""
        weights = self.entry.weights_path
        return self.run_folder.checkpoint_bytes() + (weights.stat().st_size if weights.exists() else 0)

    def _emit(self, event: Event) -> Event:
        """To the library record first (its errors stop the run: a disk problem), then to the listener."""
        if self.recorder:
            self.recorder(event)
        return self._tell(event)

    def _tell(self, event: Event) -> Event:
        if not self.is_main:
            return event
        try:
            self.on_event(event)
        except Exception:  # a broken listener must not end a night of training
            log.exception("an event listener failed on %s", type(event).__name__)
        return event

    # -- the metrics log ----------------------------------------------------------------------
    def _log(self, record: dict) -> None:
        if self.is_main:
            self.run_folder.log_metrics(record)

    def _truncate_metrics_log(self, iteration: int) -> None:
        if self.is_main:
            self.run_folder.truncate_metrics(iteration)
