"""The model library: one folder per model under the user data dir ($GAN_STUDIO_HOME overrides).

A model folder holds ``model.json`` (what it is and how far it got),
``generator.safetensors`` (the weights conversion needs; both directions for
CycleGAN), ``sample.png`` (the latest preview strip) and ``run/`` (checkpoints,
samples, metrics log, dataset lists, lock). The folder name is a stable id;
the display name lives in model.json, so renaming never moves files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from .errors import GanStudioError
from .fsutil import (
    MISSING,
    atomic_write_text,
    explain_write_error,
    read_regular_text,
    regular_file_problem,
    remove_stale_temp_files,
)
from .record import RESUMABLE, ModelRecord, RecordError, read_record
from .runlock import RunInUse, is_locked

log = logging.getLogger(__name__)

APP_NAME = "GAN Studio"
APP_AUTHOR = "GAN Studio"
DAMAGED = "damaged"  # shown for a model folder whose model.json cannot be used (record.STATES has the rest)
# Temporary files in a model folder that no process trains are this old at least before they count as
# left by a killed process: a rename in another window writes model.json in milliseconds.
IDLE_TEMP_AGE_S = 60
MAX_RECORD_BYTES = 4 << 20  # a record is a few kB; more is not a model.json, and is not read whole
STAGING_PREFIX = ".new-model-"  # a model being created: hidden until complete
RECORD_FIELDS = {f.name for f in dataclasses.fields(ModelRecord)} - {"extra"}
_tidied: set[str] = set()  # library folders cleaned of stale temporary files by this process


class ModelNotFound(GanStudioError):
    pass


class LibraryError(GanStudioError):
    pass


class DiskError(LibraryError):
    """The library's disk is full, read-only or not writable: nothing was changed."""


def home_override() -> Path | None:
    """``$GAN_STUDIO_HOME``: one folder for the library, settings and logs (tests, portable installs)."""
    override = os.environ.get("GAN_STUDIO_HOME")
    return Path(override).expanduser() if override else None


def data_home() -> Path:
    """Root of models and the demo project (``GAN_STUDIO_HOME`` overrides, e.g. for tests)."""
    return home_override() or Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)).expanduser()


def demo_dir(kind: str = "shapes") -> Path:
    """The built-in demo projects: "shapes" (paired, pix2pix) and "landscapes" (unpaired, CycleGAN)."""
    return data_home() / ("demo-project" if kind == "shapes" else "demo-landscapes")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class ModelEntry:
    """A model folder of the library: its typed record, or why the record cannot be used (``damage``)."""

    id: str
    path: Path
    record: ModelRecord | None
    damage: str = ""  # non-empty: model.json is missing, unreadable or invalid; only deleting works

    @property
    def name(self) -> str:
        return self.record.name if self.record else self.id

    @property
    def family(self) -> str:
        return self.record.family if self.record else "?"

    @property
    def run_dir(self) -> Path:
        return self.path / "run"

    @property
    def weights_path(self) -> Path:
        return self.path / "generator.safetensors"

    @property
    def weights_problem(self) -> str:
        """ "" when the weights file can be read; otherwise why it cannot, in words (for a button's tooltip)."""
        problem = regular_file_problem(self.weights_path)
        if problem == MISSING:
            return "this model has no trained weights yet: train it, or import a checkpoint"
        return f"its weights file {self.weights_path.name} is {problem}, not a weights file" if problem else ""

    @property
    def sample_path(self) -> Path:
        return self.path / "sample.png"

    @property
    def in_use(self) -> bool:
        """A process is training this model right now (running, or paused inside an open app)."""
        try:
            return is_locked(self.run_dir)
        except OSError:
            return False

    @property
    def state(self) -> str:
        """One of STATES (the run lock tells running from interrupted), or "damaged"."""
        if self.record is None:
            return DAMAGED
        if self.record.state == "running":
            return "running" if self.in_use else "interrupted"
        return self.record.state

    @property
    def can_resume(self) -> bool:
        """Training continues from its last checkpoint (paused, interrupted or failed; trained here,
        not imported). The CLI's "continue" line, the Train tab's card and the Models tab ask this."""
        return self.state in RESUMABLE and self.record is not None and self.record.train is not None

    def require(self) -> ModelRecord:
        """The record, or a LibraryError that says what is wrong and what to do."""
        if self.record is None:
            raise LibraryError(
                f"the model {self.id} is damaged ({self.damage}): delete it "
                f"(gan-studio-models delete {self.id}), or restore its model.json from a backup"
            )
        return self.record


def _is_folder_id(key: str) -> bool:
    """A plain folder name inside the library: never ".", "..", a path, or a hidden or control-character name."""
    return bool(key) and not key.startswith(".") and "/" not in key and "\\" not in key and key.isprintable()


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.").lower()
    return slug[:60] or "model"


class ModelLibrary:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else data_home() / "models"

    def _read(self, folder: Path) -> ModelEntry:
        """The model in ``folder``; a damaged entry (never an exception) when its record is unusable.

        model.json is untrusted: a pipe in its place must not block, a link to
        /dev/zero must not fill the memory, and JSON nested 100,000 deep must
        not end the listing of every other model.
        """
        try:
            text = read_regular_text(folder / "model.json", max_bytes=MAX_RECORD_BYTES, follow_links=True)
            return ModelEntry(folder.name, folder, read_record(json.loads(text)))
        except FileNotFoundError:
            damage = "model.json is missing"
        except OSError as exc:
            damage = f"model.json cannot be read: {exc.strerror or exc}"
        except RecursionError:
            damage = "model.json is not valid: it is nested too deeply to be a model's record"
        except ValueError as exc:  # not JSON, or RecordError
            damage = f"model.json is not valid: {exc}"
        except Exception as exc:  # whatever else a hostile record can provoke stays this model's damage
            log.debug("model.json in %s", folder, exc_info=True)
            damage = f"model.json is not valid: {type(exc).__name__}: {exc}"
        return ModelEntry(folder.name, folder, None, damage)

    def tidy(self) -> None:
        """Remove the temporary files that killed processes left (once per process and library).

        A checkpoint or weights file being written is a hidden temporary file
        of tens of MB; a process killed meanwhile leaves it behind. Folders of
        models that some process trains right now are left alone.
        """
        key = os.path.realpath(self.root)
        if key in _tidied:
            return
        _tidied.add(key)
        try:
            folders = [f for f in self.root.iterdir() if f.is_dir() and not f.is_symlink()]
        except OSError:
            return
        for folder in folders:
            try:
                if is_locked(folder / "run"):
                    continue
            except OSError:
                continue
            if folder.name.startswith(STAGING_PREFIX):  # a creation that was killed before it completed
                with contextlib.suppress(OSError):
                    if time.time() - folder.stat().st_mtime > IDLE_TEMP_AGE_S:
                        shutil.rmtree(folder, ignore_errors=True)
                continue
            removed = remove_stale_temp_files(folder, recursive=True, older_than_s=IDLE_TEMP_AGE_S)
            if removed:
                log.info("removed %d temporary files left by an interrupted process in %s", removed, folder)

    def new_name(self, base: str) -> str:
        """A free name for a new model: ``base`` and the next number for it ("people-outlines 3").

        Numbers, not the time: two models made minutes apart once differed only
        by "04.37" and "04.39". The number follows the highest in use for that
        base (in any case), so the newest model always has the highest one.
        """
        base = " ".join(base.split()) or "model"
        numbered = re.compile(rf"{re.escape(base.casefold())} ([0-9]+)")
        used = [int(m[1]) for e in self.list() if (m := numbered.fullmatch(e.name.casefold()))]
        return f"{base} {max(used, default=0) + 1}"

    def list(self) -> list[ModelEntry]:
        """Every model folder, newest first; damaged ones too (state "damaged"), so that they can be removed."""
        if not self.root.is_dir():
            return []
        self.tidy()
        try:
            folders = [f for f in self.root.iterdir() if f.is_dir() and not f.name.startswith(".")]
        except OSError as exc:
            raise LibraryError(f"cannot list the model library {self.root}: {exc.strerror or exc}") from None
        entries = [self._read(folder) for folder in folders]
        for entry in entries:
            if entry.damage:  # shown as damaged wherever models are listed; this is for the log file
                log.debug("model folder %s is damaged: %s", entry.path, entry.damage)
        return sorted(entries, key=lambda e: e.record.updated if e.record else "", reverse=True)

    def get(self, key: str) -> ModelEntry:
        """A model by folder id or by display name (case-insensitive)."""
        if _is_folder_id(key) and (self.root / key / "model.json").is_file():
            return self._read(self.root / key)
        entries = self.list()
        matches = [e for e in entries if e.name.casefold() == key.casefold()]
        if len(matches) == 1:
            return matches[0]
        if matches:  # copied folders, or model.json edited by hand: only the folder names tell them apart
            folders = ", ".join(sorted(e.id for e in matches))
            raise ModelNotFound(
                f"the name {key!r} is ambiguous: {len(matches)} models in {self.root} are called so (folders "
                f"{folders}); name the model by its folder instead, and rename one of them "
                f"(gan-studio-models rename {matches[-1].id} NEW-NAME)"
            )
        names = ", ".join(sorted(e.name for e in entries)) or "none yet"
        raise ModelNotFound(f"no model named {key!r} in {self.root} (models: {names})")

    def create(
        self, name: str, fields: dict, prepare: Callable[[Path], None] | None = None, state: str = "new"
    ) -> ModelEntry:
        """A new model whose record is ``fields`` plus name, state and dates.

        The record is checked before anything is written. The folder is made
        as a hidden staging folder, ``prepare(folder)`` writes what the model
        needs besides model.json (its data plan, its weights), model.json is
        written last, and only then is the folder renamed into the library:
        a kill at any moment leaves either a complete model or nothing under
        the name (a hidden staging folder, removed later by tidy()).
        """
        name = name.strip()
        if not name:
            raise LibraryError("a model needs a name")
        stamp = now_iso()
        try:
            record = read_record({**fields, "name": name, "state": state, "created": stamp, "updated": stamp})
        except RecordError as exc:
            raise LibraryError(f"cannot create the model {name!r}: {exc}") from None
        self._check_name_free(name)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = self.root / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
            staging.mkdir()  # mode 0777 less the umask, like any folder the user makes
        except OSError as exc:
            raise DiskError(f"cannot create the model {name!r}: {explain_write_error(exc, self.root)}") from None
        try:
            entry = ModelEntry(staging.name, staging, record)
            if prepare:
                prepare(staging)
            self.save(entry)
            self._check_name_free(name)  # another process may have taken it meanwhile
            entry = self._move_in(staging, record)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if isinstance(exc, OSError):
                raise DiskError(f"cannot create the model {name!r}: {explain_write_error(exc, self.root)}") from None
            raise
        return entry

    def _check_name_free(self, name: str, except_id: str = "") -> None:
        """Names are told apart without case ("Ink" and "INK" are one name), as get() finds them."""
        if any(e.name.casefold() == name.casefold() and e.id != except_id for e in self.list()):
            raise LibraryError(
                f"a model named {name!r} already exists: choose another name, or continue that model instead"
            )

    def _move_in(self, staging: Path, record: ModelRecord) -> ModelEntry:
        base, n = _slug(record.name), 1
        while True:
            folder = self.root / (base if n == 1 else f"{base}-{n}")
            if not os.path.lexists(folder):
                try:
                    os.rename(staging, folder)  # atomic; fails rather than merges if the name appeared meanwhile
                    return ModelEntry(folder.name, folder, record)
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
            n += 1

    def save(self, entry: ModelEntry) -> None:
        text = json.dumps(entry.require().to_dict(), indent=2, sort_keys=True)
        try:
            atomic_write_text(entry.path / "model.json", text)
        except OSError as exc:
            raise DiskError(f"cannot save {entry.name}: {explain_write_error(exc, entry.path)}") from None

    def update(self, entry: ModelEntry, **changes: Any) -> ModelEntry:
        """Change some fields of the record, keeping what others wrote meanwhile (a rename during training)."""
        record = entry.require()
        unknown = sorted(set(changes) - RECORD_FIELDS)
        if unknown:  # a caller's mistake (a field of an older format?), not the user's: kept out of model.json
            raise TypeError(f"update() takes fields of the record, not {', '.join(unknown)}")
        if "name" in changes:
            self._check_name_free(str(changes["name"]).strip(), except_id=entry.id)
        on_disk = self._read(entry.path).record
        merged = {**record.to_dict(), **(on_disk.to_dict() if on_disk else {}), **changes, "updated": now_iso()}
        try:
            entry.record = read_record(merged)
        except RecordError as exc:
            raise LibraryError(f"cannot change {record.name}: {exc}") from None
        self.save(entry)
        return entry

    def rename(self, key: str, new_name: str) -> ModelEntry:
        entry = self.get(key)
        new_name = new_name.strip()
        if not new_name:
            raise LibraryError("the new name is empty")
        return self.update(entry, name=new_name)

    def delete(self, key: str) -> None:
        entry = self.get(key)
        if entry.in_use:
            raise RunInUse(
                f"{entry.name} is training right now (or paused in an open window); stop it before deleting it"
            )
        if entry.path.is_symlink() or os.path.realpath(entry.path.parent) != os.path.realpath(self.root):
            raise LibraryError(f"{entry.path} is not a model folder inside the library {self.root}; nothing deleted")
        try:
            shutil.rmtree(entry.path)
        except OSError as exc:
            raise DiskError(f"cannot delete {entry.name}: {explain_write_error(exc, entry.path)}") from None
