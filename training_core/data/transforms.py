"""The papers' preprocessing, with one set of random choices shared by A and B.

A paired sample must get the same crop and flip on both sides, so the random
choices are drawn once (``random_params``) and applied to each image.
Sizes that the generator cannot take are rounded to the nearest multiple it
needs, so any aspect ratio trains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..config import DataConfig

RESAMPLE = Image.Resampling.BICUBIC


@dataclass(frozen=True)
class TransformParams:
    """The random choices for one sample: crop origin (in the resized image) and flip."""

    crop_x: int
    crop_y: int
    flip: bool


def resized_size(size: tuple[int, int], cfg: DataConfig) -> tuple[int, int]:
    """(width, height) after the resize step of ``cfg.preprocess``, before cropping."""
    w, h = size
    if cfg.preprocess == "resize_and_crop":
        return cfg.load_size, cfg.load_size
    if cfg.preprocess in ("scale_width", "scale_width_and_crop"):
        # Keep the aspect ratio, but never so low that a crop_size crop cannot be taken.
        return cfg.load_size, max(round(cfg.load_size * h / w), cfg.crop_size)
    if cfg.preprocess == "crop" and min(w, h) < cfg.crop_size:
        scale = cfg.crop_size / min(w, h)
        return max(cfg.crop_size, round(w * scale)), max(cfg.crop_size, round(h * scale))
    return w, h


def random_params(size: tuple[int, int], cfg: DataConfig, rng: np.random.Generator) -> TransformParams:
    w, h = resized_size(size, cfg)
    x = int(rng.integers(0, max(0, w - cfg.crop_size) + 1))
    y = int(rng.integers(0, max(0, h - cfg.crop_size) + 1))
    flip = bool(cfg.flip and rng.random() < 0.5)
    return TransformParams(x, y, flip)


def _round_to_multiple(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def resize_step(img: Image.Image, cfg: DataConfig) -> Image.Image:
    """The deterministic first step of ``cfg.preprocess``. ``resized_size`` of its result is
    its own size, so random choices drawn for the resized image equal those for the original."""
    size = resized_size(img.size, cfg)
    return img.resize(size, RESAMPLE) if size != img.size else img


def apply_transform(img: Image.Image, params: TransformParams, cfg: DataConfig, multiple: int) -> Image.Image:
    """Resize, crop, round to ``multiple`` and flip one image with the given choices."""
    img = resize_step(img, cfg)
    if "crop" in cfg.preprocess:
        c = cfg.crop_size
        img = img.crop((params.crop_x, params.crop_y, params.crop_x + c, params.crop_y + c))
    w, h = img.size
    target = (_round_to_multiple(w, multiple), _round_to_multiple(h, multiple))
    if target != (w, h):
        img = img.resize(target, RESAMPLE)
    if params.flip:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return img


def to_tensor(img: Image.Image) -> torch.Tensor:
    """RGB PIL image -> float tensor CHW in [-1, 1], as the generators' Tanh outputs."""
    array = np.asarray(img, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def to_image(tensor: torch.Tensor) -> Image.Image:
    """Float tensor CHW (or 1xCHW) in [-1, 1] -> RGB (or L) PIL image, rounded and clipped."""
    if tensor.dim() == 4:
        tensor = tensor[0]
    array = ((tensor.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    array = array.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def split_aligned(img: Image.Image) -> tuple[Image.Image, Image.Image]:
    """An aligned pair image -> (A, B): left half and right half, the same size."""
    w, h = img.size
    half = w // 2
    return img.crop((0, 0, half, h)), img.crop((half, 0, 2 * half, h))
