"""Shopify Admin REST API: version, limits, and the resources Puente reads.

Per Shopify's REST Admin docs: the API version is part of every path
(``/admin/api/{version}/…``). Shopify releases a version each quarter and supports each for at
least 12 months; a request to a retired version silently falls forward to the oldest supported
one (``X-Shopify-API-Version`` says which answered). 2026-10 is the latest stable version on
2026-11-30, supported until at least October 2027. Records carry ``id`` (the key) and ``updated_at`` (the cursor, ISO
8601 in the shop's zone); a page holds at most 250 records; the standard plan's leaky bucket holds
40 requests and leaks 2 a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import SourceObject

SYSTEM = "Shopify"
API_VERSION = "2026-10"
API_PATH = "/admin/api/{version}"  # below the shop's URL, https://{shop}.myshopify.com
PAGE_LIMIT = 250
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0  # standard plan; faster plans simply never get near the top
HIGH_WATER = 0.8  # pause when the bucket is fuller than this


@dataclass(frozen=True, kw_only=True)
class ShopifyResource(SourceObject):
    """A shop resource and the query parameters every request for it carries."""

    key: str = "id"
    cursor: str = "updated_at"
    params: tuple[tuple[str, str], ...] = ()


RESOURCES: tuple[ShopifyResource, ...] = (
    ShopifyResource(name="customers"),
    # Without status=any, orders.json and count.json only see open orders.
    ShopifyResource(name="orders", params=(("status", "any"),)),
    # count.json counts archived products, which raw flags _deleted.
    ShopifyResource(name="products", live_in_raw="(not _deleted or record->>'status' = 'archived')"),
)
EXTRA_PARAMS: dict[str, dict[str, str]] = {r.name: dict(r.params) for r in RESOURCES}

# The custom app's Admin API access scopes Puente needs (Settings > Apps and sales channels >
# Develop apps > Configuration). Without read_all_orders Shopify serves only the last 60 days of
# orders. The stock activation reads the shop's location and sets its inventory levels.
READ_SCOPES = ("read_customers", "read_orders", "read_all_orders", "read_products")
WRITE_SCOPES = ("read_locations", "read_inventory", "write_inventory")
SCOPES_PATH = "/admin/oauth/access_scopes.json"  # below the shop's URL, not versioned
