"""A run folder (``<model>/run``): its data plan, checkpoints, metrics log, sample strips and lock.

The Trainer is the training loop; this object owns where its results live
and how they are written (atomically, with the user's permissions), and
reads them back for a resume or for the app's history.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from ..fsutil import atomic_path, atomic_write_text, remove_stale_temp_files
from ..runlock import RunLock
from ..store import now_iso
from .checkpoint import LoadedCheckpoint, list_checkpoints, load_latest, save_checkpoint
from .plan import DataPlan


class RunFolder:
    def __init__(self, path: Path):
        self.path = Path(path)

    # -- the data plan, fixed when the run was created --------------------------------------------------
    @property
    def plan_path(self) -> Path:
        return self.path / "dataset.json"

    def load_plan(self) -> DataPlan:
        return DataPlan.load(self.plan_path)

    # -- holding the run ----------------------------------------------------------------------------
    def lock(self) -> RunLock:
        """The run's lock, acquired; once held, temporary files left here are a killed run's and go."""
        lock = RunLock(self.path).acquire()
        remove_stale_temp_files(self.path, recursive=True, older_than_s=0)
        return lock

    # -- checkpoints --------------------------------------------------------------------------------
    def checkpoints(self) -> list[Path]:
        """Newest first."""
        return list_checkpoints(self.path)

    def save_checkpoint(self, state: dict, keep: int) -> Path:
        return save_checkpoint(self.path, state, keep=keep)

    def load_latest(self) -> LoadedCheckpoint:
        return load_latest(self.path)

    def checkpoint_bytes(self) -> int:
        newest = self.checkpoints()[:1]
        return newest[0].stat().st_size if newest else 0

    # -- sample strips --------------------------------------------------------------------------------
    def save_sample(self, strip: Image.Image, iteration: int, also: Path | None = None) -> Path:
        """The strip as samples/iter_N.png (and at ``also``, the model's current sample.png)."""
        path = self.path / "samples" / f"iter_{iteration:09d}.png"
        for target in (path, also) if also else (path,):
            with atomic_path(target) as tmp:
                strip.save(tmp, format="PNG")
        return path

    # -- the metrics log: one JSON object a line ------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def log_metrics(self, record: dict) -> None:
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({**record, "time": now_iso()}) + "\n")

    def read_metrics(self) -> list[dict]:
        """Every readable line of the log (a line torn by a kill is skipped)."""
        try:
            lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("iteration"), int):
                records.append(record)
        return records

    def loss_history(self) -> list[tuple[int, dict]]:
        """(iteration, mean losses) for each logged step: what the loss chart shows."""
        return [(r["iteration"], r["losses"]) for r in self.read_metrics() if isinstance(r.get("losses"), dict)]

    def truncate_metrics(self, iteration: int) -> None:
        """Keep only what was logged up to ``iteration``: later lines belong to steps a resume repeats."""
        if self.metrics_path.exists():
            kept = [r for r in self.read_metrics() if r["iteration"] <= iteration]
            atomic_write_text(self.metrics_path, "".join(json.dumps(r) + "\n" for r in kept))
