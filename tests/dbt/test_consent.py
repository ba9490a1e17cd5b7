"""Marketing consent from any system (dim_customers): the most restrictive signal wins, for every
pair of systems, through the real dbt build of messy_night.py."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from messy_night import CONSENT_CASES, CONTACT_UPDATED_AT, TWO_SHOP_ACCOUNTS
from psycopg.rows import dict_row

UTC = dt.UTC


def customer_by_email(url: str, case: str) -> dict:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        (customer,) = conn.execute("select * from marts.dim_customers where email = %s",
                                   (f"{case}@example.org",)).fetchall()
    return customer


@pytest.mark.parametrize(("case", "signals", "consent", "deciding"), CONSENT_CASES, ids=[c[0] for c in CONSENT_CASES])
def test_the_most_restrictive_signal_of_two_systems_wins(messy_db, case, signals, consent, deciding):
    customer = customer_by_email(messy_db, case)
    assert len(customer["odoo_partner_ids"]) + len(customer["hubspot_contact_ids"]) \
        + len(customer["shopify_customer_ids"]) == len(signals)  # the person's records are one customer
    assert customer["has_marketing_consent"] is consent
    assert customer["has_marketing_consent_source"].split(":")[0] == deciding


def test_the_deciding_signal_keeps_its_date(messy_db):
    # the shop dates its consent: the unsubscribe, though the CRM's "true" is newer
    shop = customer_by_email(messy_db, "hubspot_in_shopify_out")
    assert shop["marketing_consent_at"] == dt.datetime(2026, 8, 1, 15, tzinfo=UTC)
    # the ERP's blacklist has no date of its own: the partner's last write
    erp = customer_by_email(messy_db, "odoo_out_hubspot_in")
    assert erp["marketing_consent_at"] == dt.datetime(2026, 7, 1, 10, tzinfo=UTC)
    crm = customer_by_email(messy_db, "hubspot_out_shopify_in")
    assert crm["marketing_consent_at"] == dt.datetime.fromisoformat(CONTACT_UPDATED_AT)


def test_a_later_opt_in_in_the_same_system_lifts_its_opt_out(messy_db):
    case, unsubscribed, subscribed = TWO_SHOP_ACCOUNTS
    customer = customer_by_email(messy_db, case)
    assert customer["shopify_customer_ids"] == [str(unsubscribed), str(subscribed)]
    assert customer["has_marketing_consent"] is True
    assert customer["has_marketing_consent_source"] == f"shopify_customer:{subscribed}"
    assert customer["marketing_consent_at"] == dt.datetime(2026, 10, 20, 15, tzinfo=UTC)


def test_no_signal_anywhere_is_no_consent(messy_db):
    with psycopg.connect(messy_db, row_factory=dict_row) as conn:
        carlos = conn.execute("select * from marts.dim_customers where '102' = any(odoo_partner_ids)").fetchone()
    assert (carlos["has_marketing_consent"], carlos["has_marketing_consent_source"], carlos["marketing_consent_at"]) \
        == (False, None, None)
