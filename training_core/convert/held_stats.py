"""One set of normalisation statistics for a whole clip, so the model's colours do not pump from frame to frame.

A generator with instance norm (or batch norm used per image) normalises each
frame by that frame's own statistics: a light entering the picture darkens
everything else. The translator already holds one set of statistics across
the tiles of a large photo, captured in one pass over the whole image; here the
"whole image" is a mosaic of frames sampled across the clip, so the captured
statistics are those of the clip (``Translator.measure_statistics``). They are
then applied to every frame (``Translator.hold_statistics``), over the
translator's own per-image statistics.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from PIL import Image

from ..data.transforms import to_tensor

# Statistics: per norm layer, the per-channel mean and variance (lists of floats, as stored in JSON).
ClipStats = list[tuple[list[float], list[float]]]


def network(translator):
    """The Translator that runs the network: ``translator`` itself, or the one a wrapper (PreparedTranslator) holds."""
    return getattr(translator, "inner", translator)


def can_hold(translator) -> bool:
    """A translator with norm layers measured per image: one whose statistics can be held."""
    measures = getattr(network(translator), "measures_per_image", None)
    return measures is not None and measures()


def _mosaic(frames: list[np.ndarray], side: int, multiple: int) -> np.ndarray:
    """The frames side by side in a grid that fits ``side`` x ``side`` pixels (each cell at the same scale)."""
    cols = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / cols)
    h, w = frames[0].shape[:2]
    # The translator pads to its multiple; the cells leave room for that padding within one pass.
    usable = max(multiple, side - multiple)
    factor = min(1.0, usable / (cols * w), usable / (rows * h))
    cw, ch = max(1, int(w * factor)), max(1, int(h * factor))
    grid = np.zeros((rows * ch, cols * cw, 3), np.uint8)
    for i, frame in enumerate(frames):
        cell = (
            frame if (cw, ch) == (w, h) else np.asarray(Image.fromarray(frame).resize((cw, ch), Image.Resampling.BOX))
        )
        r, c = divmod(i, cols)
        grid[r * ch : (r + 1) * ch, c * cw : (c + 1) * cw] = cell
    return grid


def measure(translator, frames: list[np.ndarray]) -> ClipStats:
    """Every norm layer's statistics over ``frames`` (HxWx3 uint8), captured as the translator captures a photo's."""
    if hasattr(translator, "prepare"):  # the network sees the prepared input: measure that
        frames = [np.asarray(translator.prepare(Image.fromarray(f)).convert("RGB")) for f in frames]
    translator = network(translator)
    mosaic = _mosaic(frames, translator.tile, translator.multiple)  # fits one tile: one untiled pass
    return translator.measure_statistics(to_tensor(Image.fromarray(mosaic))[None])


@contextlib.contextmanager
def held(translator, stats: ClipStats | None):
    """Within: every frame the translator translates is normalised with ``stats`` (None: its own)."""
    if stats is None:
        yield
        return
    with network(translator).hold_statistics(stats):
        yield
