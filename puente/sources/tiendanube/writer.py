"""Writing into Tienda Nube: a variant's stock, set from the ERP's free stock.

Per the Tienda Nube API docs (resources/product_variant.md, and the README's "Rate limiting"):

- ``PUT /products/{product_id}/variants/{id}`` with ``{"stock": <n>}`` sets the variant's stock:
  absolute, so sending it twice does no harm. The row's ``target_id`` is ``<product id>/<variant
  id>`` (both are in the URL). It needs the app's ``write_products`` scope.
- A refusal of one variant (404: the product or variant is gone; 422: a stock that is not an
  integer) fails that row with the store's ``description`` (and its field errors); 401/403 fail
  the run.
- Requests are paced at the store's leaky bucket, 40 requests leaking 2 a second, so a backlog
  never runs into 429s (a 429 still waits ``X-Rate-Limit-Reset``, ``connector.rate_limit_wait``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from puente.activation.pacing import Pacer
from puente.activation.writers import Outcome, Row
from puente.sources.tiendanube.config import TiendaNubeConfig
from puente.sources.tiendanube.connector import TiendaNubeConnector
from puente.sources.tiendanube.settings import BUCKET_SIZE, LEAK_PER_SECOND

OBJECT = "product_variants"


class TiendaNubeWriter:
    system = "tiendanube"

    def __init__(self, config: TiendaNubeConfig, *, connector: TiendaNubeConnector | None = None,
                 pacer: Pacer | None = None, **http_options: Any):
        self.connector = connector or TiendaNubeConnector(
            config, pacer=pacer or Pacer.leaky_bucket(BUCKET_SIZE, LEAK_PER_SECOND), **http_options)

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj != OBJECT:
            raise ValueError(f"the Tienda Nube writer cannot write {obj}")

    def refuses_duplicates(self, obj: str) -> bool:
        return False  # it only sets stock

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        return {}

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if obj != OBJECT or mode != "update":
            raise ValueError(f"the Tienda Nube writer cannot {mode} {obj}")
        return [self._set(row) for row in rows]

    def _set(self, row: Row) -> Outcome:
        product_id, _, variant_id = str(row.target_id).partition("/")
        if not (product_id.isdigit() and variant_id.isdigit()):
            return Outcome(row.row_key, False, row.target_id, "set",
                           f"target_id {row.target_id!r} is not <product id>/<variant id>")
        response = self.connector.http.request(
            "PUT", f"products/{product_id}/variants/{variant_id}", obj=OBJECT,
            json={"stock": int(row.payload["stock"])}, passthrough=(404, 422))
        if response.status_code in (404, 422):
            return Outcome(row.row_key, False, row.target_id, "set", f"HTTP {response.status_code}: {_errors(response)}")
        variant = response.json() if isinstance(response.json(), dict) else {}
        return Outcome(row.row_key, True, row.target_id, "set", None, {"stock": variant.get("stock")})


def _errors(response: Any) -> str:
    """The store's ``description`` and any field errors (``{"stock": ["…"]}``)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    fields = [f"{k}: {', '.join(map(str, v))}" for k, v in body.items() if isinstance(v, list)]
    return "; ".join([str(body.get("description") or body.get("message") or ""), *fields]).strip("; ")
