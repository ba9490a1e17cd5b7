"""Rate limiters and fault injection for the simulated APIs, on an injectable clock.

- ``RollingWindow``: at most N requests in any window of W seconds, as HubSpot's
  ``TEN_SECONDLY_ROLLING`` policy (100 or 190 requests per 10 s per private app, by plan) and
  its separate search limit (a few requests per second per account).
- ``LeakyBucket``: Shopify's REST limit. Each request drops one marble into a bucket of 40 that
  leaks 2 per second (standard plans); a request that finds it full is refused with 429.
- ``FaultInjector``: seeded random 429s and 5xx answers at set rates, so connectors can prove
  their retries. (Timeouts, malformed records, deletes and late updates come later.)

The clock is any zero-argument callable returning seconds (``time.monotonic`` by default);
tests pass a ``ManualClock`` and move time by hand instead of sleeping.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


class ManualClock:
    """A clock that only moves when told to: ``clock.advance(10)``."""

    def __init__(self, start: float = 0.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Limits:
    """The rate limits the simulators enforce (defaults: HubSpot Starter/Pro private app, Shopify standard)."""

    hubspot_requests: int = 100
    hubspot_window_seconds: float = 10.0
    hubspot_search_per_second: int = 5
    shopify_bucket_size: int = 40
    shopify_leak_per_second: float = 2.0
    clock: Clock = field(default=time.monotonic, compare=False)


@dataclass(frozen=True)
class Decision:
    """A limiter's answer: whether the request may go on, what is left, when to come back."""

    allowed: bool
    remaining: int
    retry_after: float = 0.0


class RollingWindow:
    """At most ``limit`` accepted requests in any ``window`` seconds (refused ones do not count)."""

    def __init__(self, limit: int, window: float, clock: Clock):
        self.limit, self.window, self._clock = limit, window, clock
        self._accepted: deque[float] = deque()

    def acquire(self) -> Decision:
        now = self._clock()
        while self._accepted and self._accepted[0] <= now - self.window:
            self._accepted.popleft()
        if len(self._accepted) >= self.limit:
            return Decision(False, 0, self._accepted[0] + self.window - now)
        self._accepted.append(now)
        return Decision(True, self.limit - len(self._accepted))


class LeakyBucket:
    """Shopify's leaky bucket: ``capacity`` marbles, leaking ``leak_per_second``."""

    def __init__(self, capacity: int, leak_per_second: float, clock: Clock):
        self.capacity, self.leak, self._clock = capacity, leak_per_second, clock
        self._level = 0.0
        self._at = clock()

    def _drain(self) -> None:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.leak)
        self._at = now

    @property
    def used(self) -> int:
        """Marbles in the bucket now, as Shopify reports them (``X-Shopify-Shop-Api-Call-Limit``)."""
        self._drain()
        return math.ceil(self._level - 1e-9)

    def acquire(self) -> Decision:
        self._drain()
        if self._level + 1 > self.capacity:
            return Decision(False, 0, (self._level + 1 - self.capacity) / self.leak)
        self._level += 1
        return Decision(True, self.capacity - math.ceil(self._level - 1e-9))


@dataclass(frozen=True)
class FaultRates:
    """Share of requests (0–1) answered with a 429, and with a 5xx, instead of being served."""

    too_many_requests: float = 0.0
    server_error: float = 0.0

    def __post_init__(self) -> None:
        if min(self.too_many_requests, self.server_error) < 0 or self.too_many_requests + self.server_error > 1:
            raise ValueError("fault rates must be between 0 and 1 and add up to at most 1")


@dataclass(frozen=True)
class Faults:
    """Injected faults per service; the same seed gives the same faults for the same requests."""

    seed: int = 0
    odoo: FaultRates = FaultRates()
    hubspot: FaultRates = FaultRates()
    shopify: FaultRates = FaultRates()

    def injector(self, service: str) -> FaultInjector:
        return FaultInjector(getattr(self, service), random.Random(f"{self.seed}:{service}"))


class FaultInjector:
    """Draws, request by request, whether to fail it: ``"429"``, ``"5xx"`` or ``None``."""

    def __init__(self, rates: FaultRates, rng: random.Random):
        self.rates, self._rng = rates, rng

    def draw(self) -> str | None:
        if not (self.rates.too_many_requests or self.rates.server_error):
            return None
        roll = self._rng.random()
        if roll < self.rates.too_many_requests:
            return "429"
        if roll < self.rates.too_many_requests + self.rates.server_error:
            return "5xx"
        return None
