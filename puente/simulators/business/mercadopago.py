"""The payment provider's writer: what the business collects through Mercado Pago, in its wire shapes.

The business took Mercado Pago some months before today (``ACCOUNT_DAYS``, within the twelve
months its payments search serves). From then on:

- The Shopify shop's online checkout is Mercado Pago's (``external_reference``: the shop order's
  name, ``#1042``): one approved payment per order paid online, now and then after a rejected
  attempt (a card refused, the buyer tries again); a cancelled order is refunded in full; now and
  then a delivered order is refunded in part (a damaged item) and, more rarely, a buyer disputes a
  payment with the card's issuer weeks later (``charged_back``).
- Business customers on 30-day terms are sent a payment link for some of their invoices
  (``external_reference``: the invoice's number, ``INV/2026/00042``). Some pay it days before the
  accountant sees the money; some withhold the retención en la fuente (2.5 % of the untaxed
  amount), as Colombian companies do, and pay less than the invoice.
- Every approved payment carries Mercado Pago's fee (``fee_details``, paid by the collector) and
  its net amount (``transaction_details.net_received_amount``); the money is released some days
  after approval.
- A Mercado Libre sale is paid through the seller's Mercado Pago account (when the business sells
  there too): its payments search serves each of the sale's payments under the same id, naming
  the sale in ``order`` (``{"id": "<order id>", "type": "mercadolibre"}``, ``marketplace`` MELI)
  and without the business's ``external_reference``, its fee Mercado Libre's sale fee
  (``application_fee``) and its net amount what is left once that fee and the Mercado Envíos
  shipping are paid (``mirror_sale``, called whenever the sale's payments are made or change). The
  simulated account is younger than the twelve months the real search serves, so sales paid
  before it opened (``ACCOUNT_DAYS``) are left out: a departure, as the simulator's docstring says.

Before Puente nobody reconciles the provider with the ERP. The accountant keeps the invoices'
payment state by hand from the bank and the Mercado Pago statement (``OdooWriter``, untouched by
this writer): a web order that nobody retyped has an approved payment and no invoice; a link paid
early is not registered yet; a short payment is registered as paid in full; a refund or a
chargeback never reaches the ERP, whose invoice stays paid; the fees are not booked per invoice.

Everything here draws from its own random stream (``random.Random(f"{seed}:mercadopago")``) and
only reads the other systems' records at the end of each day, so a business that runs Mercado
Pago has the same ERP, CRM and shop records as one that does not (the shop's orders paid online
only name Mercado Pago as their gateway). Dates are written as Mercado Pago writes them:
milliseconds and the -04:00 offset.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from puente.simulators.business.calendar import Calendar
from puente.simulators.business.records import Records

GATEWAY = "Mercado Pago"  # the shop's payment_gateway_names for an order paid online
MP_ZONE = timezone(timedelta(hours=-4))
ACCOUNT_DAYS = 300  # the account opened this many days before the last day of history
COLLECTOR_ID = 1_284_551_907  # the business's Mercado Pago user, its Mercado Libre seller too (one user on both)
RETRY_SHARE = 0.05  # checkouts whose first attempt is rejected before one is approved
PARTIAL_REFUND_SHARE = 0.02  # delivered web orders refunded in part
CHARGEBACK_SHARE = 0.008  # approved checkout payments disputed weeks later
LINK_SHARE = 0.4  # invoices on terms paid through a payment link
EARLY_SHARE = 0.3  # links paid days before the accountant registers the payment
WITHHOLDING_SHARE = 0.12  # links paid short of the withholding tax
WITHHOLDING = 0.025  # retención en la fuente on purchases, of the untaxed amount
# Mercado Pago Colombia's online rate as this simulation assumes it: 3.29 % plus COP 800 a payment,
# plus 19 % IVA on the fee (the real rate depends on the plan and the release term).
FEE_RATE, FEE_FIXED, FEE_VAT = 0.0329, 800.0, 0.19
RELEASE_DAYS = 14
REJECTIONS = ("cc_rejected_insufficient_amount", "cc_rejected_bad_filled_security_code", "cc_rejected_other_reason")
METHODS = (("visa", "credit_card", 0.4), ("master", "credit_card", 0.3), ("debvisa", "debit_card", 0.1),
           ("pse", "bank_transfer", 0.2))


def mp_ts(at: datetime) -> str:
    """Mercado Pago's date: ISO 8601 with milliseconds, in its -04:00 zone."""
    return at.astimezone(MP_ZONE).isoformat(timespec="milliseconds")


def fee(amount: float) -> float:
    return round((amount * FEE_RATE + FEE_FIXED) * (1 + FEE_VAT), 2)


class MercadoPagoWriter:
    """Creates and changes payments in ``records.mercadopago``, one simulated day at a time."""

    def __init__(self, rng: random.Random, records: Records, calendar: Calendar, history_days: int,
                 payer_of: Callable[[str], tuple[str | None, str]]):
        self._rng = rng
        self._records = records
        self._calendar = calendar
        self._payer_of = payer_of  # person id -> (email, document digits)
        self.payments = records.mercadopago["payments"]
        self.opened = max(0, history_days - ACCOUNT_DAYS)
        self._next_id = 1_320_000_000 + rng.randrange(1_000_000)
        self._agenda: dict[int, list[tuple[Callable[..., None], tuple[Any, ...]]]] = defaultdict(list)
        self._residual: dict[int, float] = {}  # ERP invoice -> its residual when last seen
        self._by_reference: dict[str, list[int]] = defaultdict(list)
        self._linked: set[int] = set()  # invoices already paid through a link

    # ------------------------------------------------------------------ the day

    def day(self, day: int) -> None:
        """After the rest of the business's day: follow-ups, then what the shop and the ERP did today."""
        for handler, args in self._agenda.pop(day, []):
            handler(day, *args)
        if day < self.opened:
            return
        touched = self._records.touched_today
        for system, obj, rid in sorted(touched):
            if (system, obj) == ("shopify", "orders"):
                self._shop_order(day, rid)
            elif (system, obj) == ("odoo", "account.move"):
                self._invoice(day, rid)

    def _later(self, day: int, handler: Callable[..., None], *args: Any) -> None:
        self._agenda[day].append((handler, args))

    def _moment(self, day: int) -> datetime:
        return self._calendar.moment(day, self._rng)

    # ------------------------------------------------------------------ records

    def create(self, at: datetime, amount: float, reference: str, person_id: str | None, description: str,
               status: str, detail: str, method: tuple[str, str] | None = None) -> dict:
        rng = self._rng
        self._next_id += rng.randint(1, 40_000)  # every seller's payments share one sequence
        method_id, type_id = method or rng.choices([m[:2] for m in METHODS], [m[2] for m in METHODS])[0]
        email, doc = self._payer_of(person_id) if person_id else (None, "")
        # Colombia's document types (CC, NIT; a customer abroad's id is of type Otro)
        doc_type = "NIT" if len(doc) == 9 else "CC" if not doc or (doc.isdigit() and len(doc) in (8, 10)) else "Otro"
        approved = status == "approved"
        fees = [{"type": "mercadopago_fee", "amount": fee(amount), "fee_payer": "collector"}] if approved else []
        payment = {
            "id": self._next_id, "date_created": mp_ts(at), "date_approved": mp_ts(at) if approved else None,
            "date_last_updated": mp_ts(at), "date_of_expiration": None,
            "money_release_date": mp_ts(at + timedelta(days=RELEASE_DAYS)) if approved else None,
            "money_release_status": "pending" if approved else None, "operation_type": "regular_payment",
            "issuer_id": None if type_id == "bank_transfer" else str(rng.choice((204, 205, 1015))),
            "payment_method_id": method_id, "payment_type_id": type_id, "status": status, "status_detail": detail,
            "currency_id": "COP", "description": description, "live_mode": True, "sponsor_id": None,
            "authorization_code": f"{rng.randrange(10**6):06d}" if approved and type_id != "bank_transfer" else None,
            "collector_id": COLLECTOR_ID, "external_reference": reference,
            "payer": {"id": str(rng.randrange(10**8, 10**9)), "type": None, "email": email,
                      "identification": {"type": doc_type, "number": doc},
                      "first_name": None, "last_name": None, "phone": {"area_code": None, "number": None}},
            "metadata": {}, "additional_info": {"ip_address": f"181.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"},
            "transaction_amount": amount, "transaction_amount_refunded": 0, "coupon_amount": 0,
            "installments": 1, "captured": True, "binary_mode": False,
            "transaction_details": {"net_received_amount": round(amount - sum(f["amount"] for f in fees), 2) if approved else 0,
                                    "total_paid_amount": amount, "overpaid_amount": 0, "installment_amount": amount,
                                    "financial_institution": "1007" if type_id == "bank_transfer" else None},
            "fee_details": fees, "refunds": [], "charges_details": [],
            "card": {} if type_id == "bank_transfer" else {
                "first_six_digits": f"{rng.randrange(400000, 559999)}", "last_four_digits": f"{rng.randrange(10**4):04d}",
                "cardholder": {"name": "", "identification": {"type": "CC" if doc_type == "NIT" else doc_type,
                                                              "number": doc}}},
            "point_of_interaction": {"type": "CHECKOUT" if reference.startswith("#") else "PAYMENT_LINK"},
        }
        self._records.add("mercadopago", "payments", payment["id"], payment, None)
        self._by_reference[reference].append(payment["id"])
        return payment

    def update(self, pid: int, values: dict, at: datetime) -> dict:
        """Change a payment; its ``date_last_updated`` only ever grows (by a millisecond when ``at`` is not later)."""
        payment = self.payments[pid]
        last = datetime.fromisoformat(payment["date_last_updated"])
        at = max(at, last + timedelta(milliseconds=1))
        payment.update(values)
        payment["date_last_updated"] = mp_ts(at)
        self._records.track("mercadopago", "payments", pid)
        return payment

    # ------------------------------------------------------------------ Mercado Libre's sales

    def mirror_sale(self, oid: int) -> None:
        """Serve Mercado Libre sale ``oid``'s payments as the account's own (see the module's docstring);
        draws nothing, so the rest of the account stays as it was."""
        sale = self._records.mercadolibre["orders"][oid]
        owner = self._records.truth.get(("mercadolibre", "orders", oid))
        opened = self._calendar.midnight(self.opened)
        for paid in sale.get("payments") or []:
            if datetime.fromisoformat(paid["date_created"]) < opened:
                continue  # older than the account the simulation gives the business (``ACCOUNT_DAYS``)
            payment = self._sale_payment(sale, paid)
            if paid["id"] not in self.payments:
                self._records.add("mercadopago", "payments", paid["id"], payment, owner[0] if owner else None)
            elif self.payments[paid["id"]] != payment:
                self.payments[paid["id"]].update(payment)
                self._records.track("mercadopago", "payments", paid["id"])

    @staticmethod
    def _sale_payment(sale: dict, paid: dict) -> dict:
        def stamp(value: str | None) -> str | None:
            return mp_ts(datetime.fromisoformat(value)) if value else None

        approved_at = datetime.fromisoformat(paid["date_approved"]) if paid["date_approved"] else None
        refunded = paid["status"] == "refunded"
        total, shipping, sale_fee = paid["total_paid_amount"], paid["shipping_cost"], paid["marketplace_fee"]
        return {
            "id": paid["id"], "date_created": stamp(paid["date_created"]), "date_approved": stamp(paid["date_approved"]),
            "date_last_updated": stamp(paid["date_last_modified"]), "date_of_expiration": None,
            "money_release_date": mp_ts(approved_at + timedelta(days=RELEASE_DAYS)) if approved_at else None,
            "money_release_status": "pending" if approved_at else None, "operation_type": paid["operation_type"],
            "issuer_id": None, "payment_method_id": paid["payment_method_id"], "payment_type_id": paid["payment_type"],
            "status": paid["status"], "status_detail": paid["status_detail"], "currency_id": paid["currency_id"],
            "description": sale["order_items"][0]["item"]["title"], "live_mode": True, "sponsor_id": None,
            "collector_id": COLLECTOR_ID, "external_reference": None, "marketplace": "MELI",
            "order": {"id": str(sale["id"]), "type": "mercadolibre"}, "marketplace_fee": sale_fee,
            # the buyer's e-mail and document are Mercado Libre's to keep
            "payer": {"id": str(paid["payer_id"]), "type": None, "email": None,
                      "identification": {"type": None, "number": None}},
            "metadata": {}, "transaction_amount": paid["transaction_amount"],
            "transaction_amount_refunded": paid["transaction_amount_refunded"], "shipping_amount": shipping,
            "coupon_amount": 0, "installments": paid["installments"], "captured": True, "binary_mode": False,
            "transaction_details": {"net_received_amount": round(total - shipping - sale_fee, 2) if approved_at else 0,
                                    "total_paid_amount": total, "overpaid_amount": paid["overpaid_amount"],
                                    "installment_amount": total, "financial_institution": None},
            "fee_details": [{"type": "application_fee", "amount": sale_fee, "fee_payer": "collector"}] if sale_fee else [],
            "refunds": [{"id": paid["id"] + 1, "payment_id": paid["id"], "amount": paid["transaction_amount_refunded"],
                         "source": {"type": "collector"}, "date_created": stamp(paid["date_last_modified"]),
                         "status": "approved", "unique_sequence_number": None}] if refunded else [],
            "charges_details": [], "card": {}, "point_of_interaction": {"type": "UNSPECIFIED"},
        }

    # ------------------------------------------------------------------ the shop's checkout

    def _shop_order(self, day: int, sid: int) -> None:
        order = self._records.shopify["orders"][sid]
        if GATEWAY not in order["payment_gateway_names"]:
            return
        payments = self._by_reference.get(order["name"], [])
        if not payments and ("shopify", "orders", order["id"]) in self._records.created_today:
            self._checkout(day, order)
        elif order["cancelled_at"]:
            self._refund_all(day, order, payments)

    def _checkout(self, day: int, order: dict) -> None:
        rng = self._rng
        at = datetime.fromisoformat(order["created_at"]) - timedelta(seconds=rng.randint(20, 300))
        amount = float(order["total_price"])
        owner = self._records.truth.get(("shopify", "orders", order["id"]))
        person = owner[0] if owner else None
        description = f"Casa Andina, pedido {order['name']}"
        if rng.random() < RETRY_SHARE:
            self.create(at - timedelta(minutes=rng.randint(1, 10)), amount, order["name"], person, description,
                        "rejected", rng.choice(REJECTIONS))
        payment = self.create(at, amount, order["name"], person, description, "approved", "accredited")
        if rng.random() < CHARGEBACK_SHARE:
            self._later(day + rng.randint(15, 45), self._charge_back, payment["id"])
        elif rng.random() < PARTIAL_REFUND_SHARE:
            self._later(day + rng.randint(5, 20), self._refund, payment["id"],
                        round(rng.uniform(0.1, 0.4), 2))

    def _refund_all(self, day: int, order: dict, payments: list[int]) -> None:
        for pid in payments:
            if self.payments[pid]["status"] == "approved" and not self.payments[pid]["refunds"]:
                self._refund(day, pid, 1.0)

    def _refund(self, day: int, pid: int, share: float) -> None:
        """A refund of ``share`` of the payment (a cancelled order in full, a damaged item in part)."""
        payment = self.payments[pid]
        if payment["status"] != "approved":
            return
        at = self._moment(day)
        amount = payment["transaction_amount"]
        refund = round(amount * share, 2) if share < 1 else amount
        self._next_id += self._rng.randint(1, 5000)
        refunds = [*payment["refunds"], {"id": self._next_id, "payment_id": pid, "amount": refund,
                                         "source": {"type": "collector"}, "date_created": mp_ts(at),
                                         "status": "approved", "unique_sequence_number": None}]
        whole = share >= 1
        self.update(pid, {"refunds": refunds, "transaction_amount_refunded": round(
            payment["transaction_amount_refunded"] + refund, 2), "status": "refunded" if whole else "approved",
            "status_detail": "refunded" if whole else "partially_refunded"}, at)

    def _charge_back(self, day: int, pid: int) -> None:
        if self.payments[pid]["status"] == "approved":
            self.update(pid, {"status": "charged_back", "status_detail": "settled"}, self._moment(day))

    # ------------------------------------------------------------------ payment links for invoices

    def _invoice(self, day: int, move_id: int) -> None:
        move = self._records.odoo["account.move"][move_id]
        if move["move_type"] != "out_invoice" or move["state"] != "posted":
            return
        on_terms = move["invoice_date_due"] > move["invoice_date"]
        before = self._residual.get(move_id)
        self._residual[move_id] = move["amount_residual"]
        if not on_terms or move_id in self._linked:
            return
        rng = self._rng
        if before is None and move["payment_state"] == "not_paid" and rng.random() < LINK_SHARE * EARLY_SHARE:
            # the customer pays the link before the accountant registers anything
            self._linked.add(move_id)
            self._later(day + rng.randint(3, 20), self._pay_link, move_id, move["amount_total"], True)
        elif before is not None and move["amount_residual"] < before and rng.random() < LINK_SHARE:
            self._linked.add(move_id)
            self._pay_link(day, move_id, round(before - move["amount_residual"], 2), False)

    def _pay_link(self, day: int, move_id: int, amount: float, early: bool) -> None:
        """The customer pays an invoice's link: ``early``, before the accountant registered any
        payment (skipped when the invoice was meanwhile paid another way), or the payment the
        accountant registered today."""
        rng = self._rng
        move = self._records.odoo["account.move"][move_id]
        if early and move["payment_state"] != "not_paid":
            return
        if rng.random() < WITHHOLDING_SHARE:
            amount = round(amount - move["amount_untaxed"] * WITHHOLDING, 2)
        owner = self._records.truth.get(("odoo", "account.move", move_id))
        self.create(self._moment(day), amount, move["name"], owner[0] if owner else None,
                    f"Casa Andina, factura {move['name']}", "approved", "accredited", ("pse", "bank_transfer"))


