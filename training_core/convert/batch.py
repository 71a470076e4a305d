"""Convert a folder of photos: every file at its own size, nothing overwritten, every failure explained.

Decoding (a small thread pool), translation (the calling thread, on the
device) and encoding (another pool) overlap, so the device is not idle while
files are read and written. Each output is written to a temporary file and
renamed into place, so a killed job never leaves a half-written image that
looks complete. With ``skip_existing`` a rerun continues where it stopped and
redoes what other weights, other settings or an edited photo made stale (see
ledger.py); another model's results are never replaced unless asked: by
default the new ones go into a subfolder named after the model. One job at a
time writes into an output folder (an OS lock, removed when the job ends), no
write ever lands on an input photo or in a folder that is read (see
output_paths.py), and every run keeps its own dated report.

Clips in the folder (clip_files) convert after the photos, one at a time, with
convert_video into the mirrored path, under the same ledger, skip and report
rules; a stopped clip continues from its finished segments on a rerun.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import stat
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from PIL import Image

from ..config import ConvertConfig
from ..data.images import iter_image_files, load_rgb, natural_key
from ..errors import GanStudioError, ImageLoadError
from ..folder_identity import identity, within
from ..fsutil import atomic_path, atomic_write_text, remove_stale_temp_files
from ..humanize import display_path
from ..rate import RateMeter
from ..runlock import FolderLock
from ..store import now_iso
from .clip_files import clip_output_name, is_clip_name, iter_clip_files
from .ledger import LEDGER_NAME, OutputLedger, OutputRecord
from .output_paths import SAVE_FORMATS, OutputGuard, folder_name_for, output_name
from .source_state import SourceState
from .statuses import CONVERTED, FAILED, SKIPPED, STATUSES
from .translator import Translator
from .video import VideoOptions, VideoProgress, convert_video
from .video_probe import VideoError

PlanItem = tuple[Path, Path | None, str]  # (input, output, why not): see BatchJob.plan

log = logging.getLogger(__name__)

REPORT_NAME = "gan-studio-report"  # the newest run's report; each run's is kept in REPORTS_DIR too
REPORTS_DIR = "gan-studio-reports"
LOCK_NAME = ".gan-studio-convert.lock"
PREFETCH = 3  # images decoded ahead of the translator
MAX_WRITES = 2  # translated images waiting to be encoded: bounds memory, and cancel stops that close
OUT_OF_MEMORY = (
    "not enough memory for this photo: choose smaller tiles or a smaller processing scale, or close other programs"
)
REPORT_EVERY_S = 2.0  # the report on disk stays current, so a killed job still leaves a true one


class BatchError(GanStudioError):
    """The job cannot start (bad folders); per-file problems never raise, they are reported."""


class OutputFolderUnwritable(BatchError):
    """The output folder cannot be created or written (a read-only or full disk, permissions)."""


class _OutputFolderLock(FolderLock):
    removed_on_release = True  # no hidden file left in the artist's folder once the job is done

    def _busy(self, holder: str) -> GanStudioError:
        return BatchError(
            f"another conversion is writing into {display_path(self.path.parent)} ({holder}): "
            "wait for it to finish, or choose another output folder"
        )


@dataclass(frozen=True)
class BatchStarted:
    total: int
    tiling: str  # e.g. "tiles of up to 1024x1024 px (automatic)"


@dataclass(frozen=True)
class FileDone:
    input: Path
    output: Path | None
    status: str  # one of STATUSES
    detail: str  # why it failed or was skipped; for a converted file, why it was redone ("" if new)
    done: int
    total: int
    images_per_s: float
    eta_s: float

    @property
    def name(self) -> str:
        """The input's file name, printable whatever bytes it holds."""
        return display_path(self.input.name)


@dataclass(frozen=True)
class ClipProgress:
    """Frames done within the clip being converted; FileDone still counts whole files."""

    input: Path
    frames_done: int
    frames_total: int  # an estimate from the clip's index or duration
    frames_per_s: float
    eta_s: float
    resumed_from: int  # frames an earlier, stopped run had finished
    done: int  # files finished before this clip
    total: int


@dataclass(frozen=True)
class BatchFinished:
    counts: dict[str, int]
    cancelled: bool
    report_path: Path | None  # the readable text report (a JSON one lies beside it)
    stopped: str = ""  # why the job ended early by itself (a full or read-only disk)
    summary: str = ""  # the counts in words: "5 converted (2 redone), 1 skipped"


@dataclass
class FileResult:
    input: str  # display_path: undecodable bytes escaped
    output: str | None
    status: str
    detail: str = ""
    seconds: float = 0.0
    redone: bool = False  # converted again over an earlier output of ours (detail says why)


@dataclass
class BatchReport:
    input_dir: str
    output_dir: str
    model: str
    started: str
    finished: str = ""
    cancelled: bool = False
    stopped: str = ""  # why the job stopped early on its own (a full disk)
    files: list[FileResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict(Counter(f.status for f in self.files))
        redone = sum(f.redone for f in self.files)
        return {**counts, "redone": redone} if redone else counts

    def summary(self) -> str:
        """The counts in words: "5 converted (2 redone), 1 skipped", or "nothing to convert"."""
        c = self.counts()
        parts = [
            f"{c[status]} {status}" + (f" ({c['redone']} redone)" if status == CONVERTED and c.get("redone") else "")
            for status in STATUSES
            if c.get(status)
        ]
        return ", ".join(parts) or "nothing to convert"

    def text(self) -> str:
        lines = [
            f"GAN Studio conversion with {self.model}",
            f"from {self.input_dir}",
            f"to   {self.output_dir}",
            f"started {self.started}, finished {self.finished or '(still running, or killed)'}"
            + (" (cancelled)" if self.cancelled and not self.stopped else "")
            + (f" ({self.stopped})" if self.stopped else ""),
            self.summary(),
            "",
        ]
        for f in self.files:
            if f.status != CONVERTED or f.redone:
                status = "REDONE" if f.redone else f.status.upper()
                lines.append(f"{status:9} {f.input}: {f.detail}")
        return "\n".join(lines) + "\n"


class OtherModelOutputs(BatchError):
    """The output folder holds results of other models, and the settings say to ask first."""

    def __init__(self, folder: Path, others: dict[str, int], model: str):
        self.folder, self.others, self.subfolder = folder, others, folder / folder_name_for(model)
        count = sum(others.values())
        names = " and ".join(sorted(others))
        super().__init__(
            f"{display_path(folder)} holds {count} result{'s' if count != 1 else ''} of the "
            f"model{'s' if len(others) > 1 else ''} {names}: convert into the subfolder "
            f"{display_path(self.subfolder.name)}, replace them, or choose another output folder"
        )


def _read_photo(path: Path) -> tuple[Image.Image, SourceState]:
    """The photo decoded (any size converts, a 1x1 icon too: the translator pads), and what it was."""
    return SourceState.around(path, lambda p: load_rgb(p, min_side=1))


class BatchJob:
    def __init__(
        self,
        translator: Translator,
        input_dir,
        output_dir,
        config: ConvertConfig,
        model_name: str = "",
        on_event=None,
        cancel: threading.Event | None = None,
        model_id: str = "",
        video_options: VideoOptions | None = None,
    ):
        self.translator = translator
        self.input_dir = Path(input_dir).expanduser().absolute()
        self.output_dir = Path(output_dir).expanduser().absolute()
        self.config = config.validate()
        self.model_name = model_name
        self.model_id = model_id or model_name
        self.on_event = on_event or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self._check_folders()
        self._check_own_files()
        self.moved_aside = self._keep_other_models_outputs()
        settings = f"{translator.fingerprint()}|{self.config.format}|{self.config.quality}"
        self.fingerprint = hashlib.blake2b(settings.encode(), digest_size=16).hexdigest()
        self.settings = {**translator.pixel_settings(), "format": self.config.format, "quality": str(config.quality)}
        self.video_options = video_options or VideoOptions.from_config(self.config)
        self.video_options.validate()
        frames = {f"video_{name}": str(value) for name, value in self.video_options.frame_settings().items()}
        self.clip_settings = {**translator.pixel_settings(), **frames}
        clip_key = f"{translator.fingerprint()}|{json.dumps(frames, sort_keys=True)}"
        self.clip_fingerprint = hashlib.blake2b(clip_key.encode(), digest_size=16).hexdigest()
        self.report = BatchReport(display_path(self.input_dir), display_path(self.output_dir), model_name, now_iso())
        self._lock = _OutputFolderLock(
            self.output_dir / LOCK_NAME,
            f"model {model_name or '?'}, from {display_path(self.input_dir)}, started {self.report.started}",
        )
        self._lock.acquire()
        try:
            # The lock is ours: any temporary file here is a leftover of a killed job.
            remove_stale_temp_files(self.output_dir, recursive=True, older_than_s=0)
            self.ledger = OutputLedger(self.output_dir, self.input_dir)
        except BaseException:
            self._lock.release()
            raise
        self.guard = OutputGuard(self.input_dir, self.config.recursive)
        self._output_id = identity(self.output_dir)
        self._dated_report = self._dated_report_name()
        self._rate = RateMeter(window=20)
        self._done = 0
        self._lock_results = threading.Lock()  # results arrive from the encoder threads too
        self._report_written = 0.0
        self.failed_inputs: list[Path] = []  # real paths (report entries are display strings)
        self.stop_reason = ""

    # The job holds the output folder's lock from its creation: ``with BatchJob(...) as job`` lets it
    # go however the job ends (run and watch let it go when they finish, too).
    def __enter__(self) -> BatchJob:
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()

    def _check_folders(self) -> None:
        """Folders are compared as the file system sees them (see output_paths.py), before anything is written."""
        if self.input_dir.is_file():
            raise BatchError(
                f"the input {display_path(self.input_dir)} is a file: choose the folder that holds the photos"
            )
        if not self.input_dir.is_dir():
            raise BatchError(f"the input folder {display_path(self.input_dir)} does not exist")
        src, dst = identity(self.input_dir), identity(self.output_dir)
        if dst == src:
            alias = "" if self.output_dir.resolve() == self.input_dir.resolve() else " under another name"
            raise BatchError(
                f"the output folder is the input folder{alias} ({display_path(self.output_dir)}): "
                "choose another one, so that no photo is ever overwritten"
            )
        if within(self.input_dir, dst):
            raise BatchError(
                f"the input folder is inside the output folder {display_path(self.output_dir)}: "
                "choose an output folder outside it"
            )
        if self.config.recursive and within(self.output_dir, src):
            raise BatchError(
                f"the output folder {display_path(self.output_dir)} is inside the input folder, "
                "which is converted with its subfolders: choose a folder outside it"
            )
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputFolderUnwritable(
                f"cannot create the output folder {display_path(self.output_dir)}: {exc.strerror or exc}"
            ) from None
        if not os.access(self.output_dir, os.W_OK):
            raise OutputFolderUnwritable(
                f"the output folder {display_path(self.output_dir)} is not writable: choose another one"
            )

    def _check_own_files(self) -> None:
        """The lock and the ledger are written in place: refuse a link, pipe or folder in their stead."""
        for name in (LOCK_NAME, LEDGER_NAME):
            try:
                info = os.lstat(self.output_dir / name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise BatchError(f"cannot check {name} in {display_path(self.output_dir)}: {exc.strerror}") from None
            if not stat.S_ISREG(info.st_mode):
                raise BatchError(
                    f"{display_path(self.output_dir / name)} is not a regular file (a link, a pipe or "
                    "a folder): GAN Studio keeps its own records there; remove it, or choose "
                    "another output folder"
                )

    def _keep_other_models_outputs(self) -> dict[str, int]:
        """Results of other models in the output folder, by model name; per the settings the new
        results go into a subfolder named after this model (returned non-empty), or the job is refused."""
        policy = self.config.other_model_outputs
        if policy == "replace" or not self.model_id:
            return {}
        others = dict(OutputLedger(self.output_dir, self.input_dir).other_models(self.model_id))
        if not others:
            return {}
        if policy == "ask":
            raise OtherModelOutputs(self.output_dir, others, self.model_name or self.model_id)
        self.output_dir = self.output_dir / folder_name_for(self.model_name or self.model_id)
        self._check_folders()
        self._check_own_files()
        return others

    def _dated_report_name(self) -> str:
        """``2026-12-02 06.49.47 ink``: names sort by time (``….47.2 ink`` for a second run that second)."""
        stamp = self.report.started.replace("T", " ").replace(":", ".").split("+")[0]
        model = f" {folder_name_for(self.model_name)}" if self.model_name else ""
        name, n = stamp + model, 1
        while os.path.lexists(self.output_dir / REPORTS_DIR / f"{name}.txt"):
            n += 1
            name = f"{stamp}.{n}{model}"
        return name

    # -- planning ---------------------------------------------------------------------------
    def plan(self, inputs: list[Path] | None = None) -> list[PlanItem]:
        """(input, output, why not) triples: outputs mirror subfolders and follow output_name.

        "why not" is empty, or the reason this input cannot be converted: its
        output name is taken by a photo that keeps its own name, or it is what the
        listing could not use (a folder named like a photo, one that cannot be
        read), which has no output.
        """
        unusable: list[ImageLoadError] = []
        if inputs is None:
            listed = list(iter_image_files(self.input_dir, self.config.recursive, skipped=unusable))
            listed += iter_clip_files(self.input_dir, self.config.recursive)
            listed.sort(key=lambda p: [natural_key(part) for part in p.relative_to(self.input_dir).parts])
            inputs = [p for p in listed if not within(p, self._output_id)]
        self.guard.add_inputs(inputs)
        outputs = []
        for path in inputs:
            rel = path.absolute().relative_to(self.input_dir)
            if is_clip_name(rel.name):
                name = clip_output_name(rel.name, self.config.video_container, self.video_options.codec)
            else:
                name = output_name(rel.name, self.config.format)
            outputs.append((path, self.output_dir / rel.parent / name, name == rel.name))
        kept = {out: src for src, out, keeps_name in outputs if keeps_name}
        plan = []
        for src, out, keeps_name in outputs:
            owner = kept.get(out)
            clash = (
                ""
                if keeps_name or owner is None
                else (
                    f"its output name {display_path(out.name)} belongs to the photo {display_path(owner.name)}; "
                    "rename one of the two"
                )
            )
            plan.append((src, out, clash))
        return plan + [(Path(e.path), None, f"{e.reason}: {e.detail}") for e in unusable]

    def _decide(self, src: Path, dst: Path) -> tuple[str, str]:
        """(what to do: CONVERTED, SKIPPED or FAILED, and why) for one output path."""
        problem = self.guard.problem(dst)
        if problem:
            return FAILED, problem
        if not os.path.lexists(dst):
            return CONVERTED, ""
        clip = is_clip_name(src.name)
        fingerprint, settings = self.fingerprint, self.settings
        if clip:
            fingerprint, settings = self.clip_fingerprint, self.clip_settings
        record = self.ledger.get(self._rel(dst, self.output_dir))
        if record is None or record.input != self._rel(src, self.input_dir):
            if self.config.skip_existing:
                return FAILED, (
                    f"{display_path(dst.name)} is already in the output folder and GAN Studio did not "
                    "write it for this photo: move it away, choose another output folder, or "
                    "convert with overwriting"
                )
            return CONVERTED, "redone: replaced a file GAN Studio had not written (overwriting was asked for)"
        if not self.config.skip_existing:
            return CONVERTED, "redone: overwriting was asked for"
        if not record.done:
            return CONVERTED, "redone: its earlier conversion did not finish"
        if record.fingerprint != fingerprint:
            return CONVERTED, "redone: " + self._what_changed(record, settings)
        source = SourceState.from_dict(record.source)
        if source is not None and not source.matches(src):
            return CONVERTED, "redone: the clip changed" if clip else "redone: the photo changed"
        return SKIPPED, "already converted with this model and these settings"

    def _what_changed(self, record: OutputRecord, settings: dict[str, str]) -> str:
        if not record.fingerprint:
            return "made by an earlier version of GAN Studio, with settings it did not record"
        if record.model and self.model_id and record.model != self.model_id:  # "" : not known
            return f"made with another model ({record.model_name or record.model})"
        changed = [name for name in settings if record.settings.get(name) != settings[name]]
        if record.weights and record.weights != self.translator.weights_digest():
            return "the model's weights changed (trained further)"
        if record.settings and len(changed) == 1:
            name = changed[0]
            return f"the setting {name} changed ({record.settings.get(name, '?')} → {settings[name]})"
        if record.settings and changed:
            return f"the settings {', '.join(changed)} changed"
        return "the model, its weights or the conversion settings changed"

    @staticmethod
    def _rel(path: Path, folder: Path) -> str:
        return str(path.absolute().relative_to(folder))

    # -- running -----------------------------------------------------------------------------
    def run(self, inputs: list[Path] | None = None, finish: bool = True) -> BatchReport:
        try:
            self._run(inputs, announce=finish)
        finally:
            if finish:
                self.finish()
        return self.report

    def _run(self, inputs: list[Path] | None, announce: bool) -> None:
        plan = self.plan(inputs)
        total = len(plan)
        if announce:
            self.on_event(BatchStarted(total, self.translator.describe()))
        photos: list[PlanItem] = []
        clips: list[PlanItem] = []
        for item in plan:
            (clips if item[1] is not None and is_clip_name(item[0].name) else photos).append(item)
        self._run_photos(photos, total)
        for src, dst, clash in clips:  # one at a time: a clip keeps the device busy by itself
            if self.cancel.is_set():
                break
            if clash or dst is None:
                self._record(src, None, FAILED, clash, total)
                continue
            action, why = self._decide(src, dst)
            if action == CONVERTED:
                self._convert_clip(src, dst, why, total)
            else:  # a skipped clip names its output: the app plays it from there
                self._record(src, dst if action == SKIPPED else None, action, why, total)

    def _run_photos(self, plan: list[PlanItem], total: int) -> None:
        with (
            ThreadPoolExecutor(2, thread_name_prefix="decode") as decoders,
            ThreadPoolExecutor(2, thread_name_prefix="encode") as encoders,
        ):
            pending: deque[tuple[Path, Path | None, str, str, Future | None]] = deque()
            queue = iter(plan)
            writes: deque[Future] = deque()

            def refill():
                while len(pending) < PREFETCH:
                    try:
                        src, dst, clash = next(queue)
                    except StopIteration:
                        return
                    action, why = (FAILED, clash) if clash or dst is None else self._decide(src, dst)
                    # Any size converts (a 1x1 icon too): the translator pads what the network needs.
                    decoding = decoders.submit(_read_photo, src) if action == CONVERTED else None
                    pending.append((src, dst, action, why, decoding))

            refill()
            while pending and not self.cancel.is_set():
                src, dst, action, why, decoding = pending.popleft()
                refill()
                if decoding is None or dst is None:  # not to convert (dst is None only beside a reason)
                    self._record(src, None, action, why, total)
                    continue
                started = time.perf_counter()
                try:
                    image, source = decoding.result()
                    result = self.translator.translate(image)
                except ImageLoadError as exc:
                    self._record(src, None, FAILED, f"{exc.reason}: {exc.detail}", total)
                    continue
                except MemoryError:
                    self._record(src, None, FAILED, OUT_OF_MEMORY, total)
                    continue
                except Exception as exc:  # one bad file never stops the batch
                    log.exception("translating %s failed", display_path(src))
                    self._record(src, None, FAILED, f"{type(exc).__name__}: {exc}", total)
                    continue
                while len(writes) >= MAX_WRITES:
                    writes.popleft().result()
                writes.append(encoders.submit(self._write, src, dst, result, source, started, total, why))
            for pending_item in pending:
                if pending_item[4] is not None:
                    pending_item[4].cancel()
            for write in writes:
                write.result()

    def watch(self, poll_s: float = 1.0) -> BatchReport:
        """Convert the folder, then keep converting images as they arrive, until cancelled."""
        from .watch import FolderWatcher, latest_result_per_input

        try:
            watcher = FolderWatcher(self.input_dir, self.config.recursive, exclude=self.output_dir)
            watcher.poll()  # what is there now is converted by the first run
            self.run(finish=False)
            while not self.cancel.wait(poll_s):
                arrived = watcher.poll()
                if arrived:
                    known = len(self.failed_inputs)
                    self.run(arrived, finish=False)
                    with self._lock_results:  # a photo that failed half-copied and then converted: converted
                        self.report.files = latest_result_per_input(self.report.files)
                    for path in self.failed_inputs[known:]:  # perhaps still being copied: retry when it changes
                        watcher.retry_when_changed(path)
        finally:
            self.finish()
        return self.report

    def finish(self) -> None:
        self.report.cancelled = self.cancel.is_set()
        self.report.stopped = self.stop_reason
        self.report.finished = now_iso()
        report_path = self._write_report()
        try:
            self.ledger.compact()
        except OSError as exc:
            log.warning("could not tidy %s: %s", self.ledger.path, exc)
        self._lock.release()
        self.on_event(
            BatchFinished(
                self.report.counts(), self.report.cancelled, report_path, self.stop_reason, self.report.summary()
            )
        )

    def _convert_clip(self, src: Path, dst: Path, why: str, total: int) -> None:
        """Convert one clip into ``dst``; a cancelled one is not recorded (a rerun continues it)."""
        problem = self.guard.problem(dst)
        if problem:
            self._record(src, None, FAILED, problem, total)
            return
        rel = self._rel(dst, self.output_dir)
        record = OutputRecord(
            self._rel(src, self.input_dir),
            self.clip_fingerprint,
            model=self.model_id,
            model_name=self.model_name,
            weights=self.translator.weights_digest(),
            settings=self.clip_settings,
        )
        # _decide allowed replacing what is there (ours and stale, or overwriting was asked for).
        options = replace(self.video_options, overwrite=os.path.lexists(dst))
        done_before, started = self._done, time.perf_counter()

        def progress(event: VideoProgress) -> None:
            self.on_event(
                ClipProgress(
                    src,
                    event.frames_done,
                    event.frames_total,
                    event.frames_per_s,
                    event.eta_s,
                    event.resumed_from,
                    done_before,
                    total,
                )
            )

        try:
            self.ledger.claim(rel, record)  # before the clip can appear: a kill after it leaves it known unfinished
            report, source = SourceState.around(
                src, lambda path: convert_video(self.translator, path, dst, options, progress, self.cancel)
            )
        except VideoError as exc:
            named = exc.detail if Path(exc.path) == src else f"cannot write {display_path(dst.name)}: {exc.detail}"
            self._stop_if_disk_failed(exc.__context__)  # the OSError that convert_video put in words
            self._record(src, None, FAILED, named, total)
            return
        except GanStudioError as exc:
            self._record(src, None, FAILED, str(exc), total)
            return
        except MemoryError:
            self._record(src, None, FAILED, OUT_OF_MEMORY, total)
            return
        except OSError as exc:  # the ledger's claim: a full or read-only disk
            self._stop_if_disk_failed(exc)
            self._record(src, None, FAILED, f"cannot write {display_path(dst.name)}: {exc.strerror or exc}", total)
            return
        except Exception as exc:  # one bad clip never stops the batch
            log.exception("converting %s failed", display_path(src))
            self._record(src, None, FAILED, f"{type(exc).__name__}: {exc}", total)
            return
        if report.cancelled:
            return
        record.source = source.to_dict()
        self.ledger.confirm(rel)
        self._record(src, dst, CONVERTED, why, total, time.perf_counter() - started)

    def _write(
        self, src: Path, dst: Path, image: Image.Image, source: SourceState, started: float, total: int, why: str
    ) -> None:
        problem = self.guard.problem(dst)  # again: a link may have appeared since the plan
        if problem:
            self._record(src, None, FAILED, problem, total)
            return
        rel = self._rel(dst, self.output_dir)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            fmt = SAVE_FORMATS[dst.suffix.lower()]
            options = {"quality": self.config.quality} if fmt in ("JPEG", "WEBP") else {}
            record = OutputRecord(
                self._rel(src, self.input_dir),
                self.fingerprint,
                model=self.model_id,
                model_name=self.model_name,
                weights=self.translator.weights_digest(),
                settings=self.settings,
                source=source.to_dict(),
            )
            with atomic_path(dst) as tmp:
                image.save(tmp, format=fmt, **options)
                self.ledger.claim(rel, record)
            self.ledger.confirm(rel)
        except OSError as exc:
            self._stop_if_disk_failed(exc)
            self._record(src, None, FAILED, f"cannot write {display_path(dst.name)}: {exc.strerror or exc}", total)
            return
        except Exception as exc:  # e.g. WebP refuses images over 16383 px: this file fails, the batch goes on
            self._record(src, None, FAILED, f"cannot write {display_path(dst.name)}: {exc}", total)
            return
        self._record(src, dst, CONVERTED, why, total, time.perf_counter() - started)

    def _stop_if_disk_failed(self, exc: BaseException | None) -> None:
        """Every further file would fail the same way on a full or read-only disk: stop, keeping what was converted."""
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            self.stop_reason = f"stopped: {exc.strerror} in {display_path(self.output_dir)}"
            self.cancel.set()

    def _record(self, src: Path, dst: Path | None, status: str, detail: str, total: int, seconds: float = 0.0) -> None:
        with self._lock_results:
            redone = status == CONVERTED and bool(detail)
            self.report.files.append(
                FileResult(display_path(src), display_path(dst) if dst else None, status, detail, seconds, redone)
            )
            if status == FAILED:
                self.failed_inputs.append(src)
            self._done += 1
            now = time.perf_counter()
            if status == CONVERTED:
                self._rate.tick(now)
            rate, eta = self._rate.rate, self._rate.eta(max(0, total - self._done))
            event = FileDone(src, dst, status, detail, self._done, total, rate, eta)
            if now - self._report_written >= REPORT_EVERY_S:
                self._report_written = now
                self._write_report()
        self.on_event(event)

    def _write_report(self) -> Path | None:
        """The report as JSON (for tools) and as text, this run's dated one and the newest beside the
        outputs; returns the newest text one, which is what people read."""
        as_json = json.dumps({**asdict(self.report), "counts": self.report.counts()}, indent=1)
        as_text = self.report.text()
        dated = self.output_dir / REPORTS_DIR / self._dated_report
        try:
            for base in (dated, self.output_dir / REPORT_NAME):
                atomic_write_text(base.with_name(base.name + ".json"), as_json)
                atomic_write_text(base.with_name(base.name + ".txt"), as_text)
        except OSError as exc:
            log.error("could not write the conversion report: %s", exc)
            return None
        return self.output_dir / f"{REPORT_NAME}.txt"
