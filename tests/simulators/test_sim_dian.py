"""DIAN electronic invoicing in the simulated Odoo (l10n_co_dian), for a Colombian company only,
and the Odoo connector reading it."""

from __future__ import annotations

import logging
import re
from collections import Counter

import pytest

from puente.simulators import Business, SimulatorServer, create_app
from puente.sources.http import SourceError
from puente.sources.odoo import OdooConfig, OdooConnector

DIAN_FIELDS = ("l10n_co_dian_state", "l10n_co_edi_cufe_cude_ref", "l10n_co_dian_document_ids")
STATES = {"invoice_accepted", "invoice_pending", "invoice_rejected", "invoice_sending_failed"}


def _business(country: str = "CO") -> Business:
    return Business(seed=5, customers=300, history_days=200, company_country=country)


@pytest.fixture(scope="module")
def colombian() -> Business:
    return _business()


def _invoices(business: Business) -> dict[int, dict]:
    return {i: dict(m) for i, m in business.odoo["account.move"].items()}


def test_posted_invoices_carry_the_dians_answer_and_the_cufe_once_accepted(colombian):
    moves = colombian.odoo["account.move"].values()
    posted = [m for m in moves if m["state"] == "posted"]
    assert posted and all(m.get("l10n_co_dian_state") in STATES for m in posted)
    assert all(not m.get("l10n_co_dian_state") for m in moves if m["state"] != "posted")
    for move in posted:
        cufe = move.get("l10n_co_edi_cufe_cude_ref")
        if move["l10n_co_dian_state"] == "invoice_accepted":
            assert re.fullmatch(r"[0-9a-f]{96}", cufe)  # SHA-384 in hex, as the DIAN's annex has it
        else:
            assert cufe is False


def test_pending_invoices_are_accepted_a_day_or_two_later_and_rejected_ones_after_a_resend():
    business = _business()
    sent: dict[int, tuple[str, object]] = {}  # invoice -> (first state seen, the day)
    outcomes: dict[int, list[tuple[object, str, str]]] = {}
    before = _invoices(business)
    for _ in range(21):
        business.advance_day()
        after = _invoices(business)
        for move_id, move in after.items():
            state = move.get("l10n_co_dian_state")
            old = before.get(move_id, {}).get("l10n_co_dian_state")
            if state and state != old:
                assert move["write_date"] > before.get(move_id, {}).get("write_date", "")  # the connector sees it
                if not old:
                    sent[move_id] = (state, business.today)
                elif move_id in sent:
                    outcomes.setdefault(move_id, []).append((business.today, old, state))
        before = after
    first = Counter(state for state, _ in sent.values())
    assert sum(first.values()) > 80 and 0.80 < first["invoice_accepted"] / sum(first.values()) < 0.97
    waiting = {i for i, (state, _) in sent.items() if state != "invoice_accepted"}
    assert any(sent[i][0] == "invoice_rejected" and outcomes.get(i) for i in waiting)  # fixed and resent
    for move_id in waiting:
        state, day = sent[move_id]
        later = [(d, new) for d, _, new in outcomes.get(move_id, [])]
        if state == "invoice_pending" and (business.today - day).days > 3:
            assert later and later[0][1] == "invoice_accepted" and 1 <= (later[0][0] - day).days <= 3
        for _, new in later:
            assert new == "invoice_accepted"  # fixed and resent, or validated: never back to pending


def test_a_company_outside_colombia_has_no_dian_fields(credentials):
    colombian, argentine = _business("CO"), _business("AR")
    # the same business otherwise: the DIAN's answers come from a stream of their own
    assert [m["name"] for m in colombian.odoo["account.move"].values()] == \
        [m["name"] for m in argentine.odoo["account.move"].values()]
    assert not any(set(DIAN_FIELDS) & set(m) for m in argentine.odoo["account.move"].values())
    with SimulatorServer(create_app(argentine, credentials)) as server:
        connector = OdooConnector(OdooConfig(url=f"{server.base_url}/odoo", db=credentials.odoo_db,
                                             login=credentials.odoo_login, api_key=credentials.odoo_api_key))
        try:
            assert not set(DIAN_FIELDS) & set(connector.execute_kw("account.move", "fields_get", [], {}))
            assert not set(DIAN_FIELDS) & set(connector.fields("account.move"))
            with pytest.raises(SourceError, match="Object l10n_co_dian.document doesn't exist"):
                connector.execute_kw("l10n_co_dian.document", "search_read", [[]], {"fields": ["state"]})
            # the invoices land as before, nothing asked of a model this database does not have
            assert [r for page in connector.extract("account.move", None) for r in page.records]
        finally:
            connector.close()


def test_the_connector_reads_the_dian_fields_of_a_colombian_company(colombian, credentials, caplog):
    with SimulatorServer(create_app(colombian, credentials)) as server:
        connector = OdooConnector(OdooConfig(url=f"{server.base_url}/odoo", db=credentials.odoo_db,
                                             login=credentials.odoo_login, api_key=credentials.odoo_api_key))
        try:
            with caplog.at_level(logging.WARNING):
                records = [r for page in connector.extract("account.move", None) for r in page.records]
        finally:
            connector.close()
    assert not [r for r in caplog.records if "no longer has the field" in r.getMessage()]
    posted = [r.payload for r in records if r.payload["state"] == "posted"]
    assert len(posted) == sum(m["state"] == "posted" for m in colombian.odoo["account.move"].values())
    assert {p["l10n_co_dian_state"] for p in posted} <= STATES
    accepted = [p for p in posted if p["l10n_co_dian_state"] == "invoice_accepted"]
    assert accepted and all(len(p["l10n_co_edi_cufe_cude_ref"]) == 96 for p in accepted)


def test_the_dian_says_why_it_rejected_an_invoice_and_a_resend_replaces_the_rejection():
    """Each sending is a DIAN document of the invoice (l10n_co_dian.document) with the DIAN's answer;
    the rejected ones carry the rules they broke, and Odoo removes them when the invoice is resent."""
    business = _business()
    documents = business.odoo["l10n_co_dian.document"]
    rejected_once = set()
    for _ in range(10):
        business.advance_day()
        for move in business.odoo["account.move"].values():
            ids = move.get("l10n_co_dian_document_ids") or []
            if move.get("l10n_co_dian_state"):
                latest = documents[ids[0]]
                assert latest["state"] == move["l10n_co_dian_state"] and latest["move_id"][0] == move["id"]
                if latest["state"] == "invoice_rejected":
                    rejected_once.add(move["id"])
                    answer = latest["message_json"]
                    assert answer["status"] == "Documento con errores en campos mandatorios."
                    assert answer["errors"] and all(re.match(r"Regla: \w+, Rechazo: \S", e) for e in answer["errors"])
                    assert "Rechazo:" in latest["message"]
            # a resend removed the invoice's rejected documents: none left behind an accepted one
            if move.get("l10n_co_dian_state") == "invoice_accepted":
                assert not any(documents[i]["state"] == "invoice_rejected" for i in ids)
                assert documents[ids[0]]["message_json"] == {"status": "Procesado Correctamente.", "errors": []}
    resent = {i for i in rejected_once if business.odoo["account.move"][i]["l10n_co_dian_state"] == "invoice_accepted"}
    assert rejected_once and resent
    assert any(business.is_deleted("odoo", "l10n_co_dian.document", d) for d in documents)


def test_the_connector_lands_each_invoice_with_its_dian_documents(colombian, credentials):
    with SimulatorServer(create_app(colombian, credentials)) as server:
        connector = OdooConnector(OdooConfig(url=f"{server.base_url}/odoo", db=credentials.odoo_db,
                                             login=credentials.odoo_login, api_key=credentials.odoo_api_key))
        try:
            records = {r.payload["id"]: r.payload for page in connector.extract("account.move", None)
                       for r in page.records}
        finally:
            connector.close()
    rejected = [p for p in records.values() if p.get("l10n_co_dian_state") == "invoice_rejected"]
    assert rejected
    for payload in rejected:
        move = colombian.odoo["account.move"][payload["id"]]
        documents = payload["l10n_co_dian_document_ids"]
        # the records in place of their ids, in Odoo's order (newest first), with the declared fields
        assert [d["id"] for d in documents] == move["l10n_co_dian_document_ids"]
        assert set(documents[0]) == {"id", "message_json", "datetime"}  # minimum data: what staging reads
        assert colombian.odoo["l10n_co_dian.document"][documents[0]["id"]]["state"] == "invoice_rejected"
        assert documents[0]["message_json"]["errors"][0].startswith("Regla: ")
