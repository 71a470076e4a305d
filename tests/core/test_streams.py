"""Random streams are named, and no two uses of randomness can draw the same numbers."""

import itertools

import numpy as np

from training_core.streams import Stream, stream

# The keys each kind is used with in a run (datasets.py, trainer.py, plan.py).
KEYS = {
    Stream.EPOCH_ORDER: [(epoch,) for epoch in range(50)],
    Stream.AUGMENT: [(epoch, index) for epoch in range(10) for index in range(10)],
    Stream.HOLDOUT: [()],
    Stream.PREVIEW: [(index,) for index in range(10)],
    Stream.VALIDATION: [(domain, index) for domain in (0, 1) for index in range(10)],
}


def test_no_two_uses_share_a_seed_sequence():
    entropies = [(kind, keys, (0, int(kind), *keys)) for kind, all_keys in KEYS.items() for keys in all_keys]
    for (kind_a, _, seq_a), (kind_b, _, seq_b) in itertools.combinations(entropies, 2):
        if kind_a != kind_b:
            assert seq_a != seq_b


def test_the_hold_out_is_not_the_first_epochs_order():
    """0.1's collision: the hold-out drew [seed, 1], the sampler's stream for epoch 1."""
    holdout = stream(0, Stream.HOLDOUT).permutation(100)
    for epoch in range(3):
        assert not np.array_equal(holdout, stream(0, Stream.EPOCH_ORDER, epoch).permutation(100))


def test_a_stream_is_the_same_for_the_same_seed_and_keys():
    assert np.array_equal(stream(3, Stream.AUGMENT, 1, 2).random(4), stream(3, Stream.AUGMENT, 1, 2).random(4))
    assert not np.array_equal(stream(3, Stream.AUGMENT, 1, 2).random(4), stream(4, Stream.AUGMENT, 1, 2).random(4))
