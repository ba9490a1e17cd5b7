"""Stripe's API (base URL ``https://api.stripe.com``), as Puente reads it.

What it relies on, per Stripe's API reference and guides (docs.stripe.com: "Authentication",
"Pagination", "Rate limits", "Errors", "Supported currencies", and the "List all" reference of
charges, payment intents, refunds, balance transactions and events):

- Authentication with the account's secret key (``sk_live_…``, or a restricted key ``rk_live_…``
  with read access to these objects) as a Bearer token. A refused key answers 401 with
  ``{"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_live_****…"}}``.
- Every list (``GET /v1/charges``, ``/v1/payment_intents``, ``/v1/refunds``,
  ``/v1/balance_transactions``, ``/v1/disputes``, ``/v1/events``) answers ``{"object": "list", "url", "has_more",
  "data": […]}``, newest first; ``limit`` is 1 to 100 (default 10); ``starting_after`` (an object's
  id) asks for the page after that object, ``ending_before`` for the one before; ``created`` filters
  by creation with ``created[gte]``, ``created[gt]``, ``created[lte]``, ``created[lt]`` (Unix
  seconds). No list reports a total.
- ``created`` (Unix seconds) is the only moment an object carries: a charge refunded or disputed
  days later changes without any field saying when. The changes are events (``GET /v1/events``,
  filtered by ``types[]``, up to 20 types, and ``created``): each holds the object as it was after
  the change (``data.object``), or, for a dispute, the dispute, which names its ``charge``.
  Events are kept 30 days (``EVENT_RETENTION``): "List events, going back up to 30 days".
- Errors are ``{"error": {"type", "code", "message", "param", "doc_url"}}``: ``type`` one of
  ``api_error``, ``card_error``, ``idempotency_error``, ``invalid_request_error``; 429 when the
  rate limiter (100 read operations a second in live mode, 25 per endpoint) or the concurrency
  limiter refuses a request; 5xx, rare, for Stripe's own failures.
- Amounts are integers in the currency's minor unit, with ``currency`` in lower case: ``1000``
  is 10.00 USD. The zero-decimal currencies (``ZERO_DECIMAL``: CLP, JPY, KRW, PYG, VND, …) carry
  no minor unit: ``500`` is 500 CLP. The Colombian peso is not one of them: Stripe's API treats
  COP as a two-decimal currency, so COP 119.000 is ``11900000``. Staging divides accordingly
  (``dbt_project/macros/stripe_money.sql``).
- Objects are never deleted: a refunded charge, a cancelled payment intent keep their ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from puente.sources.spec import SourceObject

SYSTEM = "Stripe"
API_URL = "https://api.stripe.com"
# The API version Puente reads (the shapes below); sent as ``Stripe-Version`` on every request.
API_VERSION = "2024-06-20"
PAGE_LIMIT = 100  # limit: 1 to 100 objects a page
EVENTS_PATH = "/v1/events"
EVENT_RETENTION_DAYS = 30  # "List events, going back up to 30 days"
# Events are read only while the window still lies well inside what Stripe keeps.
EVENT_MARGIN_DAYS = 2
CURSOR = "created"
# The zero-decimal currencies of Stripe's "Supported currencies" page: their amounts are whole units.
ZERO_DECIMAL = ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
                "xaf", "xof", "xpf")


@dataclass(frozen=True, kw_only=True)
class StripeObject(SourceObject):
    """A Stripe list (its path below the base URL), the ``object`` its items are, and the event
    types that change an object of it after it was created: ``event_types`` carry the object
    itself as ``data.object``; ``refetch_types`` carry another object (a dispute) whose
    ``refetch_field`` names the one to read again."""

    key: str = "id"
    cursor: str = CURSOR
    path: str
    stripe_object: str
    event_types: tuple[str, ...] = ()
    refetch_types: tuple[str, ...] = ()
    refetch_field: str = ""


# Minimum data (``puente.sources.fields``): what staging reads (dbt_project/models/staging/stripe/).
# The Woo order the payment is for lands from ``metadata`` (``order_id``, ``order_number``); the
# payer's card, name, email, address and IP (``billing_details``, ``payment_method_details.card``,
# ``receipt_email``) never land: the order names the buyer.
_CHARGE = ("amount", "amount_refunded", "currency", "status", "paid", "refunded", "disputed", "failure_code",
           "payment_intent", "balance_transaction", "payment_method_details.type", "description",
           "metadata.order_id", "metadata.order_number")
_PAYMENT_INTENT = ("amount", "amount_received", "currency", "status", "latest_charge", "canceled_at",
                   "cancellation_reason", "last_payment_error.code", "metadata.order_id", "metadata.order_number")
_REFUND = ("amount", "currency", "status", "charge", "payment_intent", "reason", "balance_transaction",
           "failure_reason")
# A dispute's outcome: ``won`` gives the money back (the charge's ``disputed`` stays true), ``lost``
# does not; the evidence the business sent does not land.
_DISPUTE = ("amount", "currency", "status", "charge", "payment_intent", "reason")
# A balance transaction's status (pending, then available) moves on ``available_on`` without an
# event: it does not land; staging derives it from ``available_on``.
_BALANCE_TRANSACTION = ("amount", "currency", "fee", "net", "exchange_rate", "type", "reporting_category",
                        "source", "available_on")

OBJECTS: tuple[StripeObject, ...] = (
    StripeObject(name="charges", path="/v1/charges", stripe_object="charge", landed_fields=_CHARGE,
                 event_types=("charge.captured", "charge.expired", "charge.failed", "charge.pending",
                              "charge.refunded", "charge.succeeded", "charge.updated"),
                 refetch_types=("charge.dispute.created", "charge.dispute.closed",
                                "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"),
                 refetch_field="charge"),
    StripeObject(name="payment_intents", path="/v1/payment_intents", stripe_object="payment_intent",
                 landed_fields=_PAYMENT_INTENT,
                 event_types=("payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
                              "payment_intent.processing", "payment_intent.requires_action",
                              "payment_intent.amount_capturable_updated")),
    StripeObject(name="refunds", path="/v1/refunds", stripe_object="refund", landed_fields=_REFUND,
                 event_types=("refund.updated", "refund.failed", "charge.refund.updated")),
    StripeObject(name="balance_transactions", path="/v1/balance_transactions", stripe_object="balance_transaction",
                 landed_fields=_BALANCE_TRANSACTION),
    StripeObject(name="disputes", path="/v1/disputes", stripe_object="dispute", landed_fields=_DISPUTE,
                 event_types=("charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed",
                              "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated")),
)
