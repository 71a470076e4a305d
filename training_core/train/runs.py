"""A run's entry in the library: made for a new model, or found for one to continue; under torchrun,
rank 0 makes it and the other processes join it.

A new run's plan (which files it trains, validates and previews on) is fixed here and saved with
the entry, before any training: the settings' run length in epochs needs the plan's epoch length.
"""

from __future__ import annotations

from ..data.discover import DatasetReport
from ..data.make_pairs import pair_maker_of
from ..errors import ConfigError, GanStudioError
from ..families import family_for_layout
from ..presets import resolve, run_length
from ..runlock import RunInUse
from ..store import ModelEntry, ModelLibrary
from . import distributed
from .plan import make_plan


def create(
    report: DatasetReport,
    name: str,
    family: str | None,
    preset: str,
    overrides: dict | None,
    library: ModelLibrary,
    device: str = "auto",
) -> ModelEntry:
    """A new model in ``library`` for ``report``'s data: ``family`` (or the usual one for its layout)
    with ``preset`` and ``overrides``. Under torchrun, every process gets rank 0's entry."""
    ctx = distributed.from_env()
    if ctx is None:
        return _create_entry(report, name, family, preset, overrides, library)
    distributed.init(ctx, device)
    outcome = None
    if ctx.is_main:  # rank 0 makes the library entry; the others open it
        try:
            outcome = ("ok", _create_entry(report, name, family, preset, overrides, library).id)
        except GanStudioError as exc:
            outcome = ("error", str(exc))
    kind, value = distributed.share(outcome, ctx)
    if kind == "error":
        raise ConfigError(value)
    return library.get(value)


def reopen(key: str, library: ModelLibrary, device: str = "auto") -> ModelEntry:
    """The entry of an existing model, to continue it; refused while another process trains it."""
    ctx = distributed.from_env()
    if ctx is not None:
        distributed.init(ctx, device)
    entry = library.get(key)
    if entry.state == "running":
        raise RunInUse(f"{entry.name} is training right now in another window or process")
    return entry


def _create_entry(
    report: DatasetReport, name: str, family: str | None, preset: str, overrides: dict | None, library: ModelLibrary
) -> ModelEntry:
    family = family or family_for_layout(report.layout)
    model_cfg, data_cfg, train_cfg = resolve(family, preset, overrides=overrides)
    plan = make_plan(report, family, train_cfg)  # reads the hold-out settings, not the run's length
    train_cfg = run_length(train_cfg, preset, plan.epoch_items, overrides)
    return library.create(
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
                "train": plan.epoch_items,
                "val": len(plan.val) + len(plan.val_a) + len(plan.val_b),
                "val_source": plan.val_source,
                "summary": report.summary(list_rejected=False),
                **pair_maker_of(report.root),  # made from artworks: photos convert the same way
            },
            "metrics": {},
        },
        prepare=lambda folder: plan.save(folder / "run" / "dataset.json"),
    )
