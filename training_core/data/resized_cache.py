"""Training images kept decoded and resized, so each file is read once per loader process.

Decoding a photo and resizing it to the load size is deterministic and, for an artist's
camera pictures, costs more than a small network's step; only the random crop and flip
differ from epoch to epoch. The cache holds the images after that deterministic step, up to
a byte budget; beyond it images are read from disk each time as before. Failures are never
kept: a broken file is reported every time it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from PIL import Image

# All loader processes together; enough for a few thousand images at the quick and paper sizes.
DEFAULT_BUDGET_BYTES = 1 << 30


def image_bytes(images: tuple[Image.Image, ...]) -> int:
    return sum(im.width * im.height * len(im.getbands()) for im in images)


class ResizedCache:
    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self.used_bytes = 0
        self._kept: dict[Hashable, tuple[Image.Image, ...]] = {}

    def get(self, key: Hashable, make: Callable[[], tuple[Image.Image, ...]]) -> tuple[Image.Image, ...]:
        """The images kept under ``key``, or ``make()``'s, kept while the budget has room."""
        images = self._kept.get(key)
        if images is None:
            images = make()
            size = image_bytes(images)
            if self.used_bytes + size <= self.budget_bytes:
                self._kept[key] = images
                self.used_bytes += size
        return images

    def limit(self, budget_bytes: int) -> None:
        """A new budget; images already kept beyond it are let go."""
        self.budget_bytes = budget_bytes
        while self._kept and self.used_bytes > budget_bytes:
            self.used_bytes -= image_bytes(self._kept.pop(next(reversed(self._kept))))
