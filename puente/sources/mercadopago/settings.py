"""Mercado Pago's Payments API (base URL ``https://api.mercadopago.com``), as Puente reads it.

What it relies on, per Mercado Pago's developer docs (API reference "Search payments",
``GET /v1/payments/search``; "Get payment", ``GET /v1/payments/{id}``; "Received payments
management"; the error list of the search reference):

- Bearer authentication with the account's production access token (``APP_USR-…``), in the
  ``Authorization`` header (the docs' older examples pass ``access_token`` in the query, which
  would put it in every log).
- ``GET /v1/payments/search`` filters with ``range`` (``date_created``, ``date_last_updated``,
  ``date_approved``, ``money_release_date``) between ``begin_date`` and ``end_date`` (ISO 8601,
  or relative: ``NOW-30DAYS``, ``NOW-1MONTH``; begin defaults to ``NOW-3MONTHS``, end to
  ``NOW``), sorts with ``sort`` (``date_approved``, ``date_created``, ``date_last_updated``,
  ``id``, ``money_release_date``) and ``criteria`` (``asc``/``desc``), and pages with
  ``offset``/``limit``. The answer is ``{"paging": {"total", "limit", "offset"}, "results": […]}``.
  The search serves the payments of the last twelve months.
- A page holds at most ``PAGE_LIMIT`` results and ``offset + limit`` may not pass ``OFFSET_CAP``:
  beyond, the search answers 400 (error 1000, "Number of rows exceeded the limits"). The docs
  list the error without the figures; these are the ones integrators report and the simulator
  enforces. The connector never asks past the cap: it narrows the date range instead.
- Errors are JSON ``{"message", "error", "status", "cause": [{"code", "description"}]}``; 401
  ``unauthorized`` for a refused token, 429 when the account's rate limit is hit.
- A payment's ``date_last_updated`` moves with every event (approval, refund, chargeback); it is
  written with milliseconds and an offset (``2026-11-10T08:00:00.000-04:00``) and is the cursor;
  ``id`` (a number) is the key. Payments are never deleted: a cancelled, rejected or refunded
  payment keeps its id with that status.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import PersonalData, SourceObject

SYSTEM = "Mercado Pago"
API_URL = "https://api.mercadopago.com"
SEARCH_PATH = "/v1/payments/search"
PAGE_LIMIT = 1000  # limit: at most this many results a page
OFFSET_CAP = 10_000  # offset + limit: at most this far into one search
CURSOR = "date_last_updated"
# The first night reads what the search serves: the last twelve months.
FIRST_BEGIN = "NOW-12MONTHS"


@dataclass(frozen=True, kw_only=True)
class MercadoPagoObject(SourceObject):
    """A searchable Mercado Pago resource and its search path (below the API's base URL)."""

    key: str = "id"
    cursor: str = CURSOR
    path: str = SEARCH_PATH


# Minimum data (``puente.sources.fields``): what lands of a payment, read by the staging models
# (dbt_project/models/staging/mercadopago/) and nothing else. The payer lands as its email and
# identification only (what matches a payment to an ERP partner when the reference is missing);
# left out: the card (first six and last four digits, the cardholder's name and document), the
# payer's name, phone and address, ``additional_info`` (the buyer's IP, items, shipment address),
# ``point_of_interaction``, ``metadata`` and the ``transaction_details`` of the bank.
_PAYMENT = ("status", "status_detail", "operation_type", "payment_method_id", "payment_type_id",
            "currency_id", "transaction_amount", "transaction_amount_refunded",
            "external_reference", "description", "date_created", "date_approved", "money_release_date",
            "fee_details[].amount", "fee_details[].fee_payer", "refunds[].date_created",
            "payer.email", "payer.identification",
            "transaction_details.net_received_amount", "order.id", "order.type")

# The search (and so the source's count) serves the last twelve months; raw keeps older payments,
# which the count no longer counts. The window is read on the warehouse's clock.
_IN_SEARCH = "not _deleted and source_updated_at >= now() - interval '12 months'"

# Erasure: a payment points at no customer record; its payer's e-mail and document are mentions of
# the person, replaced wherever they are one of the person's identifiers.
OBJECTS: tuple[MercadoPagoObject, ...] = (MercadoPagoObject(name="payments", landed_fields=_PAYMENT,
                                                            live_in_raw=_IN_SEARCH, personal=PersonalData(
    identifiers=("payer.email", "payer.identification"))),)
