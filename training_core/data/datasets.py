"""Torch datasets over a DatasetReport's files.

Each sample's random choices come from a generator seeded by (seed, epoch,
index): the same run gives the same samples with any number of loader
workers, and a resumed run sees exactly what an uninterrupted one would.
A key is an index (in the epoch set by ``set_epoch``) or a tuple
(epoch, position, index) from the trainer's sampler, which lets one set of
persistent loader workers serve every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import Dataset, default_collate

from ..config import DataConfig
from ..errors import ImageLoadError
from ..streams import Stream, stream
from .images import load_rgb
from .resized_cache import ResizedCache
from .transforms import apply_transform, random_params, resize_step, split_aligned, to_tensor


class _SeededDataset(Dataset):
    def __init__(self, cfg: DataConfig, multiple: int, seed: int):
        self.cfg = cfg.validate()
        self.multiple = multiple
        self.seed = seed
        self.epoch = 0
        self.cache = ResizedCache()

    def limit_cache(self, budget_bytes: int) -> None:
        """Bytes of resized images each process keeps (0: read every file each time)."""
        self.cache.limit(budget_bytes)

    def set_epoch(self, epoch: int) -> None:
        """Draw new crops and flips (and, unpaired, new partners) for the next epoch."""
        self.epoch = epoch

    def _key(self, key) -> tuple[int, int, int]:
        """(epoch, position in the epoch, index) for an int or a sampler tuple."""
        if isinstance(key, tuple):
            return int(key[0]), int(key[1]), int(key[2])
        return self.epoch, int(key), int(key)

    def _rng(self, epoch: int, index: int) -> np.random.Generator:
        return stream(self.seed, Stream.AUGMENT, epoch, index)

    def _resized(self, path) -> Image.Image:
        return self.cache.get(str(path), lambda: (resize_step(load_rgb(path), self.cfg),))[0]

    def _prepare(self, img, rng):
        # Drawing the choices from the resized size gives those of the original (see resize_step).
        params = random_params(img.size, self.cfg, rng)
        return to_tensor(apply_transform(img, params, self.cfg, self.multiple))


class PairedDataset(_SeededDataset):
    """pix2pix data: aligned A|B images or (A, B) file pairs; one crop and flip per pair."""

    def __init__(self, items: list, cfg: DataConfig, multiple: int = 1, seed: int = 0):
        super().__init__(cfg, multiple, seed)
        if not items:
            raise ValueError("a paired dataset needs at least one image pair")
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def item_paths(self, index: int) -> tuple[str, str]:
        """The files of A and B at ``index``, in the configured direction."""
        item = self.items[index]
        paths = (str(item), str(item)) if isinstance(item, (str, Path)) else (str(item[0]), str(item[1]))
        return paths[::-1] if self.cfg.direction == "BtoA" else paths

    def _resized_pair(self, index: int) -> tuple[Image.Image, Image.Image]:
        """The pair at ``index`` read and resized, as (A, B) in the configured direction."""
        item = self.items[index]
        if isinstance(item, (str, Path)):
            a, b = split_aligned(load_rgb(item))
        else:
            a, b = load_rgb(item[0]), load_rgb(item[1])
            if b.size != a.size:
                b = b.resize(a.size)  # separate files of one pair may differ slightly in size
        if self.cfg.direction == "BtoA":
            a, b = b, a
        return resize_step(a, self.cfg), resize_step(b, self.cfg)

    def __getitem__(self, key) -> dict:
        epoch, position, index = self._key(key)
        a, b = self.cache.get(index, lambda: self._resized_pair(index))
        path_a, path_b = self.item_paths(index)
        params = random_params(a.size, self.cfg, self._rng(epoch, index))
        return {
            "A": to_tensor(apply_transform(a, params, self.cfg, self.multiple)),
            "B": to_tensor(apply_transform(b, params, self.cfg, self.multiple)),
            "A_path": path_a,
            "B_path": path_b,
            "index": index,
            "epoch": epoch,
            "position": position,
        }


class UnpairedDataset(_SeededDataset):
    """CycleGAN data: each A image meets a random B image; independent crops and flips."""

    def __init__(self, domain_a: list, domain_b: list, cfg: DataConfig, multiple: int = 1, seed: int = 0):
        super().__init__(cfg, multiple, seed)
        if not domain_a or not domain_b:
            raise ValueError("an unpaired dataset needs images in both domains")
        self.domain_a, self.domain_b = list(domain_a), list(domain_b)
        if cfg.direction == "BtoA":
            self.domain_a, self.domain_b = self.domain_b, self.domain_a

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def __getitem__(self, key) -> dict:
        epoch, position, index = self._key(key)
        rng = self._rng(epoch, index)
        path_a = self.domain_a[index % len(self.domain_a)]
        path_b = self.domain_b[int(rng.integers(len(self.domain_b)))]
        return {
            "A": self._prepare(self._resized(path_a), rng),
            "B": self._prepare(self._resized(path_b), rng),
            "A_path": str(path_a),
            "B_path": str(path_b),
            "index": index,
            "epoch": epoch,
            "position": position,
        }


@dataclass(frozen=True)
class LoadFailure:
    """An image that could not be read, as a value: it crosses from a loader worker process intact."""

    path: str
    reason: str
    detail: str

    def error(self) -> ImageLoadError:
        return ImageLoadError(Path(self.path), self.reason, self.detail)


class ReportingDataset(Dataset):
    """Returns a LoadFailure instead of raising ImageLoadError.

    A DataLoader worker process re-raises exceptions in the main process from
    their text alone, losing the file name and the reason; a returned value
    keeps both, whatever the number of workers.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        try:
            return self.dataset[key]
        except ImageLoadError as exc:
            return LoadFailure(str(exc.path), exc.reason, exc.detail)


def collate_or_failure(items: list):
    """default_collate, or the first LoadFailure of the batch."""
    for item in items:
        if isinstance(item, LoadFailure):
            return item
    return default_collate(items)
