"""The simulated calendar: days since go-live, business hours, seasons, Sundays, and the agenda.

Time is the simulated calendar's only: day ``0`` is the go-live, and every moment is drawn in
business hours of its day. The agenda holds the follow-ups of events (a quote confirmed two days
later, a payment at the end of its terms): ``schedule(day, handler, *args)`` and, when that day
is simulated, ``handler(day, *args)`` in the order they were scheduled.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# Demand by month: the December peak, the January slump, June's mid-year bonus ("prima").
SEASON = {1: 0.8, 2: 0.9, 3: 0.95, 4: 0.95, 5: 1.05, 6: 1.15, 7: 1.0, 8: 0.95, 9: 1.0, 10: 1.0,
          11: 1.15, 12: 1.4}
# Business hours, 06:00 to 18:00 in Bogotá. Follow-ups of an event come at most 40 minutes later
# and the stock is written at 23:50 UTC, so everything a day does is stamped on that UTC day.
DAY_START = 11 * 3600
DAY_END = 23 * 3600
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")

Event = tuple[Callable[..., None], tuple[Any, ...]]


class Calendar:
    """Days counted from ``go_live``, moments drawn with ``rng``, and the agenda of follow-ups."""

    def __init__(self, rng: random.Random, go_live: date):
        self._rng = rng
        self.go_live = go_live
        self._midnights: list[datetime] = []
        self._agenda: dict[int, list[Event]] = defaultdict(list)
        self._last_run = -1  # the last day whose agenda ran: nothing may be scheduled on or before it

    def date(self, day: int) -> date:
        return self.midnight(day).date()

    def midnight(self, day: int) -> datetime:
        """The start of ``day`` in UTC (cached: the simulation asks for it constantly)."""
        while len(self._midnights) <= day:
            self._midnights.append(datetime.combine(self.go_live, time(), UTC)
                                   + timedelta(days=len(self._midnights)))
        return self._midnights[day]

    def moment(self, day: int, rng: random.Random | None = None) -> datetime:
        """A random moment of business hours on ``day`` (UTC), drawn from ``rng`` (default: the calendar's)."""
        return self.midnight(day) + timedelta(seconds=(rng or self._rng).uniform(DAY_START, DAY_END))

    def season(self, day: int) -> float:
        return SEASON[self.date(day).month]

    def poisson(self, lam: float, rng: random.Random | None = None) -> int:
        rng = rng or self._rng
        if lam <= 0:
            return 0
        if lam > 30:
            return max(0, round(rng.gauss(lam, math.sqrt(lam))))
        limit, k, p = math.exp(-lam), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k

    def workday(self, day: int, plus: int) -> int:
        """``plus`` days after ``day``, moved off Sunday (couriers and accounting rest)."""
        target = day + plus
        return target + 1 if self.date(target).weekday() == 6 else target

    def schedule(self, day: int, handler: Callable[..., None], *args: Any) -> None:
        """Call ``handler(day, *args)`` when ``day`` is simulated (a later day than any run so far)."""
        if day <= self._last_run:
            raise ValueError(f"{handler.__name__} scheduled on day {day}, whose agenda already ran")
        self._agenda[day].append((handler, args))

    def run(self, day: int) -> None:
        """The follow-ups due on ``day``, in the order they were scheduled."""
        self._last_run = day
        for handler, args in self._agenda.pop(day, []):
            handler(day, *args)
