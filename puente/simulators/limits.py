"""Rate limiters and fault injection for the simulated APIs, on an injectable clock.

- ``RollingWindow``: at most N requests in any window of W seconds, as HubSpot's
  ``TEN_SECONDLY_ROLLING`` policy (100 or 190 requests per 10 s per private app, by plan) and
  its separate search limit (a few requests per second per account).
- ``LeakyBucket``: Shopify's REST limit, and Tienda Nube's. Each request drops one marble into
  a bucket of 40 that leaks 2 per second (Shopify's standard plans, every Tienda Nube app); a
  request that finds it full is refused with 429.
- ``CostBucket``: Shopify's GraphQL Admin limit: a bucket of points (2,000 on the standard plan)
  restored at a steady rate (100 a second); a request takes its calculated query cost out of it
  up front and gets back what it did not use, and one that finds too few points is not run.
- ``FaultInjector``: seeded misbehaviour at set rates, per service and per endpoint (``Faults``):
  429s and 5xx answers, requests that hang past the client's timeout, connections dropped
  mid-answer, malformed records (missing id, broken or wrongly typed updated-at, bad
  encodings), records changed while a client pages through them, and late updates stamped
  with an older updated-at. Deletes and archives are the business's own (``Business.delete``,
  ``Business.archive``), done the way each system does them.

The clock is any zero-argument callable returning seconds (``time.monotonic`` by default);
tests pass a ``ManualClock`` and move time by hand instead of sleeping.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.simulators.systems import simulator
from puente.sources.registry import SOURCES

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
    # Shopify's GraphQL Admin API: a bucket of cost points per app and store (standard plan).
    shopify_graphql_points: float = 2000.0
    shopify_graphql_restore_per_second: float = 100.0
    tiendanube_bucket_size: int = 40
    tiendanube_leak_per_second: float = 2.0
    # Salesforce: the org's API requests per rolling 24 hours (Enterprise Edition's base allocation),
    # and how long a session (an access token) lives without use (the org's session timeout).
    salesforce_daily_requests: int = 100_000
    salesforce_session_seconds: float = 7200.0
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


class CostBucket:
    """Shopify's GraphQL cost bucket: ``capacity`` points, ``restore_rate`` points back a second."""

    def __init__(self, capacity: float, restore_rate: float, clock: Clock):
        self.capacity, self.restore_rate, self._clock = capacity, restore_rate, clock
        self._available = float(capacity)
        self._at = clock()

    @property
    def available(self) -> float:
        now = self._clock()
        self._available = min(self.capacity, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return self._available

    def take(self, points: float) -> bool:
        """Take ``points`` when the bucket holds them; False (nothing taken) when it does not."""
        if self.available < points:
            return False
        self._available -= points
        return True

    def refund(self, points: float) -> None:
        if points > 0:
            self._available = min(self.capacity, self.available + points)


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


REQUEST_FAULTS = ("429", "5xx", "timeout", "disconnect")


@dataclass(frozen=True)
class FaultRates:
    """How often a service misbehaves. Shares are 0–1.

    Per request (at most one of them; together at most 1): ``too_many_requests`` (429 with
    Retry-After), ``server_error`` (5xx), ``timeout`` (the answer hangs for ``Faults.hang_seconds``
    and the connection is then dropped: a client with a shorter timeout sees a read timeout) and
    ``disconnect`` (the connection is dropped after the headers, as a crashed proxy does).

    Per record version served by a listing or search: ``malformed`` (the version is served
    broken, the same way every time it is served; see ``MALFORMATIONS``).

    Per listing or search request that is served: ``changed_while_paging`` (one record of the
    object is changed, stamped now, before the page is computed) and ``late_update`` (one record
    is changed but stamped ``Faults.late_by_seconds`` in the past, as a long ERP transaction or a
    lagging search index makes it appear).
    """

    too_many_requests: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    disconnect: float = 0.0
    malformed: float = 0.0
    changed_while_paging: float = 0.0
    late_update: float = 0.0

    def __post_init__(self) -> None:
        shares = (self.too_many_requests, self.server_error, self.timeout, self.disconnect, self.malformed,
                  self.changed_while_paging, self.late_update)
        if min(shares) < 0 or max(shares) > 1 or sum(self._request_bands()) > 1:
            raise ValueError("fault rates must be between 0 and 1, and the per-request ones (429, 5xx, "
                             "timeout, disconnect) must add up to at most 1")

    def _request_bands(self) -> tuple[float, ...]:
        return (self.too_many_requests, self.server_error, self.timeout, self.disconnect)


# How a malformed record version is broken, and whether a loader must refuse it (quarantine) or can
# land it as it is (and leave it to the raw checks): bad encodings are mojibake in Odoo (valid
# text, wrong letters) and a lone UTF-16 surrogate in the JSON APIs (a string cut inside an emoji),
# which no UTF-8 database can store.
MALFORMATIONS = ("missing_id", "broken_date", "wrong_type", "bad_encoding")
# The field of a record's updated-at, per system: its objects' cursor (puente.sources.registry).
UPDATED_AT = {source.name: source.objects[0].cursor for source in SOURCES}
# How a malformed record's date and text break is each simulator's (``Simulated.broken_date``: a
# date its API could never hold, WordPress's "zero date" for WooCommerce; ``Simulated.text_fields``:
# the text a bad encoding cuts, the first of these a record has, a person's first name, a product's
# title, an order's name or number, so that it breaks a field the record really carries, since a
# field it does not carry would not land: minimum data).


def must_quarantine(service: str, kind: str | None) -> bool:
    """Whether a record broken as ``kind`` cannot be landed (see ``MALFORMATIONS``)."""
    return kind is not None and not (service == "odoo" and kind == "bad_encoding")


@dataclass(frozen=True, init=False, eq=False)
class Faults:
    """Injected faults per service, and per endpoint where ``endpoints`` says so.

    The rates of each service are given by its name (``Faults(shopify=FaultRates(...))``), any
    system of the registry; a service not given has none. ``endpoints`` maps
    ``"<service> <path prefix>"`` (e.g. ``"hubspot /crm/v3/objects/contacts/search"``)
    to the rates for requests under that path, instead of the service's. The same seed gives the
    same faults for the same sequence of requests, and malformed versions depend only on the
    seed and the record version.
    """

    seed: int
    rates: Mapping[str, FaultRates]
    endpoints: Mapping[str, FaultRates]
    hang_seconds: float
    late_by_seconds: float

    def __init__(self, seed: int = 0, endpoints: Mapping[str, FaultRates] | None = None, hang_seconds: float = 0.5,
                 late_by_seconds: float = 1800.0, **rates: FaultRates):
        unknown = sorted(set(rates) - set(UPDATED_AT))
        if unknown:
            raise TypeError(f"Faults got rates for unknown service(s) {unknown}; known: {sorted(UPDATED_AT)}")
        for name, value in (("seed", seed), ("rates", dict(rates)), ("endpoints", dict(endpoints or {})),
                            ("hang_seconds", hang_seconds), ("late_by_seconds", late_by_seconds)):
            object.__setattr__(self, name, value)

    def __getattr__(self, service: str) -> FaultRates:
        """``faults.shopify``: the rates of a service (none given: no faults)."""
        if service in UPDATED_AT:
            return self.rates.get(service, FaultRates())
        raise AttributeError(service)

    def injector(self, service: str) -> FaultInjector:
        endpoints = {key.split(" ", 1)[1]: rates for key, rates in self.endpoints.items()
                     if key.split(" ", 1)[0] == service}
        return FaultInjector(self.rates.get(service, FaultRates()), random.Random(f"{self.seed}:{service}"),
                             service=service, seed=self.seed, endpoints=endpoints,
                             hang_seconds=self.hang_seconds, late_by_seconds=self.late_by_seconds)

    def malformed(self, service: str, obj: str, rid: Any, updated_at: Any, path: str = "") -> str | None:
        """How the version ``(rid, updated_at)`` of a record is served broken by the endpoint ``path``
        (the service's rates when no endpoint rates apply), or None. For tests: the truth of what broke."""
        return self.injector(service).malformation(obj, rid, updated_at, path)


class FaultInjector:
    """Draws, request by request, what goes wrong; breaks record versions deterministically."""

    def __init__(self, rates: FaultRates, rng: random.Random, *, service: str = "", seed: int = 0,
                 endpoints: Mapping[str, FaultRates] | None = None, hang_seconds: float = 0.5,
                 late_by_seconds: float = 1800.0):
        self.rates, self._rng, self.service, self.seed = rates, rng, service, seed
        self.endpoints = dict(endpoints or {})
        self.hang_seconds, self.late_by_seconds = hang_seconds, late_by_seconds

    def rates_for(self, path: str = "") -> FaultRates:
        matches = [prefix for prefix in self.endpoints if path.startswith(prefix)]
        return self.endpoints[max(matches, key=len)] if matches else self.rates

    def draw(self, path: str = "") -> str | None:
        """``"429"``, ``"5xx"``, ``"timeout"``, ``"disconnect"`` or None for one request."""
        bands = self.rates_for(path)._request_bands()
        if not any(bands):
            return None
        roll, edge = self._rng.random(), 0.0
        for fault, share in zip(REQUEST_FAULTS, bands, strict=True):
            edge += share
            if roll < edge:
                return fault
        return None

    def mutations(self, path: str = "") -> list[str]:
        """What to do to the data before serving a listing: ``"change"`` and/or ``"late"``."""
        rates = self.rates_for(path)
        out = []
        if rates.changed_while_paging and self._rng.random() < rates.changed_while_paging:
            out.append("change")
        if rates.late_update and self._rng.random() < rates.late_update:
            out.append("late")
        return out

    def pick(self, population: list[Any]) -> Any:
        return self._rng.choice(population) if population else None

    def malformation(self, obj: str, rid: Any, updated_at: Any, path: str = "") -> str | None:
        share = self.rates_for(path).malformed
        if not share:
            return None
        digest = hashlib.blake2b(f"{self.seed}:{self.service}:{obj}:{rid}:{updated_at}".encode(),
                                 digest_size=8).digest()
        roll = int.from_bytes(digest[:4]) / 2**32
        return MALFORMATIONS[digest[4] % len(MALFORMATIONS)] if roll < share else None

    def serve(self, obj: str, record: dict, path: str = "") -> dict:
        """``record`` as served: itself, or a broken copy when its version is malformed."""
        field_name = UPDATED_AT[self.service]
        kind = self.malformation(obj, record.get("id"), record.get(field_name), path)
        if kind is None:
            return record
        broken = dict(record)
        if kind == "missing_id":
            broken.pop("id", None)
        elif kind == "broken_date":
            broken[field_name] = simulator(self.service).broken_date
        elif kind == "wrong_type":
            broken[field_name] = False if self.service == "odoo" else 1763251200000
        else:
            holder = broken
            if self.service == "hubspot":
                broken["properties"] = holder = dict(broken.get("properties") or {})
            text_fields = simulator(self.service).text_fields
            key = next((k for k in text_fields if k in holder), text_fields[0])
            if isinstance(holder.get(key), dict):  # a name per language (Tienda Nube): cut the first
                holder[key] = dict(holder[key])
                holder, key = holder[key], next(iter(holder[key]), "es")
            text = holder.get(key) if isinstance(holder.get(key), str) else "Andrés"
            holder[key] = (text.encode("utf-8").decode("latin-1") if self.service == "odoo"
                           else text + "\ud83d")
        return broken
