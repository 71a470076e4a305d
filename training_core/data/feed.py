"""The run's stream of training batches: a seeded order per epoch, resumable at any sample.

One loader serves the whole run (its worker processes persist across epochs). The feed counts
where the run's stream stands after each batch, for all processes together: what a checkpoint
records, and what a resume, with any number of processes, restarts from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from ..streams import Stream, stream
from .datasets import LoadFailure, ReportingDataset, collate_or_failure
from .resized_cache import DEFAULT_BUDGET_BYTES


class RunSampler(torch.utils.data.Sampler):
    """(epoch, position, index) for every sample of the run: a seeded order per epoch, from a start point.

    Under torchrun the run's one stream of samples is dealt out: process ``rank`` of ``world`` takes
    every world-th sample, so N processes with batch B see what one process with batch N x B sees.
    """

    def __init__(self, size: int, seed: int, epoch: int, position: int, rank: int = 0, world: int = 1):
        self.size, self.seed, self.epoch, self.position = size, seed, epoch, position
        self.rank, self.world = rank, world

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        epoch, start, turn = self.epoch, self.position, 0
        while True:
            order = stream(self.seed, Stream.EPOCH_ORDER, epoch).permutation(self.size)
            for position in range(start, self.size):
                if turn % self.world == self.rank:
                    yield epoch, position, int(order[position])
                turn += 1
            epoch, start = epoch + 1, 0


def auto_workers(device: torch.device) -> int:
    """Loader processes: none on a CPU-only machine (they would compete with training), a few beside a GPU."""
    return min(4, max(0, (os.cpu_count() or 1) - 1)) if device.type == "cuda" else 0


class DataFeed:
    """Batches of ``dataset`` from (``epoch``, ``position``) on; ``next(feed)`` raises the
    ImageLoadError of a file that cannot be read (from a worker process too)."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int,
        device: torch.device,
        workers: int = -1,
        epoch: int = 0,
        position: int = 0,
        rank: int = 0,
        world: int = 1,
    ):
        self.dataset, self.batch_size, self.world = dataset, batch_size, world
        self.epoch, self.position = epoch, position
        workers = workers if workers >= 0 else auto_workers(device)
        # Each loader process keeps its own resized images: the budget is shared among them.
        dataset.limit_cache(DEFAULT_BUDGET_BYTES // max(1, workers))
        self._loader = DataLoader(
            ReportingDataset(dataset),
            batch_size=batch_size,
            collate_fn=collate_or_failure,
            sampler=RunSampler(len(dataset), seed, epoch, position, rank, world),
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=device.type == "cuda",
            # Its own generator: creating the iterator must not draw from the global torch RNG.
            generator=torch.Generator().manual_seed(seed),
        )
        self._batches: Iterator | None = None  # the loader's iterator, started by the first batch asked for

    def __iter__(self) -> DataFeed:
        return self

    def __next__(self) -> dict:
        if self._batches is None:
            self._batches = iter(self._loader)
        batch = next(self._batches)
        if isinstance(batch, LoadFailure):
            raise batch.error()
        self.position += self.batch_size * self.world
        self.epoch += self.position // len(self.dataset)
        self.position %= len(self.dataset)
        return batch

    @property
    def state(self) -> dict:
        """Where the run's stream stands: a checkpoint's ``data_state``."""
        return {"epoch": self.epoch, "position": self.position}
