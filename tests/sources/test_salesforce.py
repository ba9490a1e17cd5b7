"""Salesforce: the connector against a scripted org (httpx.MockTransport) for the session refreshed
once, the daily quota and its stop, then against the simulator over HTTP into a real PostgreSQL for
the faults a night meets (the concurrency limit's 403 REQUEST_LIMIT_EXCEEDED, 5xx, timeouts,
malformed records, a deletion, a crash mid-run and its resume through nextRecordsUrl pages)."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date

import httpx
import psycopg
import pytest

from puente.extract import ExtractionFailed, extract_source
from puente.sources import registry
from puente.sources.http import RetryPolicy, SourceError
from puente.sources.salesforce import SalesforceConfig, SalesforceConnector
from puente.sources.salesforce.connector import QuotaExhausted
from puente.warehouse import raw_object

LOGIN = "https://casa.my.salesforce.com"
TODAY = date(2026, 11, 16)
CONFIG = SalesforceConfig(LOGIN, "3MVG9key", "s3cr3t-value")


class Org:
    """A scripted org: tokens on /services/oauth2/token, one queryAll page, scripted refusals."""

    def __init__(self, refusals: list[tuple[int, str, str]] | None = None, usage: str = "10/1000"):
        self.refusals, self.usage, self.tokens, self.seen = list(refusals or []), usage, 0, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/services/oauth2/token":
            assert b"grant_type=client_credentials" in request.content and b"client_secret=s3cr3t-value" in request.content
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"00D!{self.tokens}", "instance_url": LOGIN,
                                             "token_type": "Bearer"})
        self.seen.append((request.headers["Authorization"], request.url.params.get("q")))
        headers = {"Sforce-Limit-Info": f"api-usage={self.usage}"}
        if self.refusals:
            status, code, message = self.refusals.pop(0)
            return httpx.Response(status, json=[{"message": message, "errorCode": code, "fields": []}], headers=headers)
        record = {"attributes": {"type": "Contact"}, "Id": "0035g00000000001AAA", "IsDeleted": False,
                  "SystemModstamp": "2026-11-16T10:00:00.000+0000", "Email": "a@b.co", "Secret__c": "never lands"}
        return httpx.Response(200, json={"totalSize": 1, "done": True, "records": [record]}, headers=headers)


def connector(org: Org, **options) -> SalesforceConnector:
    return SalesforceConnector(CONFIG, transport=httpx.MockTransport(org), sleep=lambda s: None, **options)


def test_the_walk_asks_queryall_on_systemmodstamp_and_lands_only_the_declared_fields():
    org = Org()
    pages = list(connector(org).extract("contacts", "2026-11-16T09:00:00.000+0000"))
    (auth, soql), = org.seen
    assert auth == "Bearer 00D!1"
    assert soql.startswith("SELECT Id, SystemModstamp, IsDeleted, FirstName") and " FROM Contact WHERE " in soql
    assert "SystemModstamp >= 2026-11-16T08:00:00Z" in soql and soql.endswith("ORDER BY SystemModstamp ASC, Id ASC")
    record = pages[0].records[0]
    assert record.source_id == "0035g00000000001AAA" and "Secret__c" not in record.payload
    assert pages[-1].cursor == "2026-11-16T10:00:00.000+0000"


def test_an_expired_session_is_refreshed_once_and_a_second_refusal_stops_with_advice():
    expired = (401, "INVALID_SESSION_ID", "Session expired or invalid")
    org = Org([expired])
    walk = connector(org)
    assert len(list(walk.extract("contacts", None))[0].records) == 1
    assert org.tokens == 2 and [a for a, _ in org.seen] == ["Bearer 00D!1", "Bearer 00D!2"]

    org = Org([expired, expired])
    with pytest.raises(SourceError, match="INVALID_SESSION_ID") as failure:
        list(connector(org).extract("contacts", None))
    assert org.tokens == 2 and "consumer key" in failure.value.advice and "s3cr3t" not in str(failure.value) and "00D!" not in str(failure.value)


def test_the_concurrency_limit_passes_and_5xx_are_retried_but_the_daily_limit_stops_at_once():
    org = Org([(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
               (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")])
    assert len(list(connector(org).extract("contacts", None))[0].records) == 1 and len(org.seen) == 3

    org = Org([(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")])
    with pytest.raises(QuotaExhausted, match="TotalRequests") as failure:
        list(connector(org).extract("contacts", None))
    assert len(org.seen) == 1 and "rerun" in failure.value.advice


def test_the_walk_stops_cleanly_before_it_eats_into_the_quota_it_leaves_the_business():
    org = Org(usage="950/1000")  # the reserve is 10%: 900 used is the line
    walk = connector(org)
    pages = walk.extract("contacts", None)
    assert len(next(pages).records) == 1 and walk.api_usage == (950, 1000)
    with pytest.raises(QuotaExhausted, match="950 of its 1000"):
        walk.count("contacts")
    assert len(org.seen) == 1  # no request was spent past the line


# ------------------------------------------------------------------ the simulator, a real warehouse


@contextmanager
def simulator(faults=None, **limits):
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=11, customers=900, start=TODAY, history_days=300, crm="salesforce")
    credentials, clock = Credentials(), ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock, **limits), faults=faults)
    with SimulatorServer(app) as server:
        yield business, registry.source("salesforce").simulator(server.base_url, credentials), clock


def landed(url: str, obj: str) -> dict[str, tuple[str, bool]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select source_id, record->>'SystemModstamp', _deleted from "
                            f"{raw_object('salesforce', obj).qualified_table}").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def served(business, sobject: str) -> dict[str, tuple[str, bool]]:
    return {r["Id"]: (r["SystemModstamp"], r["IsDeleted"]) for r in business.salesforce.table(sobject)}


def test_faults_a_crash_mid_walk_and_the_rerun_end_exact_with_bad_records_quarantined_and_deletes_seen(fresh_db):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(too_many_requests=0.1, server_error=0.1, timeout=0.05, malformed=0.03)
    with simulator(Faults(seed=4, salesforce=rates, hang_seconds=2.0)) as (business, config, clock):
        options = {"batch_size": 200, "sleep": clock.advance, "rng": random.Random(0),
                   "timeout": httpx.Timeout(2.0, read=1.0), "retry": RetryPolicy(attempts=8)}
        assert len(served(business, "Contact")) > 400  # three pages of 200 at least

        class CrashAfterTwoPages(SalesforceConnector):
            def extract(self, obj, cursor, until=None):
                for n, page in enumerate(super().extract(obj, cursor, until), 1):
                    yield page
                    if n == 2 and obj == "contacts":
                        raise ConnectionResetError("simulated crash after page 2")

        with pytest.raises(ExtractionFailed, match="simulated crash"):
            extract_source(fresh_db, "salesforce", config, TODAY, connector=CrashAfterTwoPages(config, **options))
        with psycopg.connect(fresh_db) as conn:
            kept = conn.execute("select cursor from ops.extract_state where source = 'salesforce' "
                                "and object = 'contacts'").fetchone()
        assert kept is not None  # a sorted walk keeps the cursor of its last committed page

        walk = SalesforceConnector(config, **options)
        summary = extract_source(fresh_db, "salesforce", config, TODAY, connector=walk)
        assert summary["contacts"]["status"] == "ok" and walk.api_usage and walk.api_usage[0] > 5
        with psycopg.connect(fresh_db) as conn:
            quarantined = conn.execute("select count(*) from ops.quarantine where source = 'salesforce'").fetchone()[0]
        assert quarantined, "some records were served malformed"
        want, got = served(business, "Contact"), landed(fresh_db, "contacts")
        assert got.items() <= want.items() and len(set(want) - set(got)) <= quarantined

        # the next day: a contact deleted (Recycle Bin) and one edited; both reach raw
        business.advance_day()
        gone, edited = [n for n, r in business.hubspot["contacts"].items()
                        if not r["archived"] and r["properties"].get("lifecyclestage") != "lead"][:2]
        business.crm.archive("contacts", gone, business.now())
        business.crm.update("contacts", edited, {"phone": "+57 300 000 0000"}, business.now())
        extract_source(fresh_db, "salesforce", config, TODAY, connector=SalesforceConnector(config, **options))
        got = landed(fresh_db, "contacts")
        want = served(business, "Contact")
        assert {k: v for k, v in want.items() if k in got} == got
        from puente.simulators.business.salesforce import sf_id
        assert got[sf_id("Contact", gone)][1] is True and got[sf_id("Contact", edited)][1] is False


def test_the_daily_quota_of_the_simulated_org_stops_the_night_with_its_pages_kept(fresh_db):
    with simulator(salesforce_daily_requests=2) as (_business, config, clock):
        walk = SalesforceConnector(config, batch_size=200, sleep=clock.advance, quota_reserve=0.0)
        with pytest.raises(ExtractionFailed, match="TotalRequests|daily API requests"):
            extract_source(fresh_db, "salesforce", config, TODAY, connector=walk, objects=["contacts"])
        assert len(landed(fresh_db, "contacts")) >= 200  # the pages read before the stop are kept


def test_the_writer_sends_200_records_a_collection_and_reports_each_records_error():
    from puente.activation.writers import Row
    from puente.simulators.business.salesforce import sf_id
    from puente.sources.salesforce.writer import SalesforceWriter

    with simulator() as (business, config, clock):
        org = business.salesforce
        contacts = [r["Id"] for r in org.table("Contact") if not r["IsDeleted"]][:250]
        lead = next(r["Id"] for r in org.table("Lead") if not r["IsDeleted"] and not r["IsConverted"])
        gone = contacts.pop()
        business.crm.archive("contacts", org.contact_number(gone), business.now())
        rows = [Row(c, c, None, {"puente_churn_score": "0.4200", "puente_churn_risk": "medium"}) for c in contacts]
        rows += [Row(gone, gone, None, {"puente_churn_score": "0.1"}), Row(lead, lead, None, {"puente_churn_score": "0.1"}),
                 Row("bad", contacts[0], None, {"puente_churn_reasons": ""})]
        writer = SalesforceWriter(config, sleep=clock.advance)
        before = writer.requests_made
        outcomes = {o.row_key: o for o in writer.write("contacts", "update", rows)}
        assert writer.requests_made - before == 3  # a token, then 250 records in two collections of 200 at most
        assert all(outcomes[c].ok for c in contacts) and outcomes["bad"].ok
        assert not outcomes[gone].ok and "ENTITY_IS_DELETED" in outcomes[gone].error
        assert not outcomes[lead].ok and "convert the lead" in outcomes[lead].error
        shown = {r["Id"]: r for r in org.table("Contact")}
        assert shown[contacts[5]]["Puente_Churn_Score__c"] == "0.4200" and shown[contacts[0]]["Puente_Churn_Reasons__c"] is None

        owner = sf_id("User", 41629779)
        task = {"hs_task_subject": "Churn risk: call", "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH",
                "hs_task_type": "CALL", "hs_timestamp": "2026-11-17T14:00:00.000Z", "hubspot_owner_id": owner}
        rows = [Row("churn:a", None, "churn:a", {"properties": task, "contact_id": contacts[1]}),
                Row("churn:b", None, "churn:b", {"properties": task, "contact_id": lead}),
                Row("churn:c", None, "churn:c", {"properties": task, "contact_id": None})]
        first = {o.row_key: o for o in writer.write("tasks", "create", rows)}
        assert first["churn:a"].ok and first["churn:b"].ok and first["churn:a"].target_id.startswith("00T")
        assert not first["churn:c"].ok and "REQUIRED_FIELD_MISSING" in first["churn:c"].error
        again = {o.row_key: o for o in writer.write("tasks", "create", rows[:1])}  # a run that never booked it
        assert again["churn:a"].operation == "adopt" and again["churn:a"].target_id == first["churn:a"].target_id
        assert writer.lookup("tasks", ["churn:a", "churn:z"]) == {"churn:a": first["churn:a"].target_id}
        made = org.table("Task")
        assert len(made) == 2 and made[0]["WhoId"] == contacts[1] and made[0]["Priority"] == "High"
        assert made[0]["ActivityDate"] == "2026-11-17" and made[0]["OwnerId"] == owner

        # Habeas Data: the tasks Puente made for an erased person are emptied, then deleted; one already gone is done
        erased = writer.erase_tasks([first["churn:a"].target_id, sf_id("Task", 999)])
        assert [o.ok for o in erased] == [True, True]
        assert [t["Puente_Task_Key__c"] for t in org.table("Task")] == ["churn:b"]
        writer.close()


def test_puente_check_accepts_the_app_reports_the_quota_and_names_a_refused_secret():
    with simulator() as (_business, config, _clock):
        findings = registry.source("salesforce").check(config)
        assert all(f.ok for f in findings) and {f.check for f in findings} == {
            "connection", "credentials", "quota", "rights"}
        refused = registry.source("salesforce").check(SalesforceConfig(config.url, config.client_id, "wrong"))
        assert [(f.check, f.ok) for f in refused] == [("connection", True), ("credentials", False)]
        assert "consumer key and secret" in refused[1].message and "wrong" not in refused[1].message
