"""Mercado Libre's API (base URL ``https://api.mercadolibre.com``), as Puente reads a seller's sales.

What it relies on, per Mercado Libre's developer docs (developers.mercadolibre.com.co and its
siblings: "Authentication and Authorization", "Manage sales" / "Sales" (orders and the orders
search), "Shipments", "Billing data" (``/orders/{id}/billing_info``), "Paging results" and the
error list of "Errores"):

- OAuth 2 (authorization code, server side). ``POST /oauth/token`` with
  ``grant_type=refresh_token``, ``client_id``, ``client_secret`` and ``refresh_token``
  (form-encoded) answers ``{"access_token", "token_type": "bearer", "expires_in": 21600,
  "scope", "user_id", "refresh_token"}``: the access token lasts six hours, and the refresh token
  can be used **once**: each refresh hands back a new one, which must be stored before anything
  else, or the next refresh fails (``400 invalid_grant``) and the seller must authorise the app
  again. The access token travels as ``Authorization: Bearer``; an expired one answers 401.
- ``GET /orders/search?seller=<user_id>&order.date_last_updated.from=…&order.date_last_updated.to=…
  &sort=date_asc&offset=…&limit=…`` answers ``{"query", "results": [orders], "sort",
  "available_sorts", "filters", "paging": {"total", "offset", "limit"}}``. ``sort=date_asc``
  orders by the sale's creation, not by the filtered field. ``limit`` is at most ``PAGE_LIMIT``
  and ``offset`` may not pass ``OFFSET_CAP`` (the search answers 400 beyond): the walk narrows
  the date window until each window holds fewer orders than the cap.
- An order (``/orders/{id}``): ``id``, ``status`` (``confirmed``, ``payment_required``,
  ``payment_in_process``, ``partially_paid``, ``paid``, ``cancelled``, ``invalid``),
  ``date_created``, ``date_closed``, ``last_updated``/``date_last_updated`` (ISO 8601 with
  milliseconds and an offset), ``order_items`` (``item.id``, ``item.title``,
  ``item.seller_sku``, ``quantity``, ``unit_price``, ``sale_fee``, ``currency_id``),
  ``total_amount``, ``paid_amount``, ``currency_id``, ``shipping.id``, ``tags``, the ``buyer``:
  ``id``, ``nickname``, ``first_name`` and ``last_name`` only (the buyer's e-mail and phone are not
  given to the seller), and ``payments``, the Mercado Pago payments of the sale: ``id`` (Mercado
  Pago's payment id), ``order_id``, ``payer_id``, ``collector.id``, ``status`` (``approved``,
  ``pending``, ``in_process``, ``rejected``, ``cancelled``, ``refunded``, ``charged_back``,
  ``in_mediation``), ``status_detail``, ``payment_type``, ``payment_method_id``,
  ``transaction_amount`` (the items), ``shipping_cost``, ``total_paid_amount`` (what the buyer
  paid), ``transaction_amount_refunded``, ``marketplace_fee`` (what Mercado Libre keeps),
  ``currency_id``, ``date_created``, ``date_approved``, ``date_last_modified``. A refunded
  payment cancels its sale.
- ``GET /orders/{id}/billing_info`` (header ``x-version: 2``): the document the buyer gave for the
  invoice, ``{"site_id", "buyer": {"cust_id", "billing_info": {"name", "last_name",
  "identification": {"type", "number"}, "address": {…}}}}``; in Colombia (site MCO) the type is
  ``CC``, ``CE``, ``NIT`` or ``PAS``.
- ``GET /shipments/{id}`` (header ``x-format-new: true``): ``status`` (``pending``,
  ``handling``, ``ready_to_ship``, ``shipped``, ``delivered``, ``not_delivered``,
  ``cancelled``), ``substatus``, ``date_created``, ``last_updated``, ``status_history``
  (``date_shipped``, ``date_delivered``) and the ``destination`` (what the older format called
  ``receiver_address``): its ``type`` (``buying_address``, or ``agency`` for a sale picked up at
  an agency), ``receiver_name``, ``receiver_phone`` (masked for the seller: ``XXXXXXX``) and
  ``shipping_address`` (``address_line``, ``street_name``, ``street_number``, ``zip_code``,
  ``city.name``, ``state.name``, ``neighborhood.name``).
- Carts ("Manage cart orders", "Packs management"): a buyer who checks out several listings
  together gets one order per listing, each with the cart's ``pack_id`` (null for a sale that is
  not a cart; the docs of 2024-2025 announce that every order gradually gets one, a cart of one
  order then); the orders of a cart may share one shipment (``shipping.id``), and each has its own
  payments. ``GET /packs/{pack_id}`` (``PACK_PATH``; older address
  ``/marketplace/orders/pack/{pack_id}``) answers ``{"id", "status", "status_detail",
  "family_pack_id", "buyer": {"id"}, "shipment": {"id"}, "orders": [{"id"}], "date_created",
  "last_updated"}``, 404 ``not_found`` for an unknown pack; ``status`` ``filling`` (paid, its
  orders and shipment being created), ``filled`` (all created, the payment being distributed),
  ``released`` (all paid). The docs do not say how the shared shipment's cost is spread over the
  cart's orders and payments: every order's shipment answers the same cost, so Puente counts it
  once per cart (staging), not once per order.
- Orders are never deleted: a cancelled sale keeps its id with status ``cancelled``. The order
  search serves the last twelve months (older ones move to ``/orders/search/archived``).
- Errors are JSON ``{"message", "error", "status", "cause": []}``: 401 for a refused or expired
  token, 403 a token without access to that seller, 404 an unknown resource, 429
  ``too_many_requests`` when the application's rate limit is hit, 500/502/503/504.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Mercado Libre"
API_URL = "https://api.mercadolibre.com"
AUTHORISE_URL = "https://auth.mercadolibre.com.co/authorization"  # the site's auth host (Colombia)
SEARCH_PATH = "/orders/search"
TOKEN_PATH = "/oauth/token"
PACK_PATH = "/packs/{pack_id}"
PAGE_LIMIT = 50  # limit: at most this many orders a page
OFFSET_CAP = 10_000  # offset: at most this far into one search (the docs give no figure; integrators report it)
CURSOR = "date_last_updated"
ACCESS_TOKEN_SECONDS = 21_600  # six hours
REFRESH_MARGIN = 300.0  # refresh an access token this many seconds before it expires
# The first night asks for no lower bound (the search serves what it keeps); a window that must be
# split for the offset cap starts here.
EARLIEST = "2007-01-01T00:00:00.000-00:00"


@dataclass(frozen=True, kw_only=True)
class MeliObject(SourceObject):
    key: str = "id"
    cursor: str = CURSOR


# Minimum data (``puente.sources.fields``): what lands of an order, read by the staging models
# (dbt_project/models/staging/mercadolibre/) and nothing else. The buyer is a person whose data
# Habeas Data (Ley 1581) protects: only what links them to the business's other records and what
# the ERP order needs lands: the nickname, first and last names, the document the buyer gave
# for the invoice (type and number), and the door the sale was sent to (the shipment's street
# line, city and state, and whether the door is the buyer's or a pickup agency's): the business
# delivers to it, and identity compares it with the addresses of its own customer records (the
# README's "Identity and personal data" says why that use is within the purpose). Left out: the
# billing address and taxpayer details, the shipment's receiver name and phone (the API masks
# the phone, ``XXXXXXX``, anyway), the payer of each payment, the sale's feedback, messages, tags
# and mediations, and Mercado Libre's fee per item (its payment's ``marketplace_fee`` lands: the
# sale's total fee). The payments land for order-to-cash (stg_mercadolibre__provider_payments).
# A cart's ``pack_id`` and, from ``GET /packs/{id}``, its status and the ids of its orders land so
# that a cart becomes one ERP sale order once all its orders are in (act_web_orders_to_erp).
_ORDER = ("status", "date_created", "date_closed", "total_amount", "paid_amount", "currency_id",
          "pack_id", "pack.status", "pack.order_ids",
          "buyer.id", "buyer.nickname", "buyer.first_name", "buyer.last_name",
          "order_items[].item.id", "order_items[].item.title", "order_items[].item.seller_sku",
          "order_items[].quantity", "order_items[].unit_price",
          "billing_info.doc_type", "billing_info.doc_number",
          "shipment.status", "shipment.date_shipped", "shipment.date_delivered", "shipment.shipping_cost",
          "shipment.receiver_address", "shipment.destination_type", "shipment.receiver_city",
          "shipment.receiver_state",
          "payments[].id", "payments[].status", "payments[].status_detail", "payments[].payment_type",
          "payments[].payment_method_id", "payments[].total_paid_amount",
          "payments[].transaction_amount_refunded", "payments[].marketplace_fee", "payments[].currency_id",
          "payments[].date_created", "payments[].date_approved", "payments[].date_last_modified")

# Reconciliation: the search serves the sales of the last twelve months (``SEARCH_DAYS``), raw keeps
# older ones. Both sides count the sales updated in the 365 days before the newest update the
# walk landed (``count`` in the connector, this condition in raw): one anchor in the data itself,
# so neither this machine's clock nor the source's enters the comparison.
SEARCH_DAYS = 365
_IN_SEARCH = (f"not _deleted and source_updated_at >= (select max(newest.source_updated_at) from "
              f"raw.mercadolibre_orders as newest) - interval '{SEARCH_DAYS} days'")

# Erasure: a buyer is known only from their sales, each the buyer's through ``buyer.id``.
OBJECTS: tuple[MeliObject, ...] = (MeliObject(name="orders", landed_fields=_ORDER, live_in_raw=_IN_SEARCH,
                                              personal=PersonalData(
    refers=(("buyer.id", "mercadolibre_buyer"),), identifiers=("billing_info.doc_number",),
    names=("buyer.first_name", "buyer.last_name", "buyer.nickname"),
    other=("shipment.receiver_address", "shipment.receiver_city", "shipment.receiver_state"),
    tax_id="billing_info.doc_number")),)
