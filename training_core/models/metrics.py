"""Image quality against a target: L1, PSNR, SSIM and the checkerboard measure, on images in [-1, 1].

Below training and the model classes both: held-out scores use them, and so does the structural loss.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F


def l1(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error per image, in the [-1, 1] range the networks use."""
    return (output - target).abs().flatten(1).mean(1)


def psnr(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio per image in dB, on the [0, 1] scale (capped at 100 dB)."""
    mse = (((output - target) / 2) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(1.0 / mse.clamp_min(1e-10))).clamp_max(100.0)


def _gaussian_taps(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return (g / g.sum()).float()


def ssim(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image (Wang et al. 2004: 11x11 Gaussian, sigma 1.5), on [0, 1].

    Computed per channel and averaged; images smaller than the window use a
    window as large as they allow.
    """
    x, y = (output.float() + 1) / 2, (target.float() + 1) / 2
    channels = x.shape[1]
    size = min(11, x.shape[-1], x.shape[-2])
    size -= 1 - size % 2  # odd
    # The means, second moments and covariance in one blur: the 2-D Gaussian is separable, a pass
    # along rows then columns (22 taps instead of 121), over the five maps stacked as channels.
    # (This also runs in every training step where the structural loss is on.)
    maps = torch.cat((x, y, x * x, y * y, x * y), 1)
    taps = _gaussian_taps(size).to(x.device)
    groups = maps.shape[1]
    blurred = F.conv2d(maps, taps.view(1, 1, 1, size).expand(groups, -1, -1, -1), groups=groups)
    blurred = F.conv2d(blurred, taps.view(1, 1, size, 1).expand(groups, -1, -1, -1), groups=groups)
    mu_x, mu_y, xx, yy, xy = blurred.split(channels, 1)
    c1, c2 = 0.01**2, 0.03**2
    var_x = xx - mu_x**2
    var_y = yy - mu_y**2
    cov = xy - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


def checkerboard(output: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """How much more of the output's energy sits at the upsampling periods than the target's.

    Transposed convolutions leave patterns that repeat every 2 and 4 pixels (Odena et al. 2016).
    This is the share of spectral energy (of the grey image, mean removed) on the frequency rows
    and columns of periods 2 and 4, for the output divided by that of the target: about 1 for
    no artifacts, larger for a visible grid. NCHW in [-1, 1]; one number for the batch.
    """

    def share(images: torch.Tensor) -> torch.Tensor:
        grey = images.float().mean(1)
        grey = grey - grey.mean(dim=(-2, -1), keepdim=True)
        power = torch.fft.fft2(grey).abs().pow(2)
        h, w = power.shape[-2:]
        mask = torch.zeros(h, w, dtype=torch.bool, device=power.device)
        for period in (2, 4):
            if h % period == 0:
                mask[h // period, :] = mask[h - h // period, :] = True
            if w % period == 0:
                mask[:, w // period] = mask[:, w - w // period] = True
        return (power * mask).sum() / (power.sum() + eps)

    return share(output) / (share(target) + eps)


MEASURES = {"l1": l1, "psnr": psnr, "ssim": ssim, "checkerboard": checkerboard}


def mean_scores(outputs_and_targets: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[dict[str, float], int]:
    """Each measure's mean over (output, target) pairs of NCHW batches, and how many pairs there were."""
    scores: dict[str, list[float]] = {name: [] for name in MEASURES}
    for output, target in outputs_and_targets:
        for name, fn in MEASURES.items():
            scores[name].append(fn(output.float().cpu(), target).item())
    return {name: sum(values) / len(values) for name, values in scores.items()}, len(scores["l1"])
