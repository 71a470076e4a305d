"""A run whose losses or weights became NaN or infinite has diverged: stop it, keep what was good, say what to lower.

Every later step would only spread the NaN, and a checkpoint or generator
saved from it would replace the last good one with noise; so the Trainer
stops before saving anything more.
"""

from __future__ import annotations

from ..errors import GanStudioError
from ..models.finite import describe


class Diverged(GanStudioError):
    """The losses or the weights are no longer finite numbers; nothing after the last good checkpoint is saved."""


def diverged(what: str, names: list[str], iteration: int, saved: int | None, lr: float, precision: str) -> Diverged:
    """``what``: "losses" or "weights"; ``saved``: the iteration of the last checkpoint, if any."""
    kept = (
        f"the last good checkpoint (iteration {saved:,}) and its generator are kept"
        if saved
        else "no checkpoint had been saved yet, so there is nothing to keep"
    )
    fp32 = f", or choose fp32 precision (now {precision})" if precision != "fp32" else ""
    return Diverged(
        f"Training stopped at iteration {iteration:,}: the {what} became NaN or infinite ({describe(names)}), "
        f"so the training diverged. Nothing after that was saved: {kept}. Lower the learning rate "
        f"(lr, now {lr:g}) or the loss weights{fp32}, in a new model with the same data: a resumed model "
        "keeps its settings and would take the same steps again."
    )
