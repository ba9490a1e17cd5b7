"""Habeas Data: marts.customer_authorisations, per customer and purpose, through the real dbt
build of messy_night.py: the CRM's legal basis authorises processing, every system's marketing
consent speaks for marketing, and the most restrictive recent signal wins."""

from __future__ import annotations

import psycopg
import pytest
from messy_night import AUTHORISATION_CASES, TWO_CONTACTS
from psycopg.rows import dict_row

from puente.activation.spec import PURPOSES


def authorisations(url: str, case: str) -> dict[str, dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(
            """
            select a.* from marts.customer_authorisations as a
            join marts.dim_customers as c using (customer_id)
            where c.email = %s
            """, (f"{case}@example.org",)).fetchall()
    return {row["purpose"]: row for row in rows}


@pytest.mark.parametrize(("case", "signals", "expected", "deciding"), AUTHORISATION_CASES,
                         ids=[c[0] for c in AUTHORISATION_CASES])
def test_each_purpose_is_decided_by_the_most_restrictive_signal(messy_db, case, signals, expected, deciding):
    found = authorisations(messy_db, case)
    assert {purpose: row["status"] for purpose, row in found.items()} == expected
    assert all(row["is_authorised"] is (row["status"] == "authorised") for row in found.values())
    follow_up = found["sales_follow_up"]
    if deciding is None:
        assert (follow_up["source_system"], follow_up["source_record_key"], follow_up["decided_at"]) == (None,) * 3
    else:
        assert follow_up["source_record_key"].split(":")[0] == deciding
        assert follow_up["source_system"] == "hubspot" and follow_up["decided_at"] is not None


def test_a_revocation_on_one_of_two_crm_contacts_stands(messy_db):
    case, authorising, revoked = TWO_CONTACTS
    found = authorisations(messy_db, case)
    assert {p: r["status"] for p, r in found.items()} == dict.fromkeys(PURPOSES, "refused")
    assert {r["source_record_key"] for r in found.values()} == {f"hubspot_contact:{revoked}"}


def test_dim_customers_reads_its_consent_and_purposes_from_the_mart(messy_db):
    with psycopg.connect(messy_db) as conn:
        differ = conn.execute(
            """
            select c.customer_id from marts.dim_customers as c
            left join marts.customer_authorisations as m
                on m.customer_id = c.customer_id and m.purpose = 'marketing'
            where c.has_marketing_consent is distinct from m.is_authorised
               or c.has_marketing_consent_source is distinct from m.source_record_key
               or c.authorised_purposes is distinct from array(
                    select a.purpose from marts.customer_authorisations as a
                    where a.customer_id = c.customer_id and a.is_authorised order by a.purpose)
            """).fetchall()
        purposes = {r[0] for r in conn.execute("select distinct purpose from marts.customer_authorisations")}
    assert differ == []
    assert purposes == set(PURPOSES)  # the dbt var and the activation spec name the same purposes


ONE_PER_PURPOSE = ["test", "--select", "assert_one_authorisation_per_customer_and_purpose"]


@pytest.mark.parametrize("change", [
    # a purpose not on the list in place of one that is: as many rows and distinct purposes as before
    "update marts.customer_authorisations set purpose = 'newsletter' where customer_id = %(c)s and purpose = 'analytics'",
    "delete from marts.customer_authorisations where customer_id = %(c)s and purpose = 'marketing'",
    "insert into marts.customer_authorisations select * from marts.customer_authorisations "
    "where customer_id = %(c)s and purpose = 'marketing'",
], ids=["unlisted_purpose", "missing_purpose", "doubled_purpose"])
def test_the_one_row_per_customer_and_purpose_check_fails_on_each_way_to_break_it(built_db, change):
    from puente.dbt import DbtFailed, run_dbt

    run_dbt(ONE_PER_PURPOSE, built_db)  # the built scenario passes
    with psycopg.connect(built_db, autocommit=True) as conn:
        conn.execute("create table marts.authorisations_kept as select * from marts.customer_authorisations")
        (customer,) = conn.execute("select min(customer_id) from marts.customer_authorisations").fetchone()
        assert conn.execute(change, {"c": customer}).rowcount == 1
    try:
        with pytest.raises(DbtFailed, match="assert_one_authorisation_per_customer_and_purpose"):
            run_dbt(ONE_PER_PURPOSE, built_db)
    finally:
        with psycopg.connect(built_db, autocommit=True) as conn:
            conn.execute("truncate marts.customer_authorisations")
            conn.execute("insert into marts.customer_authorisations select * from marts.authorisations_kept")
            conn.execute("drop table marts.authorisations_kept")
