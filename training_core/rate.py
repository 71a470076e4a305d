"""Progress rates as people read them: items per second over a recent window, and the time left.

One meter serves training (iterations) and conversion (files), so both say
"it/s" and "ETA" the same way.
"""

from __future__ import annotations

import collections
import time


class RateMeter:
    """Items per second over the last ``window`` ticks (older speed no longer predicts)."""

    def __init__(self, window: int):
        self._times: collections.deque[float] = collections.deque(maxlen=window)

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.perf_counter() if now is None else now)

    def reset(self) -> None:
        """Forget the window (after a pause, which is not working time)."""
        self._times.clear()

    @property
    def rate(self) -> float:
        if len(self._times) < 2 or self._times[-1] == self._times[0]:
            return 0.0
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])

    def eta(self, remaining: int) -> float:
        """Seconds until ``remaining`` more items are done; infinity while no rate is known."""
        rate = self.rate
        return remaining / rate if rate else float("inf")
