"""Write-back to the simulated HubSpot over HTTP, audited in a real PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import date

import httpx
import psycopg
import pytest

from puente.config import HubSpotConfig
from puente.sources.http import SourceError
from puente.sources.hubspot import HubSpotConnector
from puente.writeback import PUENTE_PROPERTIES, WritebackError, write_back_scores

SCORES = {"puente_churn_score": "0.42", "puente_churn_risk": "high", "puente_scored_at": "2026-11-16T23:00:00.000Z"}


@pytest.fixture
def hubspot():
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=5, customers=260, start=date(2026, 11, 16), history_days=200)
    credentials, clock = Credentials(), ManualClock()
    with SimulatorServer(create_app(business, credentials, limits=Limits(clock=clock))) as server:
        config = HubSpotConfig(f"{server.base_url}/hubspot", credentials.hubspot_token)

        def client(token: str | None = None) -> HubSpotConnector:
            used = config if token is None else HubSpotConfig(config.url, token)
            return HubSpotConnector(used, sleep=clock.advance, rng=random.Random(0))

        yield business, config, client


def _sync_table(url: str, rows: list[tuple[str, dict]]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute("create table marts.crm_contact_scores_sync (hubspot_contact_id text primary key, "
                     "properties jsonb not null)")
        with conn.cursor() as cur:
            cur.executemany("insert into marts.crm_contact_scores_sync values (%s, %s::jsonb)",
                            [(cid, json.dumps(props)) for cid, props in rows])


def _audit(url: str) -> dict[str, tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select hubspot_contact_id, status, error from ops.crm_writeback").fetchall()
    return {cid: (status, error) for cid, status, error in rows}


def _live_contacts(business) -> list[str]:
    return [str(rid) for rid, r in business.hubspot["contacts"].items() if not r["archived"]]


def test_creates_the_properties_and_sets_them_on_every_contact(fresh_db, hubspot):
    business, config, client = hubspot
    contacts = _live_contacts(business)[:150]  # two batches of at most 100
    _sync_table(fresh_db, [(cid, SCORES) for cid in contacts])

    result = write_back_scores(fresh_db, config, client=client())
    assert result["contacts"] == result["sent"] == 150 and result["failed"] == 0
    assert result["properties_created"] == [p.name for p in PUENTE_PROPERTIES]
    assert _audit(fresh_db) == {cid: ("sent", None) for cid in contacts}

    headers = {"Authorization": f"Bearer {config.token}"}
    prop = httpx.get(f"{config.url}/crm/v3/properties/contacts/puente_churn_risk", headers=headers).json()
    assert prop["groupName"] == "puente" and [o["value"] for o in prop["options"]] == ["low", "medium", "high"]
    for cid in (contacts[0], contacts[-1]):
        got = httpx.get(f"{config.url}/crm/v3/objects/contacts/{cid}", headers=headers,
                        params={"properties": ",".join(SCORES)}).json()["properties"]
        assert {k: got[k] for k in SCORES} == SCORES

    again = write_back_scores(fresh_db, config, client=client())  # properties now exist
    assert again["properties_created"] == [] and again["sent"] == 150


def test_a_partial_failure_is_recorded_per_contact(fresh_db, hubspot):
    business, config, client = hubspot
    good = _live_contacts(business)[:3]
    archived = _live_contacts(business)[4]
    business.archive("hubspot", "contacts", int(archived))  # merged away in the CRM: writes to it fail
    bad_value = _live_contacts(business)[3]
    _sync_table(fresh_db, [*((cid, SCORES) for cid in good), ("999999999", SCORES), (archived, SCORES),
                           (bad_value, {**SCORES, "puente_churn_risk": "extreme"})])

    result = write_back_scores(fresh_db, config, client=client())
    assert (result["sent"], result["failed"]) == (3, 3)
    audit = _audit(fresh_db)
    assert all(audit[cid] == ("sent", None) for cid in good)
    assert audit["999999999"][0] == audit[archived][0] == "failed"
    assert audit["999999999"][1].startswith("OBJECT_NOT_FOUND")
    assert audit[bad_value][0] == "failed" and "'extreme' is not a valid value" in audit[bad_value][1]


def test_a_refused_batch_is_recorded_for_every_contact_and_raised(fresh_db, hubspot):
    business, config, client = hubspot
    contacts = _live_contacts(business)[:5]
    _sync_table(fresh_db, [(cid, SCORES) for cid in contacts])
    with pytest.raises(SourceError, match="HTTP 401"):
        write_back_scores(fresh_db, config, client=client("pat-na1-revoked"))
    audit = _audit(fresh_db)
    assert set(audit) == set(contacts)
    assert all(status == "failed" and error.startswith("not sent: HubSpot contacts") for status, error in audit.values())


def test_nothing_to_send_makes_no_request(fresh_db, hubspot):
    _, config, client = hubspot
    _sync_table(fresh_db, [])
    result = write_back_scores(fresh_db, config, client=client())
    assert (result["contacts"], result["requests"]) == (0, 0)


def test_a_missing_sync_table_says_what_to_run(fresh_db, hubspot):
    _, config, _ = hubspot
    with pytest.raises(WritebackError, match="crm_contact_scores_sync does not exist: build it first"):
        write_back_scores(fresh_db, config)


def test_batch_size_above_hubspots_limit_is_refused(fresh_db, hubspot):
    _, config, _ = hubspot
    with pytest.raises(ValueError, match="at most|between 1 and 100"):
        write_back_scores(fresh_db, config, batch_size=101)
