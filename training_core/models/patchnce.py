"""PatchNCE, the contrastive loss of CUT (Park, Efros, Zhang and Zhu, ECCV 2020).

A patch of the output should be more like the patch of the input at the same place than like any
other patch of that input. Both sides are the generator's own encoder features at a few layers; at
each layer the same sampled locations are read from the input's and the output's feature maps, each
feature goes through a small MLP head and onto the unit sphere, and a cross-entropy over
temperature-scaled similarities picks the matching location out of all those sampled in the image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PatchHeads(nn.Module):
    """One two-layer MLP per feature layer, projecting a location's feature to ``units`` numbers
    (the paper's "H_l", its code's netF). L2-normalised, so similarities are cosines."""

    def __init__(self, widths: list[int], units: int = 256):
        super().__init__()
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(width, units), nn.ReLU(), nn.Linear(units, units)) for width in widths
        )

    def forward(self, features: list[torch.Tensor], locations: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each layer's features (N, C, H, W) read at its locations (flat indices into H*W) and
        projected: (N, P, units), in float32."""
        projected = []
        for mlp, feature, where in zip(self.mlps, features, locations):
            picked = feature.flatten(2)[:, :, where].transpose(1, 2)
            # Normalised in float32: at a temperature of 0.07 bf16's three digits would blur the logits.
            projected.append(F.normalize(mlp(picked).float(), dim=-1, eps=1e-7))
        return projected


def sample_locations(features: list[torch.Tensor], count: int, generator: torch.Generator) -> list[torch.Tensor]:
    """``count`` distinct locations per layer (all of a smaller map), the same for every image of the
    batch, drawn from ``generator`` (on the CPU, so the draw is the same on every device)."""
    locations = []
    for feature in features:
        size = feature.shape[2] * feature.shape[3]
        chosen = torch.randperm(size, generator=generator)[: min(count, size)]
        locations.append(chosen.to(feature.device))
    return locations


def patch_nce(queries: torch.Tensor, keys: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """The PatchNCE loss of each image (N,): queries and keys (N, P, D), unit length.

    Query i's positive is key i; its negatives are the other P - 1 keys of the same image (the
    paper found negatives from other images of the batch worse). The keys are a fixed target."""
    logits = torch.bmm(queries, keys.detach().transpose(1, 2)) / temperature  # (N, P, P): row i, key j
    n, p, _ = logits.shape
    matching = torch.arange(p, device=logits.device).repeat(n)
    return F.cross_entropy(logits.flatten(0, 1), matching, reduction="none").view(n, p).mean(1)
