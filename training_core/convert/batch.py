"""Convert a folder of photos: every file at its own size, nothing overwritten, every failure explained.

Decoding (a small thread pool), translation (the calling thread, on the
device) and encoding (another pool) overlap, so the device is not idle while
files are read and written. Each output is written to a temporary file and
renamed into place, so a killed job never leaves a half-written image that
looks complete; with ``skip_existing`` a rerun continues where it stopped.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from ..config import ConvertConfig
from ..data.images import iter_image_files, load_rgb
from ..errors import GanStudioError, ImageLoadError
from ..fsutil import atomic_path, atomic_write_text
from ..store import now_iso
from .translator import Translator

log = logging.getLogger(__name__)

REPORT_NAME = "gan-studio-report"
SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
                ".tif": "TIFF", ".tiff": "TIFF"}
FORMAT_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
PREFETCH = 3  # images decoded ahead of the translator
MAX_WRITES = 2  # translated images waiting to be encoded: bounds memory, and cancel stops that close
REPORT_EVERY_S = 2.0  # the report on disk stays current, so a killed job still leaves a true one
_STALE_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what fsutil.atomic_path names its temp files


class BatchError(GanStudioError):
    """The job cannot start (bad folders); per-file problems never raise, they are reported."""


@dataclass(frozen=True)
class BatchStarted:
    total: int
    tiling: str  # e.g. "tiles of up to 1024x1024 px (automatic)"


@dataclass(frozen=True)
class FileDone:
    input: Path
    output: Path | None
    status: str  # "converted", "skipped", "failed"
    detail: str
    done: int
    total: int
    images_per_s: float
    eta_s: float


@dataclass(frozen=True)
class BatchFinished:
    counts: dict[str, int]
    cancelled: bool
    report_path: Path | None
    stopped: str = ""  # why the job ended early by itself (a full or read-only disk)


@dataclass
class FileResult:
    input: str
    output: str | None
    status: str
    detail: str = ""
    seconds: float = 0.0


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
        return dict(Counter(f.status for f in self.files))

    def text(self) -> str:
        c = self.counts()
        lines = [f"GAN Studio conversion with {self.model}", f"from {self.input_dir}", f"to   {self.output_dir}",
                 f"started {self.started}, finished {self.finished or '(still running, or killed)'}"
                 + (" (cancelled)" if self.cancelled and not self.stopped else "")
                 + (f" ({self.stopped})" if self.stopped else ""),
                 f"converted {c.get('converted', 0)}, skipped {c.get('skipped', 0)}, failed {c.get('failed', 0)}",
                 ""]
        for f in self.files:
            if f.status != "converted":
                lines.append(f"{f.status.upper():9} {f.input}: {f.detail}")
        return "\n".join(lines) + "\n"


def output_suffix(path: Path, fmt: str) -> str:
    if fmt == "same":
        suffix = path.suffix.lower()
        return suffix if suffix in SAVE_FORMATS else ".png"  # GIF and the like: lossless PNG
    return FORMAT_SUFFIX[fmt]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


class BatchJob:
    def __init__(self, translator: Translator, input_dir, output_dir, config: ConvertConfig,
                 model_name: str = "", on_event=None, cancel: threading.Event | None = None):
        self.translator = translator
        self.input_dir = Path(input_dir).expanduser().absolute()
        self.output_dir = Path(output_dir).expanduser().absolute()
        self.config = config.validate()
        self.model_name = model_name
        self.on_event = on_event or (lambda event: None)
        self.cancel = cancel or threading.Event()
        self._check_folders()
        self.report = BatchReport(str(self.input_dir), str(self.output_dir), model_name, now_iso())
        self._times: deque[float] = deque(maxlen=20)
        self._done = 0
        self._lock = threading.Lock()  # results arrive from the encoder threads too
        self._report_written = 0.0
        self.stop_reason = ""
        self._remove_stale_temp_files()

    def _check_folders(self) -> None:
        src, dst = self.input_dir.resolve(), self.output_dir.resolve()
        if not self.input_dir.is_dir():
            raise BatchError(f"the input folder {self.input_dir} does not exist")
        if dst == src:
            raise BatchError("the output folder is the input folder: choose another one, so that no photo "
                             "is ever overwritten")
        if _inside(src, dst):
            raise BatchError(f"the input folder is inside the output folder {self.output_dir}: choose an "
                             "output folder outside it")
        if self.config.recursive and _inside(dst, src):
            raise BatchError(f"the output folder {self.output_dir} is inside the input folder, which is "
                             "converted with its subfolders: choose a folder outside it")
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(f"cannot create the output folder {self.output_dir}: {exc.strerror or exc}") from None
        if not os.access(self.output_dir, os.W_OK):
            raise BatchError(f"the output folder {self.output_dir} is not writable: choose another one")

    def _remove_stale_temp_files(self) -> None:
        """Half-written outputs of a job that was killed: hidden, never mistaken for results, now removed."""
        for path in self.output_dir.rglob(".*.tmp"):
            if _STALE_TEMP.match(path.name):
                path.unlink(missing_ok=True)

    # -- planning ---------------------------------------------------------------------------
    def plan(self, inputs: list[Path] | None = None) -> list[tuple[Path, Path]]:
        """(input, output) pairs; outputs mirror subfolders and keep names, never an input's path."""
        if inputs is None:
            inputs = [p for p in iter_image_files(self.input_dir, self.config.recursive)
                      if not _inside(p.absolute(), self.output_dir)]
        all_inputs = {p.absolute() for p in inputs}
        taken: set[Path] = set()
        pairs = []
        for path in inputs:
            rel = path.absolute().relative_to(self.input_dir)
            out = self.output_dir / rel.parent / (rel.stem + output_suffix(path, self.config.format))
            n = 2
            while out in taken or out in all_inputs:  # "a.jpg" and "a.png" both becoming PNG
                out = self.output_dir / rel.parent / f"{rel.stem}-{n}{output_suffix(path, self.config.format)}"
                n += 1
            taken.add(out)
            pairs.append((path, out))
        return pairs

    # -- running -----------------------------------------------------------------------------
    def run(self, inputs: list[Path] | None = None, finish: bool = True) -> BatchReport:
        pairs = self.plan(inputs)
        total = len(pairs)
        if finish:
            self.on_event(BatchStarted(total, self.translator.describe()))
        with ThreadPoolExecutor(2, thread_name_prefix="decode") as decoders, \
                ThreadPoolExecutor(2, thread_name_prefix="encode") as encoders:
            pending: deque[tuple[Path, Path, Future | None]] = deque()
            queue = iter(pairs)
            writes: deque[Future] = deque()

            def refill():
                while len(pending) < PREFETCH:
                    try:
                        src, dst = next(queue)
                    except StopIteration:
                        return
                    skip = self.config.skip_existing and dst.exists()
                    # Any size converts (a 1x1 icon too): the translator pads what the network needs.
                    pending.append((src, dst, None if skip else decoders.submit(load_rgb, src, min_side=1)))

            refill()
            while pending and not self.cancel.is_set():
                src, dst, decoding = pending.popleft()
                refill()
                if decoding is None:
                    self._record(src, dst, "skipped", "already converted (the output exists)", total)
                    continue
                started = time.perf_counter()
                try:
                    image = decoding.result()
                    result = self.translator.translate(image)
                except ImageLoadError as exc:
                    self._record(src, None, "failed", f"{exc.reason}: {exc.detail}", total)
                    continue
                except Exception as exc:  # one bad file never stops the batch
                    log.exception("translating %s failed", src)
                    self._record(src, None, "failed", f"{type(exc).__name__}: {exc}", total)
                    continue
                while len(writes) >= MAX_WRITES:
                    writes.popleft().result()
                writes.append(encoders.submit(self._write, src, dst, result, started, total))
            for pending_item in pending:
                if pending_item[2] is not None:
                    pending_item[2].cancel()
            for write in writes:
                write.result()
        if finish:
            self.finish()
        return self.report

    def watch(self, poll_s: float = 1.0) -> BatchReport:
        """Convert the folder, then keep converting images as they arrive, until cancelled."""
        from .watch import FolderWatcher

        watcher = FolderWatcher(self.input_dir, self.config.recursive, exclude=self.output_dir)
        watcher.poll()  # what is there now is converted by the first run
        self.run(finish=False)
        while not self.cancel.wait(poll_s):
            arrived = watcher.poll()
            if arrived:
                known = len(self.report.files)
                self.run(arrived, finish=False)
                for result in self.report.files[known:]:
                    if result.status == "failed":  # perhaps still being copied: try again when it changes
                        watcher.retry_when_changed(Path(result.input))
        self.finish()
        return self.report

    def finish(self) -> None:
        self.report.cancelled = self.cancel.is_set()
        self.report.stopped = self.stop_reason
        self.report.finished = now_iso()
        report_path = self._write_report()
        self.on_event(BatchFinished(self.report.counts(), self.report.cancelled, report_path, self.stop_reason))

    def _write(self, src: Path, dst: Path, image: Image.Image, started: float, total: int) -> None:
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            fmt = SAVE_FORMATS[dst.suffix.lower()]
            options = {"quality": self.config.quality} if fmt in ("JPEG", "WEBP") else {}
            with atomic_path(dst) as tmp:
                image.save(tmp, format=fmt, **options)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                # Every further file would fail the same way: stop, keeping what was converted.
                self.stop_reason = f"stopped: {exc.strerror} in {self.output_dir}"
                self.cancel.set()
            self._record(src, None, "failed", f"cannot write {dst.name}: {exc.strerror or exc}", total)
            return
        except Exception as exc:  # e.g. WebP refuses images over 16383 px: this file fails, the batch goes on
            self._record(src, None, "failed", f"cannot write {dst.name}: {exc}", total)
            return
        self._record(src, dst, "converted", "", total, time.perf_counter() - started)

    def _record(self, src: Path, dst: Path | None, status: str, detail: str, total: int,
                seconds: float = 0.0) -> None:
        with self._lock:
            self.report.files.append(FileResult(str(src), str(dst) if dst else None, status, detail, seconds))
            self._done += 1
            now = time.perf_counter()
            if status == "converted":
                self._times.append(now)
            rate = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
            left = max(0, total - self._done)
            eta = left / rate if rate else float("inf")
            event = FileDone(src, dst, status, detail, self._done, total, rate, eta)
            if now - self._report_written >= REPORT_EVERY_S:
                self._report_written = now
                self._write_report()
        self.on_event(event)

    def _write_report(self) -> Path | None:
        path = self.output_dir / f"{REPORT_NAME}.json"
        try:
            atomic_write_text(path, json.dumps({**asdict(self.report), "counts": self.report.counts()}, indent=1))
            atomic_write_text(self.output_dir / f"{REPORT_NAME}.txt", self.report.text())
        except OSError as exc:
            log.error("could not write the conversion report: %s", exc)
            return None
        return path

