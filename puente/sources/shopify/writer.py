"""Writing into Shopify: the shop's available stock, set from the ERP's free stock.

Per Shopify's GraphQL Admin reference (``inventorySetQuantities``, its input and user errors),
its rate-limit and idempotency guides and the 2026-04 changelog:

- Stock is set through ``POST graphql.json`` (below the versioned Admin URL), the mutation
  ``inventorySetQuantities`` with ``name: "available"``, ``reason: "correction"`` and up to 250
  ``quantities`` a call, each ``{inventoryItemId: gid://shopify/InventoryItem/N, locationId:
  gid://shopify/Location/N, quantity, changeFromQuantity: null}``. The quantity is absolute, so
  sending it again does no harm. ``changeFromQuantity: null`` opts out of the compare-and-swap
  check on purpose: the ERP is the source of truth for stock, and the engine already sends a row
  again when the shop as last read still differs (``observed_at``). From 2026-04 the field needs
  ``@idempotent(key: …)``: every call carries a new UUID, and the HTTP layer's retries of that
  call resend the same key, so a set whose answer was lost is not applied twice.
- A batch from the engine is cut into calls of at most 250. The mutation is all or nothing: when
  Shopify answers ``userErrors``, the rows they point at (``field: ["input", "quantities", "3",
  …]``) fail with Shopify's words and code, and the others are sent again in a new call (with a
  new key), so one unknown or untracked item fails only itself. A user error that points at no
  quantity (a bad reason) fails the whole call's rows.
- Pacing by cost: every answer reports ``extensions.cost.throttleStatus`` (points available, bucket
  size, restore rate); before each call the writer waits until the bucket as last reported has
  restored the call's cost. A ``THROTTLED`` answer (the bucket ran dry anyway: another app, a
  clock difference) is sent again after ``(requested - available) / restoreRate`` seconds, as
  Shopify's guide says; 429 and 5xx answers are retried by the HTTP layer.
- ``ACCESS_DENIED`` (the token lacks ``write_inventory``), 401 and 403 fail the run with what to do;
  any other top-level GraphQL error too (it means the request itself is wrong, for every row).
- The location: ``PUENTE_SHOPIFY_LOCATION_ID`` (or ``location_id`` in the connection's extra),
  else the shop's first active location from the REST ``GET locations.json`` (one read a run).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any

from puente.activation.pacing import CostPacer, Pacer
from puente.activation.writers import Outcome, Row
from puente.sources.http import HttpClient, SourceError
from puente.sources.shopify.config import ShopifyConfig
from puente.sources.shopify.connector import ShopifyConnector
from puente.sources.shopify.settings import (
    BUCKET_SIZE,
    GRAPHQL_PATH,
    LEAK_PER_SECOND,
    SET_QUANTITIES_MAX,
    SYSTEM,
)

SET_QUANTITIES = """mutation PuenteSetStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes(quantityNames: ["available"]) { quantityAfterChange item { id } } }
    userErrors { field message code }
  }
}"""
EXPECTED_COST = 13  # what the mutation above costs (10 + one point per object selected), until Shopify says
THROTTLED_ATTEMPTS = 10
SCOPE_ADVICE = ("Give the custom app the write_inventory Admin API access scope (Settings > Apps and sales "
                "channels > Develop apps > Configuration) and reinstall it")


def leak_per_second(env: dict[str, str] | None = None) -> float:
    """The REST leaky bucket's leak (``PUENTE_SHOPIFY_LEAK_PER_SECOND``), for the REST reads."""
    value = (os.environ if env is None else env).get("PUENTE_SHOPIFY_LEAK_PER_SECOND")
    try:
        rate = float(value) if value else LEAK_PER_SECOND
    except ValueError:
        rate = 0.0
    if rate <= 0:
        raise ValueError(f"PUENTE_SHOPIFY_LEAK_PER_SECOND must be a positive number, got {value!r}")
    return rate


class ShopifyWriter:
    system = "shopify"

    def __init__(self, config: ShopifyConfig, *, connector: ShopifyConnector | None = None,
                 pacer: Pacer | None = None, location_id: int | None = None, cost_pacer: CostPacer | None = None,
                 **http_options: Any):
        pacer = pacer or Pacer.leaky_bucket(BUCKET_SIZE, leak_per_second())
        self.connector = connector or ShopifyConnector(config, pacer=pacer, **http_options)
        # GraphQL has its own cost-based limit: its client is not paced by the REST bucket.
        self.graphql = HttpClient(SYSTEM, config.url, headers={"X-Shopify-Access-Token": config.token},
                                  **http_options)
        self.cost_pacer = cost_pacer or CostPacer(sleep=self.graphql.sleep)
        configured = location_id or config.location_id or os.environ.get("PUENTE_SHOPIFY_LOCATION_ID")
        self.location_id: int | None = int(configured) if configured else None
        self.throttled = 0  # THROTTLED answers met (each waited for and sent again)

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made + self.graphql.requests_made

    def close(self) -> None:
        self.connector.close()
        self.graphql.close()

    def prepare(self, obj: str) -> None:
        if obj != "inventory_levels":
            raise ValueError(f"the Shopify writer cannot write {obj}")
        if self.location_id is None:
            response = self.connector.http.request("GET", "locations.json", obj="locations")
            active = [loc for loc in response.json().get("locations") or []
                      if loc.get("active") and not loc.get("legacy")]
            if not active:
                raise SourceError(SYSTEM, "locations", "GET locations.json", "no active location",
                                  "Create a location in Shopify (Settings > Locations) or set "
                                  "PUENTE_SHOPIFY_LOCATION_ID")
            self.location_id = int(active[0]["id"])

    def refuses_duplicates(self, obj: str) -> bool:
        return False  # it only sets levels

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        return {}

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if obj != "inventory_levels" or mode != "update":
            raise ValueError(f"the Shopify writer cannot {mode} {obj}")
        outcomes: dict[str, Outcome] = {}
        for start in range(0, len(rows), SET_QUANTITIES_MAX):
            outcomes.update(self._set_all(list(rows[start:start + SET_QUANTITIES_MAX])))
        return [outcomes[row.row_key] for row in rows]

    # ------------------------------------------------------------------ one call of ≤ 250

    def _set_all(self, rows: list[Row]) -> dict[str, Outcome]:
        """Outcomes for ``rows``: sent together; rows Shopify refuses are dropped and the rest resent."""
        outcomes: dict[str, Outcome] = {}
        pending = rows
        while pending:
            payload = self._call(pending)
            errors = payload.get("userErrors") or []
            if not errors:
                after = _quantities_after(payload)
                for row in pending:
                    gid = _item_gid(row)
                    outcomes[row.row_key] = Outcome(row.row_key, True, row.target_id, "set", None, {
                        "location_id": self.location_id,
                        "available": after.get(gid, int(row.payload["available"]))})
                return outcomes
            refused: dict[int, list[str]] = {}
            whole: list[str] = []
            for error in errors:
                index = _quantity_index(error.get("field"))
                text = f"{error.get('code') or 'userError'}: {error.get('message')}"
                (refused.setdefault(index, []) if index is not None and index < len(pending) else whole).append(text)
            if whole:  # not about one quantity: every row of the call carries it
                reason = "; ".join(whole + [t for ts in refused.values() for t in ts])
                outcomes.update({row.row_key: Outcome(row.row_key, False, row.target_id, "set", reason)
                                 for row in pending})
                return outcomes
            for index, texts in refused.items():
                row = pending[index]
                outcomes[row.row_key] = Outcome(row.row_key, False, row.target_id, "set", "; ".join(texts))
            pending = [row for n, row in enumerate(pending) if n not in refused]
        return outcomes

    def _call(self, rows: list[Row]) -> dict[str, Any]:
        """One ``inventorySetQuantities`` call for ``rows`` (waiting out THROTTLED answers): its payload."""
        location = f"gid://shopify/Location/{self.location_id}"
        quantities = [{"inventoryItemId": _item_gid(row), "locationId": location,
                       "quantity": int(row.payload["available"]), "changeFromQuantity": None} for row in rows]
        body = {"query": SET_QUANTITIES, "variables": {
            "input": {"name": "available", "reason": "correction", "quantities": quantities},
            "key": str(uuid.uuid4())}}
        request = f"POST {GRAPHQL_PATH} (inventorySetQuantities)"
        for _ in range(THROTTLED_ATTEMPTS):
            self.cost_pacer.acquire(EXPECTED_COST)
            response = self.graphql.request("POST", GRAPHQL_PATH, obj="inventory_levels", json=body,
                                            label="inventorySetQuantities")
            try:
                answer = response.json()
            except ValueError:
                raise SourceError(SYSTEM, "inventory_levels", request, f"not JSON: {response.text[:200]!r}",
                                  "Check the base URL: it must end with /admin/api/<version>") from None
            cost = (answer.get("extensions") or {}).get("cost") or {}
            self.cost_pacer.record(cost.get("throttleStatus"))
            errors = answer.get("errors") or []
            codes = {((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
            if "THROTTLED" in codes:
                self.throttled += 1
                self.graphql.sleep(self.cost_pacer.wait_after_throttle(cost.get("requestedQueryCost") or EXPECTED_COST))
                continue
            payload = (answer.get("data") or {}).get("inventorySetQuantities")
            if errors or payload is None:
                text = "; ".join(str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors) or \
                    "no inventorySetQuantities in the answer"
                advice = SCOPE_ADVICE if "ACCESS_DENIED" in codes else (
                    "Shopify refused the request itself, for every row: check the API version in the base URL "
                    "(Puente's writer speaks 2026-04 or later) and report the error")
                raise SourceError(SYSTEM, "inventory_levels", request, text, advice)
            return payload
        raise SourceError(SYSTEM, "inventory_levels", request, f"THROTTLED {THROTTLED_ATTEMPTS} times in a row",
                          "Another app is spending the shop's GraphQL points: rerun later; the rows not sent "
                          "stay pending")


def _item_gid(row: Row) -> str:
    return f"gid://shopify/InventoryItem/{int(row.target_id or 0)}"


def _quantity_index(path: Any) -> int | None:
    """The quantity a user error's ``field`` points at (``["input", "quantities", "3", …]``)."""
    if isinstance(path, list) and len(path) >= 3 and path[:2] == ["input", "quantities"]:
        try:
            return int(path[2])
        except (TypeError, ValueError):
            return None
    return None


def _quantities_after(payload: dict[str, Any]) -> dict[str, int]:
    changes = ((payload.get("inventoryAdjustmentGroup") or {}).get("changes")) or []
    return {c["item"]["id"]: c["quantityAfterChange"] for c in changes
            if isinstance(c, dict) and (c.get("item") or {}).get("id") and c.get("quantityAfterChange") is not None}
