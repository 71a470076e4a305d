"""Checkpoints: one file holds everything needed to continue exactly; written atomically.

Files are ``checkpoints/iter_<n>.pt`` in a run folder. Saving writes a temp
file beside the target, fsyncs it and renames it into place, then prunes all
but the newest few. Loading reads with ``weights_only=True`` (tensors and
plain containers only, nothing executed), checks the format, and falls back to
the previous checkpoint when the newest one is damaged, saying so.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import GanStudioError
from ..fsutil import atomic_path

log = logging.getLogger(__name__)

FORMAT = "gan-studio-checkpoint"
VERSION = 1
# Checkpoints of 0.1 also hold a copy of the settings ("config"); it is ignored: model.json holds them.
REQUIRED_KEYS = ("format", "version", "iteration", "model", "schedulers", "rng", "data_state")
_NAME = re.compile(r"^iter_(\d+)\.pt$")


class CheckpointError(GanStudioError):
    """No usable checkpoint: the message says which files were tried and why they failed."""


@dataclass(frozen=True)
class LoadedCheckpoint:
    state: dict
    path: Path
    notes: tuple[str, ...]  # what was skipped on the way, for the user


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run, newest (highest iteration) first."""
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def save_checkpoint(run_dir: Path, state: dict, keep: int = 3) -> Path:
    """Write ``state`` atomically as the newest checkpoint and keep the ``keep`` newest."""
    state = {"format": FORMAT, "version": VERSION, **state}
    path = checkpoint_dir(run_dir) / f"iter_{state['iteration']:09d}.pt"
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    for old in list_checkpoints(run_dir)[keep:]:
        old.unlink(missing_ok=True)
    # Temp files left by a process killed mid-write (the caller holds the run lock, so none is live).
    for stale in checkpoint_dir(run_dir).glob(".iter_*.tmp"):
        stale.unlink(missing_ok=True)
    return path


def read_checkpoint(path: Path, map_location="cpu") -> dict:
    """Read and validate one checkpoint file; raise CheckpointError saying what is wrong."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, pickle refused by weights_only, I/O error...
        raise CheckpointError(f"{path.name} cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a GAN Studio checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(
            f"{path.name} has format version {state.get('version')}; this GAN Studio reads version {VERSION}"
        )
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{path.name} is incomplete (missing {', '.join(missing)})")
    return state


def load_latest(run_dir: Path, map_location="cpu") -> LoadedCheckpoint:
    """The newest readable checkpoint, falling back past damaged ones."""
    problems = []
    for path in list_checkpoints(run_dir):
        try:
            state = read_checkpoint(path, map_location)
        except CheckpointError as exc:
            log.warning("skipping a damaged checkpoint: %s", exc)
            problems.append(str(exc))
            continue
        notes = tuple(f"the newer checkpoint {p}; continuing from {path.name}" for p in problems)
        return LoadedCheckpoint(state, path, notes)
    tried = "; ".join(problems) if problems else "there are none"
    raise CheckpointError(f"no usable checkpoint in {checkpoint_dir(run_dir)}: {tried}")
