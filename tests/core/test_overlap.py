"""The reader and writer threads beside the network: order kept, queues bounded, errors raised where they belong."""

import threading

import pytest

from training_core.convert.overlap import ReadAhead, WriteBehind


@pytest.mark.parametrize("depth", [0, 3])
def test_read_ahead_yields_every_item_in_order_and_raises_the_producers_error_in_its_place(depth):
    with ReadAhead(range(10), depth) as items:
        assert list(items) == list(range(10))

    def broken():
        yield 1
        raise ValueError("damaged after frame 1")

    with ReadAhead(broken(), depth) as items:
        assert next(items) == 1
        with pytest.raises(ValueError, match="damaged after frame 1"):
            next(items)


def test_read_ahead_stays_within_its_depth_and_leaving_early_ends_its_thread():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    with ReadAhead(endless(), 2) as items:
        assert next(items) == 0
        assert len(produced) <= 1 + 2 + 1  # the one taken, the queue's two, one waiting to be put
    assert threading.active_count() == before  # the thread is gone once the block is left
    assert len(produced) <= 5


@pytest.mark.parametrize("depth", [0, 2])
def test_write_behind_runs_calls_in_order_and_raises_a_calls_error_at_the_next_wait(depth):
    done = []
    with WriteBehind(depth) as writer:
        for n in range(20):
            writer.submit(done.append, n)
        writer.wait()
        assert done == list(range(20))

        def full_disk():
            raise OSError(28, "No space left on device")

        with pytest.raises(OSError, match="No space left"):
            writer.submit(full_disk)
            writer.wait()
