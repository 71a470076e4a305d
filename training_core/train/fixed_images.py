"""The run's fixed images: its previews and its held-out set, prepared like training data but with a
fixed crop and no flip, so every sample strip and every score of a run shows the same pictures.

Which images these are comes from the run's plan; what a preview row and a held-out score are, from
its family (``models.families``): this module only prepares and batches the images for them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import torch
from PIL import Image

from ..config import DataConfig
from ..data.datasets import PairedDataset
from ..data.images import load_rgb
from ..data.transforms import apply_transform, random_params, to_tensor
from ..families import Family
from ..models import metrics
from ..models.base import GANModel
from ..models.inference_norm import score_norm_modes
from ..streams import Stream, stream
from .plan import DataPlan
from .samples import sample_strip

log = logging.getLogger(__name__)
# The batch-norm statistics a conversion can use (models.inference_norm.NORM_MODES), in plain words.
NORM_WORDS = {"image": "each picture's own", "running": "those learnt in training"}


class FixedImages:
    def __init__(self, plan: DataPlan, family: Family, data_cfg: DataConfig, multiple: int, seed: int):
        self.plan, self.family = plan, family
        self.cfg = dataclasses.replace(data_cfg, flip=False)
        self.multiple, self.seed = multiple, seed
        # The model's domain of the dataset's A images: its B domain when trained B to A.
        self.a_side, self.b_side = ("A", "B") if data_cfg.direction == "AtoB" else ("B", "A")
        self._held_out: list[dict] | None = None  # prepared once per run

    @property
    def has_held_out(self) -> bool:
        return bool(self.plan.val or self.plan.val_a)

    def strip(self, model: GANModel) -> Image.Image:
        """The sample strip: one row per preview image, read again each time (a file gone says so)."""
        if self.plan.train:  # pairs
            previews = self._pairs(self.plan.preview)
        else:  # the dataset's A images
            previews = [{self.a_side: self._prepared(path, i)} for i, path in enumerate(self.plan.preview)]
        return sample_strip([self.family.preview_row(model, sample) for sample in previews])

    def scores(self, model: GANModel, batch_size: int) -> tuple[dict[str, float], int]:
        """Each measure's mean over the held-out images (``metrics.MEASURES``), and how many there were.

        Translated ``batch_size`` at a time where the device gains from it (eval mode: each image's
        result is the same alone or in a batch), so validation stays a small share of a fast GPU run."""
        return metrics.mean_scores(self.outputs(model, batch_size))

    def outputs(self, model: GANModel, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(output, what it should be), each a batch of one, for every held-out image in turn."""
        for batch in _batches_of_a_shape(self.held_out(), batch_size):
            for output, reference in self.family.held_out_pairs(model, batch):
                yield output[None], reference[None]

    def held_out(self) -> list[dict]:
        """The held-out images as samples of the model's domains: pairs, or each domain's images."""
        if self._held_out is None:
            if self.plan.train:
                self._held_out = self._pairs(self.plan.val)
            else:
                domains = ((self.a_side, self.plan.val_a), (self.b_side, self.plan.val_b))
                self._held_out = [
                    {side: self._prepared(path, i, Stream.VALIDATION, index)}
                    for index, (side, paths) in enumerate(domains)
                    for i, path in enumerate(paths)
                ]
        return self._held_out

    def inference_norm(self, model: GANModel) -> dict:
        """Which batch-norm statistics translate the held-out pairs better (the translator's default)."""
        pairs = [(sample["A"], sample["B"]) for sample in self.held_out()]
        scores = score_norm_modes(model.generator("AtoB"), pairs, model.device)
        best = min(scores, key=scores.get)
        log.info(  # said for an artist: the app's log pane shows it
            "checked on the held-out pairs which colour statistics convert closer to the targets: %s; "
            "photos will be converted with %s",
            ", ".join(f"{NORM_WORDS.get(k, k)} (difference from target {v:.4f})" for k, v in scores.items()),
            NORM_WORDS.get(best, best),
        )
        return {"norm": best, "val_l1": scores}

    def _pairs(self, items: list) -> list[dict]:
        dataset = PairedDataset(items, self.cfg, self.multiple, self.seed)
        return [{"A": s["A"], "B": s["B"]} for s in (dataset[i] for i in range(len(dataset)))]

    def _prepared(self, path: str, index: int, kind: Stream = Stream.PREVIEW, *keys: int) -> torch.Tensor:
        img = load_rgb(path)
        params = random_params(img.size, self.cfg, stream(self.seed, kind, *keys, index))
        return to_tensor(apply_transform(img, params, self.cfg, self.multiple))


def _batches_of_a_shape(samples: list[dict], size: int) -> Iterator[dict]:
    """Runs of consecutive samples of the same domains and shapes, at most ``size`` long, stacked."""
    group: list[dict] = []
    for sample in samples:
        if group and (len(group) == size or _shape(group[0]) != _shape(sample)):
            yield _stacked(group)
            group = []
        group.append(sample)
    if group:
        yield _stacked(group)


def _shape(sample: dict) -> tuple:
    return tuple((side, image.shape) for side, image in sample.items())


def _stacked(group: list[dict]) -> dict:
    return {side: torch.stack([sample[side] for sample in group]) for side in group[0]}
