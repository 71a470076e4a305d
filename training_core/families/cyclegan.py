"""CycleGAN (Zhu et al., ICCV 2017): unpaired translation both ways, two generators and a cycle."""

from __future__ import annotations

from collections.abc import Iterator

from ..config import CycleGANConfig
from .family import UNPAIRED, Family, Images, Translating

_THERE_AND_BACK = {"A": ("AtoB", "BtoA"), "B": ("BtoA", "AtoB")}  # from each of the model's domains


def _round_trip(model: Translating, images: Images, domain: str) -> tuple[Images, Images]:
    there, back = _THERE_AND_BACK[domain]
    fake = model.translate(images, there)
    return fake, model.translate(fake, back)


class CycleGAN(Family):
    name = "cyclegan"
    title = "CycleGAN"
    label = "CycleGAN (unpaired)"
    about = "for two folders of pictures that need not match: learns both ways, A to B and B to A"
    config = CycleGANConfig
    model = "training_core.models.cyclegan:CycleGANModel"
    data = UNPAIRED
    layouts = ("unpaired", "paired")  # A/ and B/ folders of pairs can also train it, as two domains
    usual_for = ("unpaired",)
    needs = "two folders of images (trainA/ and trainB/)"
    directions = ("AtoB", "BtoA")
    # The papers' configuration but in the quick preset: measured best for pix2pix only (families/pix2pix.py).
    presets = {"quick": {"netG": "resnet_6blocks", "ngf": 32, "ndf": 32}}
    # Its previews are always the dataset's A pictures (in the model's B domain when trained B to A).
    columns = "input (A) | output (as B) | reconstruction (back to A)"
    held_out = "Round trip (there and back) of {count} held-out images"
    held_out_brief = "held-out round trip"
    held_out_kind = "cycle"

    def preview_row(self, model: Translating, sample: dict[str, Images]) -> tuple[Images, ...]:
        ((domain, image),) = sample.items()
        fake, back = _round_trip(model, image[None], domain)
        return image, fake[0].cpu(), back[0].cpu()

    def held_out_pairs(self, model: Translating, batch: dict[str, Images]) -> Iterator[tuple[Images, Images]]:
        """Each image of either domain translated there and back, against itself."""
        ((domain, images),) = batch.items()
        yield from zip(_round_trip(model, images, domain)[1], images)


FAMILY = CycleGAN()
