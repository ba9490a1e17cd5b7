"""Tienda Nube / Nuvemshop API v1: where it lives, its page sizes and rate limit, and the resources Puente reads.

Per the Tienda Nube / Nuvemshop API docs (tiendanube.github.io/api-documentation, the README of
github.com/tiendanube/api-docs: "Making a request", "Identify your app", "Client errors",
"Server errors", "Rate limiting", "Pagination", "Languages and Internationalization"; and
resources/customer.md, order.md, product.md):

- Every URL starts with ``https://api.tiendanube.com/v1/{store_id}`` (or the same path on
  ``api.nuvemshop.com.br``, Brazil's), SSL only. The store's access token (OAuth 2, given when
  the store installs the app; it does not expire) travels in the header ``Authentication:
  bearer <token>``: ``Authentication``, not the usual ``Authorization``.
- Every request must carry a ``User-Agent`` naming the app and a way to reach its maker (an
  e-mail address or a URL); without it the API answers ``400 Bad Request``.
- Lists take ``page`` (from 1) and ``per_page`` (30 by default, at most 200). ``X-Total-Count``
  carries the number of results, ``Link`` the URLs of the ``next``, ``last``, ``first`` and
  ``prev`` pages, which a client should use rather than build its own.
- Customers, orders and products filter on ``updated_at_min`` / ``updated_at_max`` (ISO 8601)
  and select top-level fields with ``fields`` (comma-separated). ``updated_at`` (ISO 8601 with
  the store's offset, ``2013-03-11T09:14:11-03:00``) is the cursor; ``id`` (an integer) the key.
- Orders: ``status`` open, closed or cancelled; ``payment_status`` authorized, pending, paid,
  abandoned, refunded or voided, and a list without ``payment_status`` (``any``) holds only the
  authorized, pending and paid ones; ``shipping_status`` unpacked, unshipped or shipped.
  ``number`` is the order's number for people (sequential, from 100), distinct from ``id``.
  A cancelled order's payment is voided or refunded, so it leaves the default list: the walk
  asks for those two payment statuses in passes of their own. Abandoned checkouts are not
  orders and are not read. Orders are never deleted through the API.
- A customer or a product deleted (``DELETE /customers/{id}``, ``/products/{id}``) simply
  vanishes.
- Money is text (``"58.00"``). Product ``name``, ``handle`` and ``description`` are objects with
  one value per language of the store (``{"es": …, "pt": …}``), even with one language active;
  ``X-Main-Language`` names the store's main one. A product's SKUs, prices and stock are on its
  ``variants``.
- Rate limit: a leaky bucket of 40 requests leaking 2 a second, per store and app. Every answer
  carries ``X-Rate-Limit-Limit`` (the bucket's size), ``X-Rate-Limit-Remaining`` (requests left
  before it is full) and ``X-Rate-Limit-Reset`` (milliseconds until it is empty); a full bucket
  answers ``429 Too Many Requests``. 5xx answers (500, 502, 503, 504) are to be retried later.
  An unpaid store answers ``402 Payment Required`` to everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Tienda Nube"
API_HOST = "https://api.tiendanube.com"  # Brazil's stores: https://api.nuvemshop.com.br
API_VERSION = "v1"
PAGE_LIMIT = 200  # per_page: at most 200 (default 30)
CURSOR = "updated_at"
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0
HIGH_WATER = 0.8  # pause when the bucket is fuller than this, until it drains back below
# The payment statuses of the orders the default list leaves out and Puente reads in passes of
# their own: a cancelled order's payment is voided (never captured) or refunded.
LEFT_OUT_PAYMENT_STATUSES = ("refunded", "voided")


@dataclass(frozen=True, kw_only=True)
class NubeResource(SourceObject):
    """A store resource and the passes of its walk: ``passes`` are the extra query of each list
    request, one pass each (``()``: a single pass with no extra query)."""

    key: str = "id"
    cursor: str = CURSOR
    passes: tuple[tuple[tuple[str, str], ...], ...] = ((),)


# Minimum data (``puente.sources.fields``): what lands of each resource, read by the staging models
# (dbt_project/models/staging/tiendanube/) and nothing else. Left out, among others: customers'
# ``note`` (the store owner's notes), ``extra`` (custom checkout fields), ``addresses``,
# ``total_spent``; orders' ``note``, ``owner_note``, ``extra``, ``shipping_address``, ``token``,
# ``landing_site``, ``client_details``; products' descriptions, images, SEO texts and tags.
_CUSTOMER = ("name", "email", "phone", "identification", "created_at", "billing_address", "billing_number",
             "billing_city", "billing_province", "billing_country", "billing_phone")
_ORDER = ("number", "status", "payment_status", "shipping_status", "currency", "subtotal", "discount",
          "shipping_cost_customer", "total", "gateway", "created_at", "paid_at", "shipped_at", "closed_at",
          "cancelled_at", "cancel_reason", "customer.id", "contact_email", "contact_name", "contact_phone",
          "contact_identification", "billing_address", "billing_number", "billing_city", "billing_province",
          "billing_country",
          "products[].id", "products[].product_id", "products[].variant_id", "products[].sku", "products[].name",
          "products[].price", "products[].quantity")
# A product's name and handle in the languages staging reads (a store's other languages never land).
_PRODUCT = ("name.es", "name.pt", "name.en", "handle.es", "handle.pt", "handle.en", "published", "created_at",
            "variants[].id", "variants[].sku", "variants[].price", "variants[].stock_management", "variants[].stock")

_BILLING_ADDRESS = ("billing_address", "billing_number", "billing_city", "billing_province")

RESOURCES: tuple[NubeResource, ...] = (
    NubeResource(name="customers", landed_fields=_CUSTOMER, personal=PersonalData(
        record_kinds=("tiendanube_customer",), identifiers=("email", "phone", "billing_phone", "identification"),
        names=("name",), other=_BILLING_ADDRESS, tax_id="identification")),
    NubeResource(name="orders", landed_fields=_ORDER, personal=PersonalData(
        refers=(("customer.id", "tiendanube_customer"),),
        identifiers=("contact_email", "contact_phone", "contact_identification"), names=("contact_name",),
        other=_BILLING_ADDRESS, tax_id="contact_identification"),
                 passes=((), *((("payment_status", s),) for s in LEFT_OUT_PAYMENT_STATUSES))),
    NubeResource(name="products", landed_fields=_PRODUCT),
)
