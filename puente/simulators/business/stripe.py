"""The second payment provider's writer: what the business collects through Stripe, in its wire shapes.

The business took Stripe for its WooCommerce store some months before today (``ACCOUNT_DAYS``):
from then on the store's card checkout is the WooCommerce Stripe gateway's (the order's
``payment_method`` ``stripe``; bank transfers stay outside Stripe). For each order paid by card:

- one PaymentIntent (``pi_…``) for the order's total, with the store's order in its ``metadata``
  (``order_id``, ``order_number``, ``site_url``, as the gateway sets them), and its charges
  (``ch_…``): now and then a first charge fails (``card_declined``, ``insufficient_funds``) and the
  buyer tries again on the same intent; the successful charge has its balance transaction
  (``txn_…``, type ``charge``) with Stripe's fee (``FEE_RATE`` plus ``FEE_FIXED``) and the net;
- a cancelled order is refunded in full (a refund ``re_…`` with its own balance transaction, type
  ``refund``); now and then a completed order is refunded in part some days later (a damaged box);
- more rarely, weeks later, the buyer's bank disputes the charge (a dispute ``du_…``): the charge
  becomes ``disputed``, and a balance transaction (type ``adjustment``, reporting category
  ``dispute``) takes the amount back plus the dispute fee; a month or two later the dispute is
  ``won`` (the amount comes back, reporting category ``dispute_reversal``; the charge stays
  ``disputed``, as Stripe leaves it) or ``lost``.

Every change is also an event (``evt_…``: ``charge.succeeded``, ``charge.failed``,
``payment_intent.succeeded``, ``charge.refunded``, ``refund.created``, ``charge.dispute.created``,
``charge.dispute.funds_withdrawn``, ``charge.dispute.funds_reinstated``, ``charge.dispute.closed``), holding the object as it was after the change.

Amounts are Stripe's: integers in the currency's minor unit. The store sells in Colombian pesos,
which Stripe's API counts with two decimals: a COP 119.000 order is ``amount`` 11900000. The
simulated account settles in COP (a real account of a Colombian business opened abroad settles in
USD; staging reads each balance transaction in its own currency and ``exchange_rate``).

Before Puente nobody reconciles Stripe with the store or the ERP: the store's orders reach the
ERP only when someone (Puente) enters them, and then the accountant marks their invoices paid from
the bank statement (``OdooWriter``), untouched by this writer; refunds and disputes never reach
the ERP; the fees are not booked per order.

Everything here draws from its own random stream (``random.Random(f"{seed}:stripe")``) and only
reads the store's records at the end of each day, so a business that runs Stripe has the same ERP,
CRM and shop records as one that does not, except that the store names Stripe as the card method.
"""

from __future__ import annotations

import copy
import random
import string
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from puente.simulators.business.calendar import Calendar
from puente.simulators.business.records import Records

METHOD = "stripe"  # the store's payment_method for a card paid through Stripe
SITE_URL = "https://mayorista.casaandina.co"
ACCOUNT_DAYS = 240  # the account opened this many days before the last day of history
API_VERSION = "2024-06-20"
RETRY_SHARE = 0.06  # card checkouts whose first charge fails before one succeeds
PARTIAL_REFUND_SHARE = 0.05  # completed orders refunded in part
DISPUTE_SHARE = 0.01  # successful charges disputed weeks later
# The fee this simulation assumes for a card charged in COP: 3.9 % plus COP 1.200 (Stripe's
# pricing depends on the account's country, the card's and the currency conversion).
FEE_RATE, FEE_FIXED = 0.039, 1_200
DISPUTE_FEE = 60_000  # COP, about USD 15
DISPUTE_WON_SHARE = 0.4  # disputes the business wins with its evidence (the charge's ``disputed`` stays true)
CENTS = 100  # COP has two decimals in Stripe's API
DECLINES = ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc")
_ALPHABET = string.ascii_letters + string.digits


def unix(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp())


class StripeWriter:
    """Creates and changes Stripe objects in ``records.stripe``, one simulated day at a time."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, history_days: int):
        self._rng = rng
        self._records = records
        self._calendar = calendar
        self.tables = records.stripe
        self.opened = max(0, history_days - ACCOUNT_DAYS)
        self._agenda: dict[int, list[tuple[Callable[..., None], tuple[Any, ...]]]] = defaultdict(list)
        self._by_order: dict[int, str] = {}  # WooCommerce order id -> its payment intent

    # ------------------------------------------------------------------ the day

    def day(self, day: int) -> None:
        """After the rest of the business's day: follow-ups, then what the store did today."""
        for handler, args in self._agenda.pop(day, []):
            handler(day, *args)
        if day < self.opened:
            return
        for system, obj, rid in sorted(self._records.touched_today):
            if (system, obj) == ("woocommerce", "orders"):
                self._store_order(day, rid)

    def _later(self, day: int, handler: Callable[..., None], *args: Any) -> None:
        self._agenda[day].append((handler, args))

    # ------------------------------------------------------------------ objects and their events

    def _id(self, prefix: str) -> str:
        return prefix + "_" + "".join(self._rng.choices(_ALPHABET, k=24))

    def _add(self, obj: str, record: dict) -> dict:
        self.tables[obj][record["id"]] = record
        self._records.version += 1
        return record

    def _event(self, kind: str, held: dict, at: datetime) -> None:
        event = {"id": self._id("evt"), "object": "event", "api_version": API_VERSION, "created": unix(at),
                 "type": kind, "livemode": True, "pending_webhooks": 0,
                 "data": {"object": copy.deepcopy(held)}, "request": {"id": None, "idempotency_key": None}}
        self._add("events", event)

    # The event a change of an object of each list sends (Stripe sends none for a payment intent's or
    # a balance transaction's change other than those of its own life cycle).
    UPDATE_EVENTS = {"charges": "charge.updated", "refunds": "refund.updated", "disputes": "charge.dispute.updated"}

    def update(self, obj: str, rid: str, values: dict, at: datetime) -> dict:
        """Change an object (``values``), as the Dashboard or the API does: Stripe stamps only ``created``,
        so the change is known from its event (``charge.updated``…), stamped ``at``."""
        if obj not in self.UPDATE_EVENTS:
            raise ValueError(f"Stripe sends no event when a {obj[:-1]} is changed: only {sorted(self.UPDATE_EVENTS)}")
        record = self.tables[obj][rid]
        record.update(values)
        self._event(self.UPDATE_EVENTS[obj], record, at)
        self._records.track("stripe", obj, rid)
        return record

    def _balance(self, at: datetime, amount: int, fee: int, kind: str, category: str, source: str,
                 description: str | None) -> dict:
        fees = [{"amount": fee, "application": None, "currency": "cop", "description": "Stripe processing fees",
                 "type": "stripe_fee"}] if fee else []
        return self._add("balance_transactions", {
            "id": self._id("txn"), "object": "balance_transaction", "amount": amount, "currency": "cop",
            "available_on": unix(at + timedelta(days=7)), "created": unix(at), "description": description,
            "exchange_rate": None, "fee": fee, "fee_details": fees, "net": amount - fee,
            "reporting_category": category, "source": source, "status": "pending", "type": kind})

    # ------------------------------------------------------------------ the store's checkout

    def _store_order(self, day: int, oid: int) -> None:
        order = self._records.woocommerce["orders"][oid]
        if order["payment_method"] != METHOD:
            return
        if oid not in self._by_order and ("woocommerce", "orders", oid) in self._records.created_today:
            self._checkout(day, order)
        elif oid in self._by_order and order["status"] in ("cancelled", "refunded"):
            self.refund(day, self._by_order[oid], 1.0)

    def _checkout(self, day: int, order: dict) -> None:
        rng = self._rng
        at = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC) - timedelta(seconds=rng.randint(5, 90))
        amount = round(float(order["total"])) * CENTS
        metadata = {"order_id": str(order["id"]), "order_number": order["number"], "site_url": SITE_URL}
        description = f"Casa Andina Mayorista - Order {order['number']}"
        intent = self._add("payment_intents", {
            "id": self._id("pi"), "object": "payment_intent", "amount": amount, "amount_received": 0,
            "amount_capturable": 0, "currency": "cop", "status": "requires_payment_method", "created": unix(at),
            "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
            "confirmation_method": "automatic", "customer": None, "description": description,
            "last_payment_error": None, "latest_charge": None, "livemode": True, "metadata": metadata,
            "payment_method_types": ["card"], "receipt_email": order["billing"].get("email"),
            "statement_descriptor": "CASA ANDINA"})
        self._by_order[order["id"]] = intent["id"]
        if rng.random() < RETRY_SHARE:
            failed = self._charge(intent, at, rng.choice(DECLINES))
            intent.update({"last_payment_error": {"type": "card_error", "code": failed["failure_code"],
                                                  "charge": failed["id"]}, "latest_charge": failed["id"]})
            self._event("payment_intent.payment_failed", intent, at)
            at += timedelta(seconds=rng.randint(30, 400))
        charge = self._charge(intent, at, None)
        intent.update({"status": "succeeded", "amount_received": amount, "latest_charge": charge["id"],
                       "last_payment_error": None})
        self._event("payment_intent.succeeded", intent, at)
        if rng.random() < DISPUTE_SHARE:
            self._later(day + rng.randint(20, 60), self.dispute, intent["id"])
        elif rng.random() < PARTIAL_REFUND_SHARE:
            self._later(day + rng.randint(5, 20), self.refund, intent["id"], round(rng.uniform(0.1, 0.4), 2))

    def _charge(self, intent: dict, at: datetime, decline: str | None) -> dict:
        ok = decline is None
        charge = self._add("charges", {
            "id": self._id("ch"), "object": "charge", "amount": intent["amount"],
            "amount_captured": intent["amount"] if ok else 0, "amount_refunded": 0, "balance_transaction": None,
            "billing_details": {"email": intent["receipt_email"], "name": None, "phone": None,
                                "address": {"country": "CO"}},
            "captured": ok, "created": unix(at), "currency": "cop", "customer": None,
            "description": intent["description"], "disputed": False,
            "failure_code": decline, "failure_message": "Your card was declined." if decline else None,
            "livemode": True, "metadata": dict(intent["metadata"]),
            "outcome": {"network_status": "approved_by_network" if ok else "declined_by_network",
                        "reason": None if ok else decline, "risk_level": "normal",
                        "seller_message": "Payment complete." if ok else "The bank did not return any further details.",
                        "type": "authorized" if ok else "issuer_declined"},
            "paid": ok, "payment_intent": intent["id"],
            "payment_method_details": {"type": "card", "card": {
                "brand": self._rng.choice(("visa", "mastercard", "amex")), "country": "CO",
                "last4": f"{self._rng.randrange(10**4):04d}", "funding": self._rng.choice(("credit", "debit"))}},
            "receipt_email": intent["receipt_email"], "refunded": False, "status": "succeeded" if ok else "failed"})
        if ok:
            fee = round(charge["amount"] * FEE_RATE / CENTS + FEE_FIXED) * CENTS
            txn = self._balance(at, charge["amount"], fee, "charge", "charge", charge["id"], intent["description"])
            charge["balance_transaction"] = txn["id"]
        self._event("charge.succeeded" if ok else "charge.failed", charge, at)
        return charge

    def _succeeded(self, pi: str) -> dict | None:
        """The intent's successful charge, when it has one."""
        charge = self.tables["charges"].get(self.tables["payment_intents"][pi]["latest_charge"] or "")
        return charge if charge and charge["status"] == "succeeded" else None

    def refund(self, day: int, pi: str, share: float) -> None:
        """A refund of ``share`` of what is left of the charge (a cancelled order in full, a damaged box in part)."""
        charge = self._succeeded(pi)
        if charge is None or charge["refunded"] or charge["disputed"]:
            return
        at = self._calendar.moment(day, self._rng)
        left = charge["amount"] - charge["amount_refunded"]
        amount = left if share >= 1 else round(charge["amount"] * share / CENTS) * CENTS
        refund = self._add("refunds", {
            "id": self._id("re"), "object": "refund", "amount": amount, "balance_transaction": None,
            "charge": charge["id"], "created": unix(at), "currency": "cop", "metadata": {},
            "payment_intent": pi, "reason": "requested_by_customer", "receipt_number": None,
            "status": "succeeded", "failure_reason": None})
        refund["balance_transaction"] = self._balance(at, -amount, 0, "refund", "refund", refund["id"],
                                                      "REFUND FOR CHARGE")["id"]
        charge.update({"amount_refunded": charge["amount_refunded"] + amount,
                       "refunded": charge["amount_refunded"] + amount >= charge["amount"]})
        self._event("refund.created", refund, at)
        self._event("charge.refunded", charge, at)

    def dispute(self, day: int, pi: str) -> None:
        charge = self._succeeded(pi)
        if charge is None or charge["refunded"]:
            return
        at = self._calendar.moment(day, self._rng)
        amount = charge["amount"] - charge["amount_refunded"]
        dispute = {"id": self._id("du"), "object": "dispute", "amount": amount, "charge": charge["id"],
                   "currency": "cop", "created": unix(at), "payment_intent": pi, "reason": "fraudulent",
                   "status": "needs_response", "is_charge_refundable": False, "balance_transactions": []}
        txn = self._balance(at, -amount, DISPUTE_FEE * CENTS, "adjustment", "dispute", dispute["id"],
                            f"Chargeback withdrawal for {charge['id']}")
        dispute["balance_transactions"] = [copy.deepcopy(txn)]
        self._add("disputes", dispute)
        charge["disputed"] = True
        self._event("charge.dispute.created", dispute, at)
        self._event("charge.dispute.funds_withdrawn", dispute, at + timedelta(seconds=1))
        self._later(day + self._rng.randint(30, 75), self._close_dispute, dispute["id"])

    def _close_dispute(self, day: int, du: str) -> None:
        """The card network decides: won (the evidence held; the funds come back, not the fee) or lost."""
        dispute = self.tables["disputes"][du]
        at = self._calendar.moment(day, self._rng)
        won = self._rng.random() < DISPUTE_WON_SHARE
        dispute["status"] = "won" if won else "lost"
        if won:
            back = self._balance(at, dispute["amount"], 0, "adjustment", "dispute_reversal", du,
                                 f"Chargeback reversal for {dispute['charge']}")
            dispute["balance_transactions"].append(copy.deepcopy(back))
            self._event("charge.dispute.funds_reinstated", dispute, at)
        self._event("charge.dispute.closed", dispute, at + timedelta(seconds=1))
