"""What a model's model.json holds, as a typed record: read and checked in one place, written in one.

A model folder is user data that other versions, other tools and the user
can change. Every field is checked for its type and range when read; a
record that fails names the first problem, and the library lists that model
as damaged while every other model works as before. Older formats are
migrated on reading. Fields this version does not know are kept and
written back unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, GanStudioError

if TYPE_CHECKING:  # imported where used: config.py reads options.py, which the record does not need to load
    from .config import DataConfig, ModelConfig, TrainConfig

# 2: the direction and the run length are kept once, in the data and training settings (format 1 also
# had them at the top level, where nothing but the displays read them).
FORMAT_VERSION = 2
# The one vocabulary of model states. model.json holds all but "interrupted", which is a "running"
# record whose process is gone. failed: training stopped on an error (resumable once it is fixed).
STATES = ("new", "running", "paused", "interrupted", "finished", "failed")
# The states from which training continues where its last checkpoint left it (ModelEntry.can_resume).
RESUMABLE = ("paused", "interrupted", "failed")
_OLD_STATES = {"stopped": "paused"}  # what GAN Studio 0.1 wrote
INFERENCE_NORMS = ("image", "running")


class RecordError(GanStudioError, ValueError):
    """model.json does not describe a usable model; the message names the field and what is wrong."""


@dataclass
class ModelRecord:
    name: str
    family: str
    state: str = "new"
    created: str = ""
    updated: str = ""
    format_version: int = FORMAT_VERSION
    preset: str = ""
    iterations: int = 0  # what the last checkpoint holds
    progress: int = 0  # live, while a run goes
    model: dict = field(default_factory=dict)  # ModelConfig.to_dict()
    data: dict = field(default_factory=dict)  # DataConfig.to_dict()
    train: dict | None = None  # TrainConfig.to_dict(); None for an imported model, which cannot train
    imported: dict | None = None  # where an imported model came from
    dataset: dict = field(default_factory=dict)  # the data it trained on, in summary
    metrics: dict = field(default_factory=dict)
    inference: dict = field(default_factory=dict)  # {"norm": "image" | "running", ...}
    last_error: str = ""
    extra: dict = field(default_factory=dict)  # fields of other versions, kept as they were

    @property
    def inference_norm(self) -> str:
        return self.inference.get("norm", "image")

    @property
    def direction(self) -> str:
        """Which side is the input ("AtoB" or "BtoA"): the data settings' own, which training reads."""
        return self.data_config().direction

    @property
    def total_iterations(self) -> int:
        """The run's length: the training settings' own; 0 for an imported model, which has none."""
        return self.train_config().iterations if self.train is not None else 0

    @property
    def generator_directions(self) -> tuple[str, ...]:
        """What the weights file holds a generator for, so what an export may ask: CycleGAN's two
        directions; pix2pix's one generator is "AtoB" whichever way its data ran (``direction``)."""
        from .families import family

        return family(self.family).directions

    def model_config(self) -> ModelConfig:
        from .config import ModelConfig

        return ModelConfig.from_dict({"family": self.family, **self.model})

    def data_config(self) -> DataConfig:
        from .config import DataConfig

        return DataConfig.from_dict(self.data)

    def train_config(self) -> TrainConfig:
        from .config import TrainConfig

        if self.train is None:
            raise RecordError(
                f"{self.name} was imported, not trained here: it has no training settings to continue from"
            )
        return TrainConfig.from_dict(self.train)

    def to_dict(self) -> dict[str, Any]:
        raw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        raw = {k: v for k, v in raw.items() if v is not None and v != ""}
        return {**self.extra, **raw}


_TYPES = {f.name: f.type for f in dataclasses.fields(ModelRecord)}


def read_record(raw: Any) -> ModelRecord:
    """A checked, migrated ModelRecord from model.json's parsed JSON; RecordError names what is wrong."""
    if not isinstance(raw, dict):
        raise RecordError(f"model.json holds {type(raw).__name__}, not an object")
    raw = dict(raw)
    version = raw.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"format_version is {version!r}, not a version number")
    if version > FORMAT_VERSION:
        raise RecordError(
            f"written by a newer GAN Studio (format {version}; this one reads up to "
            f"{FORMAT_VERSION}): update GAN Studio to open it"
        )
    state = raw.get("state", "new")
    raw["state"] = _OLD_STATES.get(state, state) if isinstance(state, str) else state
    if version < 2:
        _from_format_1(raw)
    raw["format_version"] = FORMAT_VERSION
    known = {k: raw.pop(k) for k in list(raw) if k in _TYPES and k != "extra"}
    for key in ("name", "family"):
        if key not in known:
            raise RecordError(f'"{key}" is missing')
    for key, value in known.items():
        _check_type(key, value)
    record = ModelRecord(**known, extra=raw)
    _check_values(record)
    return record


def _from_format_1(raw: dict[str, Any]) -> None:
    """Format 1 kept the direction and the run length twice: at the top level and in the data and
    training settings. The settings' copies are what training used, so they win; the top-level ones
    fill them where they are missing (a record made by hand, or by a program, with only those)."""
    direction = raw.pop("direction", None)
    total = raw.pop("total_iterations", None)
    data = raw.setdefault("data", {})
    if direction is not None and isinstance(data, dict):
        raw["data"] = {"direction": direction, **data}
    if total is not None and isinstance(raw.get("train"), dict):
        raw["train"] = {"iterations": total, **raw["train"]}


def _check_type(key: str, value: Any) -> None:
    kind = _TYPES[key]
    kinds: dict[str, type | tuple[type, ...]] = {
        "str": str,
        "int": int,
        "dict": dict,
        "dict | None": (dict, type(None)),
    }
    expected = kinds[str(kind)]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        names = (
            "an object"
            if expected is dict
            else "text"
            if expected is str
            else "a whole number"
            if expected is int
            else "an object or null"
        )
        raise RecordError(f'"{key}" is {value!r}, not {names}')


def _check_values(r: ModelRecord) -> None:
    from .families import NAMES as FAMILIES  # here: loading the record alone reads no settings

    if not r.name.strip() or not r.name.isprintable():
        raise RecordError(f'"name" {r.name!r} is empty or holds control characters')
    for key, value, allowed in (
        ("family", r.family, FAMILIES),
        ("state", r.state, STATES),
        ("inference.norm", r.inference_norm, INFERENCE_NORMS),
    ):
        if value not in allowed:
            raise RecordError(f'"{key}" is {value!r}, not one of {", ".join(allowed)}')
    for key in ("iterations", "progress"):
        if getattr(r, key) < 0:
            raise RecordError(f'"{key}" is negative')
    try:
        if r.model.get("family", r.family) != r.family:
            raise RecordError(f'"model.family" is {r.model.get("family")!r} but the model is {r.family}')
        r.model_config()
        r.data_config()
        if r.train is not None:
            r.train_config()
    except ConfigError as exc:
        raise RecordError(f"its settings are unusable: {exc}") from None
