"""Shopify Admin REST API: version, limits, and the resources Puente reads.

Per Shopify's REST Admin docs: the API version is part of every path
(``/admin/api/{version}/…``). Shopify releases a version each quarter and supports each for at
least 12 months; a request to a retired version silently falls forward to the oldest supported
one (``X-Shopify-API-Version`` says which answered). 2026-10 is the latest stable version on
2026-11-30, supported until at least October 2027. Records carry ``id`` (the key) and ``updated_at`` (the cursor, ISO
8601 in the shop's zone); a page holds at most 250 records; the standard plan's leaky bucket holds
40 requests and leaks 2 a second. Stock is written through the GraphQL Admin API
(``/admin/api/{version}/graphql.json``, ``inventorySetQuantities``), which Shopify limits by query
cost instead: 100 points restored a second on the standard plan, into a bucket of 2,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Shopify"
API_VERSION = "2026-10"
API_PATH = "/admin/api/{version}"  # below the shop's URL, https://{shop}.myshopify.com
PAGE_LIMIT = 250
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0  # standard plan; faster plans simply never get near the top
HIGH_WATER = 0.8  # pause when the bucket is fuller than this
# GraphQL Admin API (the stock writer): the endpoint below the versioned URL, and how many quantities
# one inventorySetQuantities call may carry (Shopify refuses input arrays longer than 250).
GRAPHQL_PATH = "graphql.json"
SET_QUANTITIES_MAX = 250


@dataclass(frozen=True, kw_only=True)
class ShopifyResource(SourceObject):
    """A shop resource and the query parameters every request for it carries."""

    key: str = "id"
    cursor: str = "updated_at"
    params: tuple[tuple[str, str], ...] = ()


# Minimum data (``puente.sources.fields``): what lands of each resource, read by the staging models
# (dbt_project/models/staging/shopify/) and nothing else. Left out, among others: customers'
# ``addresses`` and the second line, names and zip of their ``default_address``, ``sms_marketing_consent``,
# ``verified_email``; orders' ``shipping_address``, ``phone``, ``contact_email``, ``note`` and the
# lines' ``tax_lines``; products' descriptions and images. A customer's ``note`` lands because the
# shop has no field for a tax id and staging finds it there (``NIT 900123456-7``); products' ``tags``
# because the chaos bench nests deep JSON in them (bench/chaos.py). The street (``address1``) is
# identity evidence (macro normalize_address).
_CUSTOMER = ("created_at", "email", "first_name", "last_name", "phone", "state", "tags", "note",
             "email_marketing_consent.state", "email_marketing_consent.consent_updated_at",
             "default_address.phone", "default_address.company", "default_address.address1",
             "default_address.city",
             "default_address.country", "default_address.country_code")
_ORDER = ("name", "order_number", "email", "created_at", "processed_at", "cancelled_at", "financial_status",
          "fulfillment_status", "currency", "total_price", "subtotal_price", "total_tax", "total_discounts",
          "shipping_lines[].price",
          "customer.id", "customer.email", "customer.first_name", "customer.last_name", "customer.phone",
          "line_items[].id", "line_items[].product_id", "line_items[].variant_id", "line_items[].sku",
          "line_items[].title", "line_items[].quantity", "line_items[].price", "line_items[].total_discount")
_PRODUCT = ("title", "handle", "status", "tags", "created_at",
            "variants[].id", "variants[].sku", "variants[].inventory_item_id", "variants[].price",
            "variants[].inventory_quantity", "variants[].inventory_management", "variants[].updated_at")

RESOURCES: tuple[ShopifyResource, ...] = (
    ShopifyResource(name="customers", landed_fields=_CUSTOMER, personal=PersonalData(
        record_kinds=("shopify_customer",), identifiers=("email", "phone", "default_address.phone"),
        names=("first_name", "last_name"),
        other=("note", "email_marketing_consent.state", "email_marketing_consent.consent_updated_at",
               "default_address.company", "default_address.address1", "default_address.city"),
        tax_id="note")),  # no field of its own: staging reads the NIT or CC written in the note
    # Without status=any, orders.json and count.json only see open orders.
    # a guest order is a customer record of its own; any other order is its customer's
    ShopifyResource(name="orders", params=(("status", "any"),), landed_fields=_ORDER, personal=PersonalData(
        record_kinds=("shopify_guest_order",), refers=(("customer.id", "shopify_customer"),),
        identifiers=("email", "customer.email", "customer.phone"), names=("customer.first_name", "customer.last_name"))),
    # count.json counts archived products, which raw flags _deleted.
    ShopifyResource(name="products", live_in_raw="(not _deleted or record->>'status' = 'archived')",
                    landed_fields=_PRODUCT),
)
EXTRA_PARAMS: dict[str, dict[str, str]] = {r.name: dict(r.params) for r in RESOURCES}

# The custom app's Admin API access scopes Puente needs (Settings > Apps and sales channels >
# Develop apps > Configuration). Without read_all_orders Shopify serves only the last 60 days of
# orders. The stock activation reads the shop's location (REST) and sets its inventory quantities
# (GraphQL inventorySetQuantities, which needs write_inventory).
READ_SCOPES = ("read_customers", "read_orders", "read_all_orders", "read_products")
WRITE_SCOPES = ("read_locations", "read_inventory", "write_inventory")
SCOPES_PATH = "/admin/oauth/access_scopes.json"  # below the shop's URL, not versioned
