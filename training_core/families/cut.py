"""CUT and FastCUT (Park, Efros, Zhang and Zhu, ECCV 2020): unpaired translation one way, one
generator and one discriminator, content kept by patchwise contrastive learning (PatchNCE)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..config import CUTConfig, FastCUTConfig
from .family import UNPAIRED, Family

_QUICK = {"netG": "resnet_6blocks", "ngf": 32, "ndf": 32}  # CycleGAN's quick networks: the two compare


class CUT(Family):
    name = "cut"
    title = "CUT"
    label = "CUT (unpaired, one way)"
    about = (
        "for two folders of pictures that need not match, A to B only: one generator where CycleGAN has "
        "two (about half its time per step), and each part of the picture kept in its place"
    )
    config = CUTConfig
    model = "training_core.models.cut:CUTModel"
    data = UNPAIRED
    layouts = ("unpaired", "paired")  # A/ and B/ folders of pairs train it as two domains, as CycleGAN
    needs = "two folders of images (trainA/ and trainB/)"
    directions = ("AtoB",)
    presets = {"quick": _QUICK}
    columns = "input (A) | output (as B)"
    held_out = "On {count} held-out B pictures, which A to B should leave as they are"
    held_out_brief = "held-out B kept"
    held_out_kind = "identity"

    def preview_row(self, model: Any, sample: dict[str, Any]) -> tuple[Any, ...]:
        ((_, image),) = sample.items()
        return image, model.translate(image[None])[0].cpu()

    def held_out_pairs(self, model: Any, batch: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
        """What the generator makes of held-out pictures of its target domain, against themselves:
        a one-way model has no round trip, but it should leave a picture that is already B alone
        (what CUT's identity term trains). Held-out A pictures have no B picture to compare with."""
        images = batch.get("B")
        if images is not None:
            yield from zip(model.translate(images), images)


class FastCUT(CUT):
    name = "fastcut"
    title = "FastCUT"
    label = "FastCUT (unpaired, one way, fastest)"
    about = (
        "CUT without its identity term, A to B only: about half the memory of CycleGAN and under half "
        "its time per step; changes the picture more freely than CUT"
    )
    config = FastCUTConfig


FAMILY = CUT()
FAST = FastCUT()
