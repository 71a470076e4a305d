"""Flicker: how much a conversion adds to the change from one frame to the next, and a colour anchor against it.

The flicker index is the mean absolute difference between consecutive output
frames divided by that of the input frames. 1.0: the output changes as much as
the clip does; above, the model adds change of its own (colours that pump from
frame to frame); below, it smooths. The sums are kept, not the frames, so a
conversion resumed from its segments continues the same measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class FlickerMeter:
    input_change: float = 0.0  # summed mean absolute differences, grey levels of 255
    output_change: float = 0.0
    pairs: int = 0

    def __post_init__(self):
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, frame_in: np.ndarray, frame_out: np.ndarray) -> None:
        """One more pair of HxWx3 uint8 frames, the clip's and the conversion's."""
        now = (frame_in.astype(np.float32), frame_out.astype(np.float32))
        if self._last is not None and self._last[0].shape == now[0].shape:
            self.input_change += float(np.abs(now[0] - self._last[0]).mean())
            self.output_change += float(np.abs(now[1] - self._last[1]).mean())
            self.pairs += 1
        self._last = now

    def index(self) -> float:
        """Output change over input change; nan before two frames, inf for change out of a still input."""
        if not self.pairs:
            return float("nan")
        if self.input_change == 0:
            return 0.0 if self.output_change == 0 else float("inf")
        return self.output_change / self.input_change

    def state(self) -> dict:
        return {"input_change": self.input_change, "output_change": self.output_change, "pairs": self.pairs}


def _lab(rgb: np.ndarray) -> np.ndarray:
    # Float Lab (L 0..100): a perceptual space, where shifting lightness leaves the hues alone.
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def colour_moments(rgb: np.ndarray) -> list[list[float]]:
    """Each Lab channel's mean and standard deviation: what colour matching holds."""
    lab = _lab(rgb).reshape(-1, 3)
    return [lab.mean(0).tolist(), lab.std(0).tolist()]


def match_colours(rgb: np.ndarray, reference: list[list[float]]) -> np.ndarray:
    """``rgb`` (HxWx3 uint8) with its Lab channels moved to the reference's mean and deviation.

    The transfer of Reinhard et al. (2001), in Lab rather than their lαβ: OpenCV has Lab.
    """
    lab = _lab(rgb)
    mean, std = lab.reshape(-1, 3).mean(0), lab.reshape(-1, 3).std(0)
    ref_mean, ref_std = np.asarray(reference[0], np.float32), np.asarray(reference[1], np.float32)
    scale = np.where(std > 1e-3, ref_std / np.maximum(std, 1e-3), 1.0).astype(np.float32)
    matched = (lab - mean) * scale + ref_mean
    back = cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(np.rint(back * 255.0), 0, 255).astype(np.uint8)
