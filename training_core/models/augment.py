"""Differentiable augmentation of the discriminator's inputs (Zhao et al., NeurIPS 2020).

With few images a discriminator memorises them, and the generator gets no
useful signal. Showing it randomly shifted, cut-out and recoloured versions
of real and generated images alike, through operations that pass gradients,
keeps it honest without teaching the generator to make augmented pictures.
Each call draws its own random parameters per sample from torch's random
state, which checkpoints keep, so a resumed run draws the same ones.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _color(x: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    x = x + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros (whole pixels)."""
    n, _, h, w = x.shape
    shift = (torch.rand(n, 2, device=x.device) * 2 - 1) * ratio
    shift = torch.stack(((shift[:, 0] * w).round() * 2 / w, (shift[:, 1] * h).round() * 2 / h), 1)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = shift.to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of ``ratio`` of the image's size, at a random place in each image."""
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio)), max(1, int(w * ratio))
    top = torch.randint(0, h - ch + 1, (n, 1, 1), device=x.device)
    left = torch.randint(0, w - cw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_OPERATIONS = {"color": _color, "translation": _translation, "cutout": _cutout}


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """``x`` (NCHW) through the operations named in ``policy`` ("none", or names joined by commas)."""
    if policy == "none":
        return x
    for name in policy.split(","):
        x = _OPERATIONS[name](x)
    return x
