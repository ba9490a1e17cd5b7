"""Client-side pacing: stay just under a target API's rate limit instead of running into it.

Every write API Puente talks to limits requests per window (HubSpot private apps: 100 or 190
per rolling 10 s; Shopify REST: a bucket of 40 leaking 2 a second). Hitting the limit costs a
429 and its ``Retry-After`` wait, so a backlog is sent fastest by asking at the limit's pace
and no faster. ``Pacer`` admits at most ``limit`` requests in any ``window`` seconds, sleeping
until a slot frees; ``headroom`` keeps a small margin for clock differences between the two
sides (0.98 of the limit by default; bench/RESULTS.md "Activations" measures what it gives).
APIs that limit by cost and report their bucket in each answer (Shopify's GraphQL Admin API) are
paced by ``CostPacer`` from those reports instead.
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


class CostPacer:
    """Pacing for a cost-based limit that reports its state in every answer (Shopify's GraphQL
    Admin API: ``extensions.cost.throttleStatus`` with ``maximumAvailable``, ``currentlyAvailable``
    and ``restoreRate``).

    ``record`` keeps the latest report; ``acquire(cost)`` waits, before a request, until the bucket
    as last reported has had time to restore ``cost`` points, so a backlog is sent at the restore
    rate instead of into throttled answers. ``wait_after_throttle`` is how long a throttled request
    waits before it is sent again: until the points it asked for are back.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.clock, self.sleep = clock, sleep
        self.maximum: float | None = None
        self.available = 0.0
        self.restore_rate = 0.0
        self._at = 0.0
        self.waited = 0.0

    def record(self, throttle_status: dict | None) -> None:
        try:
            maximum = float(throttle_status["maximumAvailable"])  # type: ignore[index]
            available = float(throttle_status["currentlyAvailable"])  # type: ignore[index]
            restore = float(throttle_status["restoreRate"])  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            return
        self.maximum, self.available, self.restore_rate, self._at = maximum, available, restore, self.clock()

    def expected(self) -> float | None:
        """The points the bucket holds now, as the last report lets one compute (None before one)."""
        if self.maximum is None:
            return None
        return min(self.maximum, self.available + (self.clock() - self._at) * self.restore_rate)

    def acquire(self, cost: float) -> None:
        now = self.expected()
        if now is None or now >= cost or self.restore_rate <= 0:
            return
        wait = (cost - now) / self.restore_rate
        self.waited += wait
        self.sleep(wait)

    def wait_after_throttle(self, requested: float, fallback: float = 1.0) -> float:
        now = self.expected()
        if now is None or self.restore_rate <= 0:
            return fallback
        return max((requested - now) / self.restore_rate, 0.05)
