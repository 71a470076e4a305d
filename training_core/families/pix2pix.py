"""pix2pix (Isola et al., CVPR 2017): paired translation, one U-Net generator, A to B."""

from __future__ import annotations

from collections.abc import Iterator

from ..config import Pix2PixConfig
from .family import PAIRED, Family, Images, Translating

# What measured best on a small dataset (bench/quality.py, people-outlines, 3 seeds; tables and
# pictures in bench/README.md): resize-convolution draws no checkerboard; augmenting all the
# discriminator sees keeps it from memorising 90 pairs, and with it so held back, twice the papers'
# learning rate lets the generator learn faster without upsetting the game (alone, on the papers'
# configuration, the faster rate gained far less and kept the grid). A structural (SSIM) loss beside
# the L1, with the same weight, lowers the held-out L1 further (Zhao et al. 2017 saw the same).
# Lower held-out L1 than the papers' recipe on every seed, at 6-16% more time per iteration at
# 256 px for the resize convolutions and about 20 ms more for the structural loss.
MEASURED_BEST = {
    "upsample": "resize",
    "diff_augment": "color,translation,cutout",
    "lr": 4e-4,
    "lambda_ssim": 100.0,
}


class Pix2Pix(Family):
    name = "pix2pix"
    title = "pix2pix"
    label = "pix2pix (paired)"
    about = "for pairs: each A picture with the B picture it should become"
    config = Pix2PixConfig
    model = "training_core.models.pix2pix:Pix2PixModel"
    data = PAIRED
    layouts = ("aligned", "paired")
    usual_for = ("aligned", "paired")
    needs = "paired images"
    presets = {
        "quick": {"netG": "unet_128", "ngf": 32, "ndf": 32, **MEASURED_BEST},
        "high": MEASURED_BEST,
    }
    columns = "input ({source}) | output (made {target}) | target ({target})"
    held_out = "On {count} held-out pairs"
    held_out_brief = "validation"
    held_out_kind = "pairs"

    def preview_row(self, model: Translating, sample: dict[str, Images]) -> tuple[Images, ...]:
        a = sample["A"]
        return a, model.translate(a[None])[0].cpu(), sample["B"]

    def held_out_pairs(self, model: Translating, batch: dict[str, Images]) -> Iterator[tuple[Images, Images]]:
        """Each output against its target."""
        yield from zip(model.translate(batch["A"]), batch["B"])


FAMILY = Pix2Pix()
