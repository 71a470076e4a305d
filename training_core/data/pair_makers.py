"""Pair makers: from an artist's finished artwork, the input a model learns to paint over in their style.

Each kind is a deterministic function of the artwork and a few settings, built
from OpenCV's filters (and Pillow's palette quantizer), so a photo converted
later goes through exactly the same step (``--prepare-input``):

- ``lines``: line art that looks drawn, from a thresholded difference of
  Gaussians (XDoG, Winnemöller et al. 2012): dark strokes on white on the dark
  side of edges, small specks removed, widened to the chosen weight (the
  detail's scale sets the finest stroke).
- ``grey``: lightness only (CIE L*, as the reference's colorization pairs), so
  the model learns to colour.
- ``flat``: flat colour regions (mean-shift flattening, then a palette of the
  chosen size), so the model learns to paint over flats.
- ``blur``: a softened, downscaled copy, so the model learns to add detail and
  texture.

Sizes in the settings are for an artwork of ``REFERENCE_SIDE`` pixels and
scale with its size, so a setting means the same on a sketch and a poster.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np
from PIL import Image

from ..errors import ConfigError

KINDS = ("lines", "grey", "flat", "blur")
REFERENCE_SIDE = 512
DEFAULT_WORKING_SIDE = 1024
# The settings' ranges: (least, most).
DETAIL = (1, 10)
LINE_WEIGHT = (1, 8)
COLOURS = (2, 64)
STRENGTH = (1, 10)
WORKING_SIDE = (64, 8192)


@dataclass(frozen=True)
class PairSettings:
    """How to make the input side; only the kind's own settings change its result."""

    kind: str = "lines"
    detail: int = 6  # lines: few (1) to many (10)
    line_weight: int = 2  # lines: stroke width in pixels at REFERENCE_SIDE
    colours: int = 8  # flat: palette size
    strength: int = 5  # blur: light (1) to heavy (10)
    working_side: int = DEFAULT_WORKING_SIDE  # artworks larger than this (longer side) are made at this size

    def validate(self) -> PairSettings:
        if self.kind not in KINDS:
            raise ConfigError(f"kind {self.kind!r} is not valid: choose one of {', '.join(KINDS)}")
        for name, (least, most) in (
            ("detail", DETAIL),
            ("line_weight", LINE_WEIGHT),
            ("colours", COLOURS),
            ("strength", STRENGTH),
            ("working_side", WORKING_SIDE),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                raise ConfigError(f"{name} must be a whole number from {least} to {most}, got {value!r}")
        return self

    def own(self) -> dict:
        """The settings that change this kind's result (what a model records, and the report shows)."""
        keep = {"kind", "working_side", *_OWN[self.kind]}
        return {k: v for k, v in asdict(self).items() if k in keep}

    @classmethod
    def from_dict(cls, item: dict) -> PairSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in item.items() if k in names}).validate()


_OWN = {"lines": ("detail", "line_weight"), "grey": (), "flat": ("colours",), "blur": ("strength",)}


def working_copy(artwork: Image.Image, working_side: int) -> Image.Image:
    """The artwork at most ``working_side`` pixels on its longer side (never enlarged)."""
    longer = max(artwork.size)
    if longer <= working_side:
        return artwork
    scale = working_side / longer
    size = (max(1, round(artwork.width * scale)), max(1, round(artwork.height * scale)))
    return artwork.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def make_input(artwork: Image.Image, settings: PairSettings) -> Image.Image:
    """The input side for ``artwork`` (RGB, already at its working size), the same size as it."""
    settings.validate()
    rgb = np.asarray(artwork.convert("RGB"))
    made = _MAKERS[settings.kind](rgb, settings, max(rgb.shape[:2]) / REFERENCE_SIDE)
    return Image.fromarray(made)


def _lines(rgb: np.ndarray, s: PairSettings, scale: float) -> np.ndarray:
    t = (s.detail - DETAIL[0]) / (DETAIL[1] - DETAIL[0])  # 0: few lines, 1: many
    # Less detail: texture and faint edges are smoothed away first (edge-preserving), so only the
    # strong edges remain; the difference of Gaussians then draws them all at the same fine scale.
    smooth = cv2.edgePreservingFilter(
        np.ascontiguousarray(rgb), flags=cv2.RECURS_FILTER, sigma_s=(40 - 35 * t) * scale, sigma_r=0.35 - 0.3 * t
    )
    grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    sigma = max(0.6, 0.9 * scale)
    fine = cv2.GaussianBlur(grey, (0, 0), sigma)
    coarse = cv2.GaussianBlur(grey, (0, 0), 1.6 * sigma)
    # The difference of Gaussians is negative on an edge's dark side; XDoG's hard threshold draws it.
    strokes = (fine - coarse < -(0.02 - 0.016 * t)).astype(np.uint8)
    strokes = _without_specks(strokes, min_area=max(6, round((40 - 30 * t) * scale)))
    # A stroke is about sigma wide, its finest: widen it to the chosen weight.
    grow = max(1, round(s.line_weight * scale)) - max(1, round(sigma))
    if grow > 0:
        strokes = cv2.dilate(strokes, _disk(grow + 1))
    out = np.where(strokes > 0, 0, 255).astype(np.uint8)
    return np.repeat(out[..., None], 3, axis=2)


def _without_specks(mask: np.ndarray, min_area: int) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False  # the background
    return keep[labels].astype(np.uint8) if count > 1 else mask


def _disk(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _grey(rgb: np.ndarray, s: PairSettings, scale: float) -> np.ndarray:
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0]  # L* scaled to 0..255
    return np.repeat(lightness[..., None], 3, axis=2)


def _flat(rgb: np.ndarray, s: PairSettings, scale: float) -> np.ndarray:
    radius = max(4.0, 10.0 * scale)
    flattened = cv2.pyrMeanShiftFiltering(np.ascontiguousarray(rgb), sp=radius, sr=28.0)
    flattened = cv2.medianBlur(flattened, 2 * max(1, round(2 * scale)) + 1)
    palette = Image.fromarray(flattened).quantize(
        colors=s.colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    return np.asarray(palette.convert("RGB"))


def _blur(rgb: np.ndarray, s: PairSettings, scale: float) -> np.ndarray:
    factor = 1.0 + 0.75 * s.strength  # 1.75x to 8.5x smaller, then back
    h, w = rgb.shape[:2]
    small = (max(1, math.floor(w / factor)), max(1, math.floor(h / factor)))
    down = cv2.resize(rgb, small, interpolation=cv2.INTER_AREA)
    up = cv2.resize(down, (w, h), interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(up, (0, 0), 0.4 * factor)


_MAKERS = {"lines": _lines, "grey": _grey, "flat": _flat, "blur": _blur}
