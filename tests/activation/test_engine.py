"""The activation engine against the simulated HubSpot over HTTP, booked in a real PostgreSQL.

Each test declares an activation on a table shaped like an activation model (the contract's
columns) and runs the engine on it: the diff, the dry run, the audit, the work list, retries on
later runs, owned fields, the customer's authorisation (Habeas Data), the lock and an operator's drop.
"""

from __future__ import annotations

import random
import threading
from datetime import date

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from puente.activation.engine import (
    ActivationBusy,
    ActivationModelMissing,
    UnknownRowKeys,
    drop_rows,
    run_activation,
)
from puente.activation.pacing import Pacer
from puente.activation.spec import MODEL_TABLE_COLUMNS, PURPOSES, Activation, load_activations
from puente.sources.http import SourceError
from puente.sources.hubspot import HubSpotConfig, HubSpotConnector
from puente.sources.hubspot.writer import PUENTE_PROPERTIES, HubSpotWriter

SCORES = {"puente_churn_score": "0.42", "puente_churn_risk": "high", "puente_scored_at": "2026-11-16T23:00:00.000Z"}
ACTIVATION = Activation(name="test_scores", model="act_test_scores", relation="activations.act_test_scores",
                        target="hubspot", object="contacts", mode="update",
                        owns=tuple(spec.name for spec in PUENTE_PROPERTIES), batch_size=100)
DAY = date(2026, 11, 16)


@pytest.fixture
def hubspot():
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    business = Business(seed=5, customers=260, start=DAY, history_days=200)
    credentials, clock = Credentials(), ManualClock()
    with SimulatorServer(create_app(business, credentials, limits=Limits(clock=clock))) as server:
        config = HubSpotConfig(f"{server.base_url}/hubspot", credentials.hubspot_token)

        def writer(token: str | None = None) -> HubSpotWriter:
            used = config if token is None else HubSpotConfig(config.url, token)
            connector = HubSpotConnector(used, sleep=clock.advance, rng=random.Random(0),
                                         pacer=Pacer(100, 10.0, clock=clock, sleep=clock.advance))
            return HubSpotWriter(used, connector=connector)

        yield business, config, writer


def _model(url: str, rows: list[dict], relation: str = ACTIVATION.relation) -> None:
    """(Re)create an activation model table holding ``rows`` (contract columns, defaults null)."""
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists activations")
        conn.execute(f"drop table if exists {relation}")
        conn.execute(f"create table {relation} ({MODEL_TABLE_COLUMNS})")
        for row in rows:
            conn.execute(f"insert into {relation} (row_key, target_id, external_key, payload, compare, observed_at, "
                         "invalid_reason, customer_id, context) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                         (row["row_key"], row.get("target_id", row["row_key"]), row.get("external_key"),
                          Jsonb(row["payload"]), Jsonb(row["compare"]) if "compare" in row else None,
                          row.get("observed_at"), row.get("invalid_reason"), row.get("customer_id"),
                          Jsonb(row.get("context") or {})))


def _authorisations(url: str, granted: dict[str, tuple[str, ...]]) -> None:
    """(Re)create marts.customer_authorisations: each customer authorised exactly the purposes given."""
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute("drop table if exists marts.customer_authorisations")
        conn.execute("create table marts.customer_authorisations (customer_id text, purpose text, "
                     "is_authorised boolean not null)")
        for customer, purposes in granted.items():
            for purpose in PURPOSES:
                conn.execute("insert into marts.customer_authorisations values (%s, %s, %s)",
                             (customer, purpose, purpose in purposes))


def _scores(contacts: list[str], **overrides) -> list[dict]:
    return [{"row_key": cid, "payload": {**SCORES, **overrides}} for cid in contacts]


def _query(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


def _live_contacts(business) -> list[str]:
    return [str(rid) for rid, r in business.hubspot["contacts"].items() if not r["archived"]]


def _crm(config: HubSpotConfig, contact_id: str) -> dict:
    return httpx.get(f"{config.url}/crm/v3/objects/contacts/{contact_id}", params={"properties": ",".join(SCORES)},
                     headers={"Authorization": f"Bearer {config.token}"}).json()["properties"]


def test_sends_in_batches_then_only_what_changed(fresh_db, hubspot):
    business, config, writer = hubspot
    contacts = _live_contacts(business)[:150]  # two batches of at most 100
    _model(fresh_db, _scores(contacts))

    first = run_activation(fresh_db, ACTIVATION, writer(), logical_date=DAY)
    assert (first.rows, first.pending, first.sent, first.failed) == (150, 150, 150, 0)
    assert {k: _crm(config, contacts[-1])[k] for k in SCORES} == SCORES
    prop = httpx.get(f"{config.url}/crm/v3/properties/contacts/puente_churn_risk",
                     headers={"Authorization": f"Bearer {config.token}"}).json()
    assert prop["groupName"] == "puente" and [o["value"] for o in prop["options"]] == ["low", "medium", "high"]
    audit = _query(fresh_db, "select status, count(*) as n from ops.activation_audit group by status")
    assert audit == [{"status": "sent", "n": 150}]

    again = run_activation(fresh_db, ACTIVATION, writer(), logical_date=DAY)
    assert (again.pending, again.sent, again.requests) == (0, 0, 0)  # nothing changed, nothing asked

    _model(fresh_db, [*_scores(contacts[:1], puente_churn_risk="low"), *_scores(contacts[1:])])
    changed = run_activation(fresh_db, ACTIVATION, writer(), logical_date=DAY)
    assert (changed.pending, changed.sent) == (1, 1)
    (row,) = _query(fresh_db, "select fields_old, fields_new from ops.activation_audit "
                              "where row_key = %s order by audit_id desc limit 1", contacts[0])
    assert row == {"fields_old": {"puente_churn_risk": "high"}, "fields_new": {"puente_churn_risk": "low"}}


def test_compare_decides_what_is_a_change(fresh_db, hubspot):
    business, _, writer = hubspot
    (contact,) = _live_contacts(business)[:1]
    _model(fresh_db, [{"row_key": contact, "payload": SCORES, "compare": {"risk": "high"}}])
    assert run_activation(fresh_db, ACTIVATION, writer()).sent == 1
    # the score moved, but not what a salesperson would notice: nothing is sent
    _model(fresh_db, [{"row_key": contact, "payload": {**SCORES, "puente_churn_score": "0.43"},
                       "compare": {"risk": "high"}}])
    assert run_activation(fresh_db, ACTIVATION, writer()).pending == 0


def test_a_compare_with_decimals_is_not_a_change_the_next_run(fresh_db, hubspot):
    """The accepted compare is hashed as PostgreSQL writes it: numbers with trailing zeros (an ERP
    line's discount of 0.0000, a quantity of 2.50) stay as they are, not as a round trip through
    Python writes them (0.0, 2.5), so an unchanged row is not sent again every run."""
    business, _, writer = hubspot
    (contact,) = _live_contacts(business)[:1]
    _model(fresh_db, [{"row_key": contact, "payload": SCORES}])
    with psycopg.connect(fresh_db) as conn:
        conn.execute(f"update {ACTIVATION.relation} set compare = "
                     """'{"quantity": 2.50, "discount": 0.0000, "risk": "high"}'::jsonb""")
    assert run_activation(fresh_db, ACTIVATION, writer()).sent == 1
    again = run_activation(fresh_db, ACTIVATION, writer())
    assert (again.pending, again.sent) == (0, 0)


def test_refused_rows_are_audited_listed_and_retried_until_accepted(fresh_db, hubspot):
    business, _, writer = hubspot
    good = _live_contacts(business)[:3]
    bad_value = _live_contacts(business)[3]
    _model(fresh_db, [*_scores(good), {"row_key": "999999999", "payload": SCORES},
                      {"row_key": bad_value, "payload": {**SCORES, "puente_churn_risk": "extreme"},
                       "context": {"what": "contact of Ana"}}])

    result = run_activation(fresh_db, ACTIVATION, writer())
    assert (result.sent, result.failed) == (3, 2)
    failed = {r["row_key"]: r for r in _query(fresh_db, "select * from ops.activation_audit where status = 'failed'")}
    assert failed["999999999"]["error"].startswith("OBJECT_NOT_FOUND")  # HubSpot's own words
    assert "'extreme' is not a valid value" in failed[bad_value]["error"]
    work = {r["row_key"]: r for r in _query(fresh_db, "select * from ops.activation_issues")}
    assert set(work) == {"999999999", bad_value} and work[bad_value]["attempts"] == 1
    assert work[bad_value]["reason"].startswith("hubspot refused it:")

    retry = run_activation(fresh_db, ACTIVATION, writer())  # the next night: only the refused rows again
    assert (retry.pending, retry.sent, retry.failed) == (2, 0, 2)
    assert _query(fresh_db, "select attempts from ops.activation_issues where row_key = %s", bad_value) == \
        [{"attempts": 2}]

    _model(fresh_db, [*_scores(good), *_scores([bad_value])])  # fixed upstream; the unknown contact gone
    fixed = run_activation(fresh_db, ACTIVATION, writer())
    assert (fixed.sent, fixed.failed) == (1, 0)
    assert _query(fresh_db, "select * from ops.activation_issues") == []


def test_dry_run_sends_nothing_and_moves_nothing(fresh_db, hubspot):
    business, config, writer = hubspot
    contacts = _live_contacts(business)[:5]
    before = _crm(config, contacts[0])
    _model(fresh_db, [*_scores(contacts[:4]),
                      {"row_key": contacts[4], "payload": SCORES, "invalid_reason": "no contact owner"}])

    result = run_activation(fresh_db, ACTIVATION, None, dry_run=True)
    assert (result.pending, result.invalid, result.sent, result.requests) == (5, 1, 0, 0)
    assert result.reasons == {"no contact owner": 1}
    assert result.samples[0] == {"row_key": contacts[0], "target_id": contacts[0], "external_key": None,
                                 "payload": SCORES}
    assert _crm(config, contacts[0]) == before
    for table in ("ops.activation_state", "ops.activation_audit", "ops.activation_issues"):
        assert _query(fresh_db, f"select count(*) as n from {table}") == [{"n": 0}]
    (run,) = _query(fresh_db, "select dry_run, rows_pending, rows_invalid, samples from ops.activation_runs")
    assert run["dry_run"] and run["rows_pending"] == 5 and len(run["samples"]) == 3
    # what the DAG task hands to Airflow (its XCom) has the counts, not the sample payloads or reasons
    summary = result.summary()
    assert "samples" not in summary and (summary["pending"], summary["invalid"], summary["reasons"]) == (5, 1, 1)
    assert "no contact owner" not in str(summary)

    real = run_activation(fresh_db, ACTIVATION, writer())  # the dry run left everything pending
    assert (real.sent, real.invalid) == (4, 1)
    (issue,) = _query(fresh_db, "select kind, reason, attempts from ops.activation_issues")
    assert issue == {"kind": "invalid", "reason": "no contact owner", "attempts": 0}


def test_fields_it_does_not_own_and_missing_authorisation_are_never_sent(fresh_db, hubspot):
    business, config, writer = hubspot
    owner, foreign, refused, authorised = _live_contacts(business)[:4]
    _model(fresh_db, [{"row_key": foreign, "payload": {**SCORES, "email": "x@example.com"}, "customer_id": "c1"},
                      {"row_key": refused, "payload": SCORES, "customer_id": "c2"},
                      {"row_key": authorised, "payload": SCORES, "customer_id": "c3"},
                      {"row_key": owner, "payload": SCORES}])  # no customer: nobody authorised it
    _authorisations(fresh_db, {"c1": PURPOSES, "c2": ("marketing", "sales_follow_up"), "c3": ("analytics",)})
    analytics = Activation(**{**ACTIVATION.__dict__, "purposes": ("analytics",)})

    result = run_activation(fresh_db, analytics, writer())
    assert (result.sent, result.invalid, result.withheld) == (1, 1, 2)
    assert "Puente does not own email in hubspot contacts" in next(iter(result.reasons))
    assert _crm(config, authorised)["puente_churn_risk"] == "high"
    assert _crm(config, refused)["puente_churn_risk"] is None
    assert _crm(config, foreign)["puente_churn_risk"] is None


def test_a_purpose_bound_activation_needs_the_authorisations_mart(fresh_db, hubspot):
    business, _, writer = hubspot
    _model(fresh_db, _scores(_live_contacts(business)[:1]))
    with psycopg.connect(fresh_db) as conn:
        conn.execute("drop table if exists marts.customer_authorisations")
    with pytest.raises(ActivationModelMissing, match="customer_authorisations does not exist"):
        run_activation(fresh_db, Activation(**{**ACTIVATION.__dict__, "purposes": ("analytics",)}), writer())


@pytest.fixture(scope="module")
def declared():
    from puente.dbt import ensure_manifest

    return {a.name: a for a in load_activations(ensure_manifest())}


def test_every_crm_activation_names_its_purposes(declared):
    """What Puente writes about a customer into the CRM is produced only for the purposes they
    authorised; an order, a cancellation or stock carries what the sale itself needs."""
    assert {name: a.purposes for name, a in declared.items() if a.purposes} == {
        "crm_contact_scores": ("analytics",), "service_due_dates": ("sales_follow_up",),
        "service_reminder_tasks": ("sales_follow_up",), "churn_risk_tasks": ("sales_follow_up", "marketing")}
    assert all(a.purposes for a in declared.values() if a.target == "hubspot")


def _rows_for(activation: Activation, business, contacts: list[str]) -> list[dict]:
    """One row per contact for the declared activation, as its model would make it."""
    if activation.object == "tasks":
        owners = {str(i): r["properties"].get("hubspot_owner_id") for i, r in business.hubspot["contacts"].items()}
        return [{"row_key": f"{activation.name}:{cid}", "target_id": None,
                 "external_key": f"{activation.name}:{cid}", "compare": {"task": f"{activation.name}:{cid}"},
                 "payload": {"contact_id": cid, "properties": {
                     "hs_timestamp": "2026-11-17T14:00:00.000Z", "hs_task_subject": "Call",
                     "hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH", "hs_task_type": "CALL",
                     "hubspot_owner_id": owners[cid]}}} for cid in contacts]
    fields = {"puente_churn_score": "0.42", "puente_churn_risk": "high", "puente_scored_at": "2026-11-16T23:00:00.000Z",
              "puente_service_due_date": "2026-12-01", "puente_service_reason": "Yearly check: Nevera"}
    return [{"row_key": cid, "payload": {k: v for k, v in fields.items() if k in activation.owns}} for cid in contacts]


def _tasks_of(business, contact_id: str) -> list[int]:
    """The tasks associated with a contact (the business makes none itself: these are Puente's)."""
    return business.hubspot_associations.get(("contacts", int(contact_id)), {}).get("tasks") or []


@pytest.mark.parametrize("name", ["crm_contact_scores", "service_due_dates", "service_reminder_tasks",
                                  "churn_risk_tasks"])
def test_each_crm_action_refuses_a_customer_without_its_purposes(fresh_db, hubspot, declared, name):
    business, config, writer = hubspot
    activation = declared[name]
    owned = [str(i) for i, r in business.hubspot["contacts"].items()
             if not r["archived"] and r["properties"].get("hubspot_owner_id")]
    authorised, *lacking = owned[:1 + len(activation.purposes)]
    rows = _rows_for(activation, business, [authorised, *lacking])
    granted = {"c-all": PURPOSES}
    for n, (row, missing) in enumerate(zip(rows[1:], activation.purposes, strict=True)):
        granted[f"c-{n}"] = tuple(p for p in PURPOSES if p != missing)  # every purpose but one it needs
        row["customer_id"] = f"c-{n}"
    rows[0]["customer_id"] = "c-all"
    _model(fresh_db, rows, activation.relation)
    _authorisations(fresh_db, granted)

    result = run_activation(fresh_db, activation, writer(), logical_date=DAY)
    assert (result.pending, result.sent, result.withheld) == (len(rows), 1, len(rows) - 1)
    sent = _query(fresh_db, "select row_key from ops.activation_audit where activation = %s", name)
    assert sent == [{"row_key": rows[0]["row_key"]}]
    if activation.object == "tasks":
        assert _tasks_of(business, authorised) and not any(_tasks_of(business, cid) for cid in lacking)
    else:
        shown = {cid: httpx.get(f"{config.url}/crm/v3/objects/contacts/{cid}",
                                params={"properties": ",".join(activation.owns)},
                                headers={"Authorization": f"Bearer {config.token}"}).json()["properties"]
                 for cid in (authorised, *lacking)}
        field = next(iter(rows[0]["payload"]))
        assert shown[authorised][field] == rows[0]["payload"][field]
        assert all(shown[cid].get(field) in (None, "") for cid in lacking)


def test_a_withdrawn_authorisation_clears_the_fields_puente_wrote(fresh_db, hubspot):
    business, config, writer = hubspot
    contact, other = _live_contacts(business)[:2]
    analytics = Activation(**{**ACTIVATION.__dict__, "purposes": ("analytics",)})
    _model(fresh_db, [{"row_key": contact, "payload": SCORES, "customer_id": "c1"},
                      {"row_key": other, "payload": SCORES, "customer_id": "c2"}])
    _authorisations(fresh_db, {"c1": PURPOSES, "c2": PURPOSES})
    assert run_activation(fresh_db, analytics, writer()).sent == 2

    # c1 withdraws; the model still scores them (a higher risk tonight)
    _model(fresh_db, [{"row_key": contact, "payload": {**SCORES, "puente_churn_score": "0.9"}, "customer_id": "c1"},
                      {"row_key": other, "payload": SCORES, "customer_id": "c2"}])
    _authorisations(fresh_db, {"c1": ("marketing",), "c2": PURPOSES})
    withdrawn = run_activation(fresh_db, analytics, writer())
    assert (withdrawn.pending, withdrawn.sent, withdrawn.cleared, withdrawn.withheld) == (1, 1, 1, 0)
    assert {k: _crm(config, contact)[k] for k in SCORES} == dict.fromkeys(SCORES)  # HubSpot reads "" as unset
    assert _crm(config, other)["puente_churn_risk"] == "high"
    # the next night there is nothing left to clear: withheld, nothing sent
    again = run_activation(fresh_db, analytics, writer())
    assert (again.pending, again.sent, again.withheld, again.requests) == (1, 0, 1, 0)
    # authorised again: the score is sent again
    _authorisations(fresh_db, {"c1": PURPOSES, "c2": PURPOSES})
    back = run_activation(fresh_db, analytics, writer())
    assert (back.sent, back.cleared) == (1, 0) and _crm(config, contact)["puente_churn_score"] == "0.9"


def test_a_target_that_refuses_everything_fails_the_run_and_loses_nothing(fresh_db, hubspot):
    business, _, writer = hubspot
    contacts = _live_contacts(business)[:5]
    _model(fresh_db, _scores(contacts))
    with pytest.raises(SourceError, match="HTTP 401"):
        run_activation(fresh_db, ACTIVATION, writer("pat-na1-revoked"))
    issues = _query(fresh_db, "select row_key, kind, target_error from ops.activation_issues order by row_key")
    assert [i["row_key"] for i in issues] == sorted(contacts)
    assert all(i["kind"] == "failed" and "HTTP 401" in i["target_error"] for i in issues)
    (run,) = _query(fresh_db, "select rows_failed, message from ops.activation_runs")
    assert run["rows_failed"] == 5 and "HTTP 401" in run["message"]
    assert run_activation(fresh_db, ACTIVATION, writer()).sent == 5  # the next run sends them all


def test_an_observed_target_that_drifted_is_set_again(fresh_db, hubspot):
    business, _, writer = hubspot
    (contact,) = _live_contacts(business)[:1]
    with psycopg.connect(fresh_db) as conn:
        before = conn.execute("select now()").fetchone()[0]
    _model(fresh_db, [{"row_key": contact, "payload": SCORES, "observed_at": before}])
    assert run_activation(fresh_db, ACTIVATION, writer()).sent == 1
    # a rerun before the target is read again sends nothing …
    assert run_activation(fresh_db, ACTIVATION, writer()).pending == 0
    # … but once it was read again after our write and still differs, the row goes out again
    with psycopg.connect(fresh_db) as conn:
        later = conn.execute("select now() + interval '1 minute'").fetchone()[0]
    _model(fresh_db, [{"row_key": contact, "payload": SCORES, "observed_at": later}])
    assert run_activation(fresh_db, ACTIVATION, writer()).sent == 1


def test_dropped_rows_leave_the_work_list_and_are_not_retried(fresh_db, hubspot):
    _, _, writer = hubspot
    _model(fresh_db, _scores(["999999999"]))
    assert run_activation(fresh_db, ACTIVATION, writer()).failed == 1
    assert drop_rows(fresh_db, ACTIVATION.name, ["999999999"], "contact merged away", "ana") == 1
    again = run_activation(fresh_db, ACTIVATION, writer())
    assert (again.pending, again.failed) == (0, 0)
    assert _query(fresh_db, "select * from ops.activation_issues") == []


def test_only_rows_the_activation_knows_can_be_dropped(fresh_db, hubspot):
    business, _, writer = hubspot
    (contact,) = _live_contacts(business)[:1]
    _model(fresh_db, _scores(["999999999", contact]))
    assert run_activation(fresh_db, ACTIVATION, writer()).failed == 1
    # a made-up key (or one of another activation's) is refused, and with it the whole command
    for keys in (["123456789"], ["999999999", "123456789"]):
        with pytest.raises(UnknownRowKeys, match="123456789"):
            drop_rows(fresh_db, ACTIVATION.name, keys, "typo", "ana")
    with pytest.raises(UnknownRowKeys):
        drop_rows(fresh_db, "another_activation", ["999999999"], "typo", "ana")
    assert _query(fresh_db, "select * from ops.activation_dropped") == []
    assert len(_query(fresh_db, "select * from ops.activation_issues")) == 1
    # the work list's row, a row its target accepted, and a row dropped before (a new reason) are known
    assert drop_rows(fresh_db, ACTIVATION.name, ["999999999", contact], "contact merged away", "ana") == 1
    assert drop_rows(fresh_db, ACTIVATION.name, ["999999999"], "merged into 42", "luis") == 0
    assert {(r["row_key"], r["reason"]) for r in _query(fresh_db, "select * from ops.activation_dropped")} == {
        ("999999999", "merged into 42"), (contact, "contact merged away")}


def test_two_runs_of_one_activation_never_overlap(fresh_db, hubspot):
    _model(fresh_db, [])
    held, release = threading.Event(), threading.Event()

    def hold_lock():
        import zlib
        with psycopg.connect(fresh_db) as conn:
            conn.execute("select pg_advisory_lock(%s)", (zlib.crc32(b"puente.activation.test_scores"),))
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        held.wait(10)
        with pytest.raises(ActivationBusy, match="another run is sending this activation"):
            run_activation(fresh_db, ACTIVATION, None)
        # a dry run sends nothing: an operator's preview neither waits for the run that sends nor fails
        assert run_activation(fresh_db, ACTIVATION, None, dry_run=True).dry_run
    finally:
        release.set()
        holder.join()


def test_a_missing_model_says_what_to_build(fresh_db):
    with pytest.raises(ActivationModelMissing, match="build it first"):
        run_activation(fresh_db, ACTIVATION, None, dry_run=True)


def test_a_sealed_value_is_opened_only_as_it_is_sent(fresh_db, hubspot):
    """A phone or tax id the warehouse holds sealed (puente.field_crypto) reaches the target in clear,
    opened with the field key as the writer gets the row; the engine's state and audit keep it
    sealed. Without the key nothing is sent: the target would get ciphertext."""
    from puente.field_crypto import FieldKeyError, FieldKeys, is_sealed, new_key

    business, config, writer = hubspot
    keys = FieldKeys.parse(new_key())
    (contact,) = _live_contacts(business)[:1]
    _model(fresh_db, [{"row_key": contact, "payload": {**SCORES, "puente_churn_risk": keys.seal("medium")}}])

    with pytest.raises(FieldKeyError, match="no field key is configured"):
        run_activation(fresh_db, ACTIVATION, writer(), logical_date=DAY)
    assert _crm(config, contact)["puente_churn_risk"] != "medium"

    result = run_activation(fresh_db, ACTIVATION, writer(), logical_date=DAY, field_keys=keys)
    assert result.sent == 1 and _crm(config, contact)["puente_churn_risk"] == "medium"
    (state,) = _query(fresh_db, "select payload from ops.activation_state where row_key = %s", contact)
    assert is_sealed(state["payload"]["puente_churn_risk"])
    (audit,) = _query(fresh_db, "select fields_new from ops.activation_audit where status = 'sent'")
    assert is_sealed(audit["fields_new"]["puente_churn_risk"])
