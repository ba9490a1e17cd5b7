"""Puente's own writes to the CRM change no golden record and date no consent, through the real
staging, identity, authorisation and dim_customers models, for HubSpot and for Salesforce.

One person, two duplicate CRM contacts (B, older, whose record key sorts first; A, changed more
recently). Puente writes its scores to both in one call, which moves both contacts' last-modified
time to the same instant: the golden record's fields, their `*_source` and its marketing consent
date stay as they were (before, the tie on the last-modified time fell to the record key, the
email and every `*_source` switched to B and the consent date became the moment of the write). A
change a person makes afterwards still wins, and a consent changed by the person is dated by it.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from puente import warehouse
from puente.dbt import run_dbt

UTC = dt.UTC
EMAIL_A, EMAIL_B = "laura.gomez+casaandina@hotmail.com", "laura.gomez@hotmail.com"
A_CHANGED = dt.datetime(2026, 11, 10, 9, tzinfo=UTC)
B_CHANGED = dt.datetime(2026, 11, 5, 9, tzinfo=UTC)
A_CREATED = dt.datetime(2025, 6, 1, 10, tzinfo=UTC)
PUENTE_WROTE = dt.datetime(2026, 11, 16, 23, 59, 59, tzinfo=UTC)
GOLDEN = ("customer_id", "full_name", "full_name_source", "email", "email_source", "phone", "phone_source", "tax_id",
          "tax_id_source", "city", "city_source", "country_code", "country_code_source", "has_marketing_consent",
          "has_marketing_consent_source", "marketing_consent_at", "authorised_purposes")


def _hubspot(contact_id: str, email: str, created: dt.datetime, modified: dt.datetime, city: str = "Bogotá",
             consent: bool = True, **puente) -> dict:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"id": contact_id, "createdAt": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "updatedAt": stamp,
            "archived": False,
            "properties": {"hs_object_id": contact_id, "email": email, "firstname": "Laura", "lastname": "Gómez",
                           "mobilephone": "315 765 4321", "phone": None, "city": city, "country": "Colombia",
                           "tax_id": "52345678", "hs_marketable_status": str(consent).lower(),
                           "hs_legal_basis": "Freely given consent from contact", "lastmodifieddate": stamp,
                           "createdate": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "hubspot_owner_id": "77",
                           **puente}}


def _salesforce(contact_id: str, email: str, created: dt.datetime, modified: dt.datetime, city: str = "Bogotá",
                consent: bool = True, **puente) -> dict:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {"Id": contact_id, "CreatedDate": created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "LastModifiedDate": stamp,
            "SystemModstamp": stamp, "IsDeleted": False, "FirstName": "Laura", "LastName": "Gómez", "Email": email,
            "Phone": None, "MobilePhone": "315 765 4321", "MailingStreet": None, "MailingCity": city,
            "MailingCountry": "Colombia", "AccountId": None, "Tax_Id__c": "52345678", "HasOptedOutOfEmail": not consent,
            "Legal_Basis__c": "Freely given consent from contact", "OwnerId": "0055g00000000001AAA", **puente}


# each CRM: its record type, its contact factory, the two contacts' ids (B's key sorts first) and
# the score fields Puente writes there
CRMS = {
    "hubspot": ("hubspot_contact", _hubspot, "801", "802",
                {"puente_churn_score": "0.42", "puente_churn_risk": "medium"}),
    "salesforce": ("salesforce_contact", _salesforce, "0035g0000000081AAA", "0035g0000000082AAA",
                   {"Puente_Churn_Score__c": 0.42, "Puente_Churn_Risk__c": "medium"}),
}


def land(url: str, crm: str, *records: dict) -> None:
    """The records as the loader lands them: one row per contact, replaced when it changed."""
    table = warehouse.raw_object(crm, "contacts").qualified_table
    with psycopg.connect(url) as conn:
        for record in records:
            key = str(record.get("id") or record.get("Id"))
            stamp = record.get("updatedAt") or record.get("SystemModstamp")
            conn.execute(f"delete from {table} where source_id = %s", (key,))
            conn.execute(f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                         "values (%s, %s, %s, 'b1', false)", (key, Jsonb(record), stamp))


def puente_wrote_scores(url: str, *contact_ids: str) -> None:
    """What the activation engine keeps of its accepted writes (ops.activation_state)."""
    with psycopg.connect(url) as conn:
        for contact_id in contact_ids:
            conn.execute("insert into ops.activation_state (activation, row_key, target_id, payload, compare_hash, "
                         "accepted_at, run_id) values ('act_crm_contact_scores', %s, %s, %s, 'h', %s, 'r1')",
                         (contact_id, contact_id, Jsonb({"puente_churn_score": 0.42}), PUENTE_WROTE))


def build(url: str) -> None:
    run_dbt(["build", "--select", "+dim_customers", "--indirect-selection", "cautious"], url)


def golden(url: str) -> dict:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        (customer,) = conn.execute("select * from marts.dim_customers").fetchall()
    return {column: customer[column] for column in GOLDEN}


@pytest.mark.parametrize("crm", CRMS)
def test_puentes_own_writes_change_no_golden_field_and_date_no_consent(fresh_db, crm):
    record_type, contact, b, a, scores = CRMS[crm]
    land(fresh_db, crm, contact(b, EMAIL_B, dt.datetime(2025, 3, 1, 10, tzinfo=UTC), B_CHANGED),
         contact(a, EMAIL_A, A_CREATED, A_CHANGED))
    build(fresh_db)
    before = golden(fresh_db)
    # one person; the more recently changed contact (A) gives every CRM field and the consent's date
    assert before["email"] == EMAIL_A
    assert {before[f"{field}_source"] for field in ("full_name", "email", "phone", "tax_id", "city")} \
        == {f"{record_type}:{a}"}
    assert (before["has_marketing_consent"], before["has_marketing_consent_source"], before["marketing_consent_at"]) \
        == (True, f"{record_type}:{a}", A_CHANGED)

    # Puente writes its scores to both contacts in one call: both last-modified times move to one instant
    land(fresh_db, crm, contact(b, EMAIL_B, dt.datetime(2025, 3, 1, 10, tzinfo=UTC), PUENTE_WROTE, **scores),
         contact(a, EMAIL_A, A_CREATED, PUENTE_WROTE, **scores))
    puente_wrote_scores(fresh_db, b, a)
    build(fresh_db)
    assert golden(fresh_db) == before
    build(fresh_db)  # a rerun of the night
    assert golden(fresh_db) == before

    # a person changes B's city afterwards: B is now the most recently changed contact and wins
    person_changed = dt.datetime(2026, 11, 18, 8, tzinfo=UTC)
    land(fresh_db, crm, contact(b, EMAIL_B, dt.datetime(2025, 3, 1, 10, tzinfo=UTC), person_changed, city="Medellín",
                                **scores))
    build(fresh_db)
    after = golden(fresh_db)
    assert (after["city"], after["city_source"]) == ("Medellín", f"{record_type}:{b}")
    assert (after["email"], after["email_source"]) == (EMAIL_B, f"{record_type}:{b}")
    # no consent changed: still A's opt-in, dated when A last changed it, not by the city or Puente
    assert (after["has_marketing_consent_source"], after["marketing_consent_at"]) \
        == (f"{record_type}:{a}", A_CHANGED)

    # the person opts out on A: refused, dated by that change
    opted_out = dt.datetime(2026, 11, 19, 12, tzinfo=UTC)
    land(fresh_db, crm, contact(a, EMAIL_A, A_CREATED, opted_out, consent=False, **scores))
    build(fresh_db)
    refused = golden(fresh_db)
    assert (refused["has_marketing_consent"], refused["has_marketing_consent_source"],
            refused["marketing_consent_at"]) == (False, f"{record_type}:{a}", opted_out)
    assert refused["email_source"] == f"{record_type}:{a}"  # the opt-out is A's newest change


def test_a_record_first_seen_after_puente_wrote_to_it_is_dated_by_its_creation(fresh_db):
    """A warehouse that first sees the contacts after Puente wrote to them (a new warehouse, this
    table new): their last-modified time may be Puente's own, so the consent is dated by the
    contact's creation, never by Puente's write."""
    record_type, contact, b, a, scores = CRMS["hubspot"]
    land(fresh_db, "hubspot", contact(b, EMAIL_B, dt.datetime(2025, 3, 1, 10, tzinfo=UTC), PUENTE_WROTE, **scores),
         contact(a, EMAIL_A, A_CREATED, PUENTE_WROTE, **scores))
    puente_wrote_scores(fresh_db, b, a)
    build(fresh_db)
    found = golden(fresh_db)
    assert found["marketing_consent_at"] == A_CREATED
    assert (found["email"], found["email_source"]) == (EMAIL_A, f"{record_type}:{a}")
