"""Which files a run trains on, validates on and previews, fixed once when the run is created.

Stored in the run folder (``dataset.json``) so a resumed run sees exactly
the same split and order even if the folder has changed since.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import TrainConfig
from ..data.discover import DatasetReport
from ..errors import ConfigError, GanStudioError
from ..families import UNPAIRED, families_for_layout
from ..families import family as family_of
from ..fsutil import atomic_write_text
from ..humanize import display_path
from ..presets import defaults, resolve
from ..streams import Stream, stream

MIN_ITEMS_FOR_HOLDOUT = 10


class PlanError(GanStudioError):
    """A run's dataset.json is there but unusable: the run cannot continue with the same files."""


@dataclass
class DataPlan:
    layout: str
    root: str
    train: list = field(default_factory=list)  # pix2pix: aligned paths or [A, B] pairs
    val: list = field(default_factory=list)
    train_a: list = field(default_factory=list)  # CycleGAN: the two domains
    train_b: list = field(default_factory=list)
    val_a: list = field(default_factory=list)  # CycleGAN: held-out images of each domain (cycle metrics)
    val_b: list = field(default_factory=list)
    preview: list = field(default_factory=list)  # the fixed sample-strip items
    val_source: str = ""  # "val/ folder", "held out", or "none"

    @property
    def epoch_items(self) -> int:
        """What one epoch iterates: the training pairs (after any hold-out), or the larger domain."""
        return len(self.train) or max(len(self.train_a), len(self.train_b))

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> DataPlan:
        """The plan saved at ``path``; a PlanError when it is there but not one (cut short, edited)."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise TypeError(f"it holds {type(raw).__name__}, not an object")
            plan = cls(**raw)
        except (ValueError, TypeError) as exc:  # also UnicodeDecodeError; FileNotFoundError passes
            raise PlanError(f"{display_path(path)} cannot be read ({str(exc)[:200]})") from None
        if not isinstance(plan.layout, str) or not isinstance(plan.root, str):
            raise PlanError(f"{display_path(path)} cannot be read (its layout or root is not text)")
        return plan


def _paired_items(items) -> list:
    return [[str(a), str(b)] for a, b in items.pairs] if items.pairs else [str(p) for p in items.images]


def make_plan(report: DatasetReport, family: str, cfg: TrainConfig) -> DataPlan:
    """The run's files: (A, B) pairs or two domains, as the family trains on, with a hold-out."""
    train_split = report.splits.get("train")
    if train_split is None or train_split.count() == 0:
        raise ConfigError(f"{report.root} has no usable training images")
    fam = family_of(family)
    if report.layout not in fam.layouts:
        others = [family_of(name).title for name in families_for_layout(report.layout)]
        raise ConfigError(
            f"{fam.title} needs {fam.needs}, but {report.root} is {report.layout}"
            + (f"; choose {' or '.join(others)} for it" if others else "")
        )
    plan = DataPlan(layout=report.layout, root=str(report.root))
    if fam.data == UNPAIRED:
        return _unpaired_plan(plan, report, train_split, cfg, fam.title)
    return _paired_plan(plan, report, train_split, cfg)


def _unpaired_plan(plan: DataPlan, report: DatasetReport, train_split, cfg: TrainConfig, title: str) -> DataPlan:
    """Two domains (the A and B sides of pairs too), each with its own hold-out; previews from A."""
    plan.train_a = [str(p) for p in train_split.domain_a or [a for a, _ in train_split.pairs]]
    plan.train_b = [str(p) for p in train_split.domain_b or [b for _, b in train_split.pairs]]
    for name, files in (("A", plan.train_a), ("B", plan.train_b)):
        if not files:
            raise ConfigError(_empty_domain(report, name, title))
    val_split = report.splits.get("val")
    if val_split is not None and val_split.domain_a and val_split.domain_b:
        plan.val_a, plan.val_b = [str(p) for p in val_split.domain_a], [str(p) for p in val_split.domain_b]
        plan.val_source = "val/ folders"
    elif min(len(plan.train_a), len(plan.train_b)) >= MIN_ITEMS_FOR_HOLDOUT and cfg.val_fraction > 0:
        plan.train_a, plan.val_a = _hold_out(plan.train_a, cfg, 1)
        plan.train_b, plan.val_b = _hold_out(plan.train_b, cfg, 2)
        plan.val_source = "held out"
    else:
        plan.val_source = "none"
    plan.val_a, plan.val_b = plan.val_a[: cfg.max_val_items], plan.val_b[: cfg.max_val_items]
    plan.preview = plan.train_a[: cfg.preview_count]
    return plan


def _paired_plan(plan: DataPlan, report: DatasetReport, train_split, cfg: TrainConfig) -> DataPlan:
    """(A, B) pairs, a val/ folder's or held out; previews from the held-out pairs where there are."""
    train = _paired_items(train_split)
    if "val" in report.splits and report.splits["val"].count():
        val, plan.val_source = _paired_items(report.splits["val"]), "val/ folder"
    elif len(train) >= MIN_ITEMS_FOR_HOLDOUT and cfg.val_fraction > 0:
        train, val = _hold_out(train, cfg)
        plan.val_source = "held out"
    else:
        val, plan.val_source = [], "none"
    plan.train, plan.val = train, val[: cfg.max_val_items]
    plan.preview = (plan.val or plan.train)[: cfg.preview_count]
    return plan


def _hold_out(items: list, cfg: TrainConfig, *domain: int) -> tuple[list, list]:
    """A small seeded hold-out, so that the metrics measure images the model never trained on."""
    k = min(cfg.max_val_items, max(1, round(cfg.val_fraction * len(items))))
    if k >= len(items):  # a run with nothing to train on would fail only once it started
        what = "pairs" if not domain else f"images of domain {'AB'[domain[0] - 1]}"
        largest = math.floor(100 * (len(items) - 0.5) / len(items)) / 100  # still leaves one to train on
        raise ConfigError(
            f"val_fraction {cfg.val_fraction:g} holds out all {len(items)} training {what}, leaving none to "
            f"train on: use a val_fraction of at most {largest:.2f} (the default is 0.1), or 0 for no hold-out"
        )
    held = set(stream(cfg.seed, Stream.HOLDOUT, *domain).choice(len(items), size=k, replace=False).tolist())
    return [x for i, x in enumerate(items) if i not in held], [x for i, x in enumerate(items) if i in held]


def _empty_domain(report: DatasetReport, domain: str, title: str) -> str:
    """Why an unpaired family cannot start: one domain has no usable image; name its rejected files."""
    folder = report.splits["train"]
    others = folder.domain_b if domain == "A" else folder.domain_a
    side = str(Path(others[0]).parent.name) if others else ""
    rejected = [r for r in report.rejected if side and Path(r.path).parent.name != side] or report.rejected
    listed = "; ".join(f"{display_path(Path(r.path).name)}: {r.reason} ({r.detail})" for r in rejected[:20])
    more = f"; and {len(rejected) - 20} more" if len(rejected) > 20 else ""
    return (
        f"domain {domain} of {display_path(report.root)} has no usable training image, so {title} cannot "
        f"learn the translation. Rejected: {listed or 'none found'}{more}. Replace those files, then start again"
    )


def preset_settings(report: DatasetReport, family: str, preset: str) -> dict:
    """Every setting's value for a new ``family`` run on ``report`` under ``preset``.

    Presets that count epochs need the epoch's length, which the hold-out decides."""
    _, _, train_cfg = resolve(family, preset)
    return defaults(family, preset, make_plan(report, family, train_cfg).epoch_items)
