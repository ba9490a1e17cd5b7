"""Client-side pacing: stay just under a target API's rate limit instead of running into it.

Every write API Puente talks to limits requests per window (HubSpot private apps: 100 or 190
per rolling 10 s; Shopify REST: a bucket of 40 leaking 2 a second). Hitting the limit costs a
429 and its ``Retry-After`` wait, so a backlog is sent fastest by asking at the limit's pace
and no faster. ``Pacer`` admits at most ``limit`` requests in any ``window`` seconds, sleeping
until a slot frees; ``headroom`` keeps a small margin for clock differences between the two
sides (0.98 of the limit by default; bench/RESULTS.md "Activations" measures what it gives).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    def __init__(self, limit: int, window: float, *, headroom: float = 0.98,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if limit < 1 or window <= 0:
            raise ValueError("a pacer needs a limit of at least 1 request per positive window")
        self.limit = max(1, math.floor(limit * headroom))
        self.window = window
        self.clock, self.sleep = clock, sleep
        self._sent: deque[float] = deque()
        self.waited = 0.0

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        while True:
            now = self.clock()
            while self._sent and self._sent[0] <= now - self.window:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self._sent.append(now)
                return
            wait = self._sent[0] + self.window - now
            self.waited += wait
            self.sleep(wait)

    @classmethod
    def leaky_bucket(cls, size: int, leak_per_second: float, **kwargs) -> Pacer:
        """A pacer for a leaky bucket: its sustained rate, with a window as long as a full bucket
        takes to drain (so a burst never overflows it)."""
        window = size / leak_per_second
        return cls(size, window, **kwargs)
