"""Convert a photo through the model's own kind of input: lines, lightness, flats or a blurred copy first.

A model trained on pairs made from artworks (``gan-studio-dataset make-pairs``)
learned to paint over that kind of input, so a photo is first made into it,
with the very settings its training pairs were made with, then painted.
"""

from __future__ import annotations

import json

from PIL import Image

from ..data.pair_makers import PairSettings, make_input
from .translator import Translator


class PreparedTranslator:
    """A Translator whose every image is made into the model's kind of input first."""

    def __init__(self, inner: Translator, settings: PairSettings):
        self.inner, self.settings = inner, settings.validate()

    def prepare(self, image: Image.Image) -> Image.Image:
        return make_input(image, self.settings)

    def translate(self, image: Image.Image) -> Image.Image:
        return self.inner.translate(self.prepare(image))

    def pixel_settings(self) -> dict[str, str]:
        own = json.dumps(self.settings.own(), sort_keys=True)
        return {**self.inner.pixel_settings(), "prepare_input": own}

    def fingerprint(self) -> str:
        return f"{self.inner.fingerprint()}|{self.pixel_settings()['prepare_input']}"

    def weights_digest(self) -> str:
        return self.inner.weights_digest()

    def describe(self) -> str:
        return f"{self.inner.describe()}; each photo made into {self.settings.kind} first"
