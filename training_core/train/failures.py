"""What a run that stopped on an error tells its user: what happened, and what to do about it."""

from __future__ import annotations

from ..config import DataConfig, TrainConfig

NOTHING_LOST = "Nothing is lost: the last saved checkpoint is intact; resume once that is fixed."


def could_not_save(why: object) -> str:
    """A full, missing or read-only disk, met writing a checkpoint or model.json."""
    return f"Could not save the training: {why}. {NOTHING_LOST}"


def unexpected(exc: BaseException) -> str:
    return (
        f"Training stopped by an unexpected error: {type(exc).__name__}: {exc}. "
        "Resume continues from the last checkpoint."
    )


def unreadable_data(exc: Exception, iteration: int, train: TrainConfig, data: DataConfig) -> str:
    """A training file that cannot be read, or images of different sizes in one batch (saved first)."""
    if train.batch_size > 1 and "equal size" in str(exc):  # torch's stack, in the loader's collate
        return (
            f"The training images have different sizes, and images of different sizes cannot share a "
            f"batch (batch size {train.batch_size}; preprocessing {data.preprocess} keeps "
            "each image's size). Start a new model with batch size 1, or with a preprocessing that resizes "
            "or crops every image to one size (resize_and_crop or crop). Training was saved."
        )
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"Cannot read the training data at iteration {iteration}: {reason}. "
        "Put a readable copy of the file back (the run keeps its file list), then "
        "resume: training was saved."
    )
