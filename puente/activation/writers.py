"""What the engine asks of a target system's writer, and the writers there are.

A writer speaks one target system's API for the objects Puente writes there. The engine hands
it batches of rows (``Row``) and gets one ``Outcome`` per row; everything else (what changed,
what is invalid, consent, bookkeeping, retries on later nights) is the engine's.

- ``prepare(obj)``: once per run, before the first batch (e.g. create the CRM properties).
- ``lookup(obj, external_keys)``: the target ids of records that already carry these external
  keys, so a create that was accepted but never recorded (a crash in between) is found instead
  of made twice.
- ``refuses_duplicates(obj)``: True when the target itself refuses a second record with the same
  external key (a property with unique values): the engine then creates without looking up
  first, and the writer adopts the record a conflict names. Half the requests at a rate limit.
- ``write(obj, mode, rows)``: create or update the rows; one ``Outcome`` per row, with the
  target's own error text when it refused one. In ``create`` mode a row that comes with a
  ``target_id`` was found by ``lookup``: the writer finishes it (the steps after the create that
  an interrupted run did not do) and answers ``operation="adopt"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Row:
    row_key: str
    target_id: str | None
    external_key: str | None
    payload: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    row_key: str
    ok: bool
    target_id: str | None = None
    operation: str = "update"   # create | update | set | adopt
    error: str | None = None    # the target's answer, verbatim
    detail: dict[str, Any] | None = None  # what else the target made (an invoice id, a task id)
    # Not refused: the target's answer to a write was lost, so it may have done it. The row is
    # looked up before it is sent again, and the run asks to be retried soon (engine).
    uncertain: bool = False
    # Not sent at all: the row is not something the target can take (an order line without a
    # price); ``error`` says why, in words for the work list.
    not_sent: bool = False


class Writer(Protocol):
    system: str

    @property
    def requests_made(self) -> int: ...

    def prepare(self, obj: str) -> None: ...

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]: ...

    def refuses_duplicates(self, obj: str) -> bool: ...

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]: ...

    def close(self) -> None: ...


WriterFactory = Callable[[Any], Writer]
