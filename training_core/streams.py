"""Named random streams: each use of randomness in a run draws from its own stream.

A stream is seeded by ``[seed, kind, *keys]``. The kind comes second, so two
uses can never share numbers however their keys line up (0.1 seeded the
hold-out with ``[seed, 1]``, which was also the sampler's order for epoch 1).
Changing a kind's number changes every run's draws: add kinds, never renumber.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    EPOCH_ORDER = 1  # the order of an epoch's samples: keys (epoch,)
    AUGMENT = 2  # an item's crop, flip and (unpaired) partner: keys (epoch, index)
    HOLDOUT = 3  # which pairs are held out for validation: no keys
    PREVIEW = 4  # the fixed crop of a preview image: keys (index,)
    VALIDATION = 5  # the fixed crop of a held-out CycleGAN image: keys (domain, index)


def stream(seed: int, kind: Stream, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(kind), *keys])
