"""int_customer_record_keys derives a record's keys once per content: a build reads the previous one
and derives again only the records whose inputs, or the derivation itself, changed."""

from __future__ import annotations

import psycopg
import pytest

from puente.dbt import run_dbt

MODELS = ("int_customer_record_keys", "int_customer_records_unioned")
MARK = "cached "  # put before every kept name: a record derived again loses it
MEXICO = ("--vars", '{"default_country_code": "MX"}')  # a var the derivation reads


def _build(url: str, *extra: str) -> None:
    """The two models, and the CRM's contacts they read (HubSpot's staging table, which parses what
    landed since, the view over it, whose drop a full refresh of the table cascades to, and
    int_crm_contacts; the other staging the test does not change)."""
    run_dbt(["run", "--select", "stg_hubspot__contacts", "stg_hubspot__crm_people", "int_crm_contacts", *MODELS,
             *extra], url)


def _unioned(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("select * from intermediate.int_customer_records_unioned order by record_key").fetchall()


def _mark_every_record(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"update intermediate.int_customer_record_keys set name_normalized = '{MARK}' || name_normalized "
                     "where name_normalized is not null")


def _marked(url: str) -> dict[str, bool]:
    """Each named record: whether it still holds the mark, that is whether this build kept its keys."""
    with psycopg.connect(url) as conn:
        return dict(conn.execute("select record_key, name_normalized like %s from intermediate.int_customer_record_keys "
                                 "where name_normalized is not null", (f"{MARK}%",)).fetchall())


@pytest.fixture(scope="module")
def contact(built_db) -> str:
    """A HubSpot contact of the scenario whose surname is renamed in raw ('Quintero Test'): its record key."""
    with psycopg.connect(built_db) as conn:
        source_id = conn.execute("select source_id from raw.hubspot_contacts where record->'properties'->>'lastname' "
                                 "is not null order by source_id limit 1").fetchone()[0]
    return f"hubspot_contact:{source_id}"


def _rename(url: str, record_key: str, surname: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("update raw.hubspot_contacts set record = jsonb_set(record, '{properties,lastname}', to_jsonb(%s::text)), "
                     "_loaded_at = now() where source_id = %s", (surname, record_key.split(":", 1)[1]))


def test_a_build_that_keeps_keys_gives_what_deriving_every_record_gives(built_db, contact):
    _rename(built_db, contact, "Quintero Test")
    _build(built_db)
    kept = _unioned(built_db)
    with psycopg.connect(built_db) as conn:
        name = conn.execute("select name_normalized from intermediate.int_customer_records_unioned where record_key = %s",
                            (contact,)).fetchone()[0]
        conn.execute("truncate intermediate.int_customer_record_keys")
    assert name.endswith("quintero test")
    _build(built_db)
    assert _unioned(built_db) == kept


def test_only_a_record_whose_inputs_changed_is_derived_again(built_db, contact):
    _mark_every_record(built_db)
    _rename(built_db, contact, "Quintero Otra")
    _build(built_db)
    marked = _marked(built_db)
    assert marked.pop(contact) is False
    assert marked and all(marked.values()), [key for key, kept in marked.items() if not kept]
    with psycopg.connect(built_db) as conn:
        assert conn.execute("select name_normalized from intermediate.int_customer_records_unioned where record_key = %s",
                            (contact,)).fetchone()[0].endswith("quintero otra")


def test_a_changed_derivation_derives_every_record_again(built_db):
    _mark_every_record(built_db)
    _build(built_db, *MEXICO)
    assert not any(_marked(built_db).values())


def test_a_full_refresh_derives_every_record_again(built_db):
    _mark_every_record(built_db)
    _build(built_db, *MEXICO, "--full-refresh")  # the derivation of the build before
    assert not any(_marked(built_db).values())


def test_a_previous_build_without_a_column_of_this_one_derives_every_record_again(built_db):
    _build(built_db)
    _mark_every_record(built_db)
    with psycopg.connect(built_db) as conn:  # as a table an older Puente built would be
        conn.execute("alter table intermediate.int_customer_record_keys drop column key_country cascade")
    _build(built_db)
    assert not any(_marked(built_db).values())
    with psycopg.connect(built_db) as conn:
        assert conn.execute("select count(*) from intermediate.int_customer_record_keys where key_country is null"
                            ).fetchone()[0] == 0
