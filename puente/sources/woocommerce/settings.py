"""WooCommerce REST API v3: where it lives, its page sizes, and the resources Puente reads.

Per the WooCommerce REST API docs (woocommerce.github.io/woocommerce-rest-api-docs, "Introduction",
"Authentication", "Pagination", and the "List all …" sections of Customers, Orders and Products):

- The API lives in the store's WordPress site, below ``/wp-json/wc/v3``. Over HTTPS a REST API
  key authenticates with HTTP Basic: the consumer key (``ck_…``) as user name, the consumer
  secret (``cs_…``) as password. (Over plain HTTP WooCommerce demands OAuth 1.0a instead; Puente
  refuses plain HTTP to anything but this machine anyway.)
- Lists take ``page`` (from 1) and ``per_page`` (1 to 100, default 10); a value out of range is a
  400 ``rest_invalid_param``. Every list answer carries ``X-WP-Total`` and ``X-WP-TotalPages``,
  and a ``Link`` header with ``rel="next"`` / ``rel="prev"`` built from the request's own query.
- Orders and products filter on their modification date with ``modified_after`` /
  ``modified_before``, read in UTC when ``dates_are_gmt=true`` (WooCommerce 5.8 and later), and
  sort with ``orderby`` (``id``, ``date``, ``modified``…). Customers have no such filter: they sort
  by ``id``, ``include``, ``name`` or ``registered_date`` and filter by ``email`` and ``role``.
- Orders list every status when asked ``status=any`` (which, as WordPress's ``any`` does, leaves
  out the trash); a trashed order or product has ``status: trash`` and is listed only when that
  status is asked for. A deleted customer (or a record deleted for good) simply vanishes.
- Every record carries ``date_modified_gmt``: ISO 8601 without offset, in UTC. It is the cursor.
  ``id`` is the key.
- Core WooCommerce sets no rate limit on its REST API, but the hosts in front of it answer 429
  or 503 (often with ``Retry-After``) when pushed: the shared HTTP client waits and retries both.
- Every request may carry WordPress's ``_fields`` (WordPress 4.9.8+, nested with dots since 5.3:
  ``billing.email``; a list's elements cannot be filtered, ``line_items`` comes whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "WooCommerce"
API_PATH = "/wp-json/wc/v3"  # below the store's site URL, https://{site}
PAGE_LIMIT = 100  # per_page: at most 100 (default 10)
CURSOR = "date_modified_gmt"


@dataclass(frozen=True, kw_only=True)
class WooResource(SourceObject):
    """A store resource, how its changes are found, and the query every list request carries.

    ``modified_filter``: the API filters it by ``modified_after`` (orders, products); without it
    (customers) the walk reads every page and keeps what changed. ``trash``: its records go to
    the trash (``status: trash``) before they are deleted for good, and a second pass of the walk
    asks for ``status=trash`` so that they land flagged ``_deleted``.
    """

    key: str = "id"
    cursor: str = CURSOR
    params: tuple[tuple[str, str], ...] = ()
    modified_filter: bool = True
    trash: bool = True


# A quarantined record in the trash is not counted by the source (status=any leaves it out);
# quarantined payloads are written by json.dumps (puente.load), hence the spacing.
_NOT_TRASHED = """q.payload not like '%%"status": "trash"%%'"""

# Minimum data (``puente.sources.fields``): what lands of each resource, read by the staging models
# (dbt_project/models/staging/woocommerce/) and nothing else. Left out, among others: every
# ``meta_data`` (where plugins keep a birth date or a document number), the ``shipping`` address,
# ``avatar_url``, the billing ``address_2`` and ``postcode``; orders' ``customer_ip_address``,
# ``customer_user_agent``, ``customer_note``, ``transaction_id``; products' descriptions and images.
_CUSTOMER = ("date_created_gmt", "email", "first_name", "last_name", "username", "role", "is_paying_customer",
             "billing.email", "billing.phone", "billing.company", "billing.address_1", "billing.city",
             "billing.state", "billing.country")
_ORDER = ("number", "status", "customer_id", "currency", "total", "total_tax", "discount_total", "shipping_total",
          "payment_method", "date_created_gmt", "date_paid_gmt", "date_completed_gmt",
          "billing.email", "billing.first_name", "billing.last_name", "billing.phone", "billing.company",
          "billing.address_1", "billing.city", "billing.country",
          "line_items[].id", "line_items[].product_id", "line_items[].variation_id", "line_items[].sku",
          "line_items[].name", "line_items[].quantity", "line_items[].price", "line_items[].subtotal",
          "line_items[].total", "line_items[].total_tax")
_PRODUCT = ("name", "slug", "sku", "type", "status", "price", "regular_price", "manage_stock", "stock_quantity",
            "stock_status", "date_created_gmt")

RESOURCES: tuple[WooResource, ...] = (
    WooResource(name="customers", modified_filter=False, trash=False, landed_fields=_CUSTOMER,  # role=customer by default
                personal=PersonalData(record_kinds=("woocommerce_customer",),
                                      identifiers=("email", "billing.email", "billing.phone"),
                                      names=("first_name", "last_name", "username"),
                                      other=("billing.company", "billing.address_1", "billing.city", "billing.state"))),
    # a guest checkout (customer_id 0) is a customer record of its own; any other order is its customer's
    WooResource(name="orders", params=(("status", "any"),), live_in_quarantine=_NOT_TRASHED, landed_fields=_ORDER,
                personal=PersonalData(record_kinds=("woocommerce_guest_order",),
                                      refers=(("customer_id", "woocommerce_customer"),),
                                      identifiers=("billing.email", "billing.phone"),
                                      names=("billing.first_name", "billing.last_name"),
                                      other=("billing.company", "billing.address_1", "billing.city"))),
    WooResource(name="products", params=(("status", "any"),), live_in_quarantine=_NOT_TRASHED,
                landed_fields=_PRODUCT),
)
EXTRA_PARAMS: dict[str, dict[str, str]] = {r.name: dict(r.params) for r in RESOURCES}
