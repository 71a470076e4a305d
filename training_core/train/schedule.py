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


def make_scheduler(optimizer, cfg: TrainConfig) -> LambdaLR:
    # A closure, not a lambda on the config object: LambdaLR's state_dict then holds only numbers.
    def factor(iteration: int) -> float:
        return lr_factor(iteration, cfg)

    return LambdaLR(optimizer, factor)
