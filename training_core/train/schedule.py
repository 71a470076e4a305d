"""Learning-rate schedules counted in iterations, so a 20-image dataset decays as smoothly as a big one."""

from __future__ import annotations

import math

from torch.optim.lr_scheduler import LambdaLR

from ..config import TrainConfig


def lr_factor(iteration: int, cfg: TrainConfig) -> float:
    """Multiplier of the base learning rate at ``iteration`` (0-based)."""
    total = cfg.iterations
    if cfg.lr_policy == "linear":
        # The papers: constant, then linear decay to zero at the last iteration.
        start = int(total * cfg.lr_decay_start)
        return 1.0 - max(0, iteration - start) / max(1, total - start)
    if cfg.lr_policy == "step":
        every = cfg.lr_step_iters or max(1, total // 3)
        return 0.1 ** (iteration // every)
    if cfg.lr_policy == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(iteration, total) / total))
    return 1.0


class Plateau:
    """The plateau policy's memory: cut the rate when a loss has not improved for ``patience`` checks.

    As the reference implementation (ReduceLROnPlateau, mode "min"): an
    improvement is a drop of more than 1% below the best value; after a cut
    the count starts again. Without held-out pairs the loss watched is the
    generator's training loss, averaged since the last check (summed on the
    device, so that no step waits for it). Its state is saved in every
    checkpoint, so a resumed run cuts the rate where an uninterrupted one would.
    """

    THRESHOLD = 0.01

    def __init__(self, cfg: TrainConfig):
        self.patience, self.factor = cfg.plateau_patience, cfg.plateau_factor
        self.scale, self.best, self.bad = 1.0, math.inf, 0
        self.loss_sum, self.loss_count = 0.0, 0  # the generator's training loss since the last check

    def add_loss(self, value) -> None:
        self.loss_sum, self.loss_count = self.loss_sum + value, self.loss_count + 1

    def take_mean_loss(self) -> float:
        """The mean training loss since the last check, starting a new window."""
        mean = float(self.loss_sum) / max(1, self.loss_count)
        self.loss_sum, self.loss_count = 0.0, 0
        return mean

    def observe(self, value: float) -> None:
        """A check at a sample point: cut the rate if ``value`` has not improved for too long."""
        if not math.isfinite(value):
            return
        if value < self.best * (1 - self.THRESHOLD):
            self.best, self.bad = value, 0
            return
        self.bad += 1
        if self.bad > self.patience:
            self.scale *= self.factor
            self.bad = 0

    def state_dict(self) -> dict:
        return {
            "scale": self.scale,
            "best": self.best,
            "bad": self.bad,
            "loss_sum": float(self.loss_sum),
            "loss_count": self.loss_count,
        }

    def load_state_dict(self, state: dict) -> None:
        self.scale, self.best, self.bad = float(state["scale"]), float(state["best"]), int(state["bad"])
        self.loss_sum, self.loss_count = float(state["loss_sum"]), int(state["loss_count"])


def make_scheduler(optimizer, cfg: TrainConfig, plateau: Plateau | None = None) -> LambdaLR:
    # A closure, not a lambda on the config object: LambdaLR's state_dict then holds only numbers.
    def factor(iteration: int) -> float:
        return lr_factor(iteration, cfg) * (plateau.scale if plateau is not None else 1.0)

    return LambdaLR(optimizer, factor)
