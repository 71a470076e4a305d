"""Losses averaged over steps: summed as tensors where they are made, read back once per average.

Reading a loss back from a GPU waits for it to finish the step; summing on the device and
reading the sum once lets it run ahead between reads.
"""

from __future__ import annotations

import torch


class LossAverage:
    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._steps = 0

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        """One step's losses."""
        for name, value in losses.items():
            self._sums[name] = self._sums[name] + value if name in self._sums else value
        self._steps += 1

    def take(self) -> dict[str, float]:
        """Each loss's mean over the steps added since the last take, as numbers; then starts again."""
        means = {name: float(total) / self._steps for name, total in self._sums.items()}
        self._sums, self._steps = {}, 0
        return means
