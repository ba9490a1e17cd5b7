"""Odoo paging against a tiny in-memory XML-RPC server: ties on write_date, faults, login."""

from __future__ import annotations

import xmlrpc.client

import httpx
import pytest

from puente.simulators.odoo import compile_domain
from puente.sources.http import SourceError
from puente.sources.odoo import FIELDS, OdooConfig, OdooConnector

CONFIG = OdooConfig(url="https://erp.example.test", db="acme", login="bot@acme.co", api_key="key-123-secret")


def _server(records: list[dict], *, uid=7, fault: str | None = None, between_pages=lambda n: None):
    calls: list[tuple] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params, method = xmlrpc.client.loads(request.content)
        if method == "authenticate":
            result = uid
        elif params[4] == "fields_get":
            result = {name: {"type": "char", "store": True} for name in FIELDS[params[3]]}
        else:
            db, _, key, model, call, (domain,), kwargs = params
            calls.append((domain, kwargs))
            if fault:
                body = xmlrpc.client.dumps(xmlrpc.client.Fault(2, f"Traceback...\n{fault}"), methodresponse=True)
                return httpx.Response(200, content=body.encode())
            between_pages(len(calls))
            rows = sorted(records, key=lambda r: (r["write_date"], r["id"]))
            rows = [r for r in rows if compile_domain("res.partner", domain)(r)]  # Odoo's domain semantics
            result = rows[kwargs["offset"]:kwargs["offset"] + kwargs["limit"]]
        return httpx.Response(200, content=xmlrpc.client.dumps((result,), methodresponse=True).encode())

    return handler, calls


def _connector(handler, page_size=3, lookback=0.0) -> OdooConnector:
    return OdooConnector(CONFIG, page_size=page_size, lookback=lookback, transport=httpx.MockTransport(handler),
                         sleep=lambda s: None)


def _partner(pid: int, write_date: str) -> dict:
    return {"id": pid, "name": f"P{pid}", "active": pid != 4, "write_date": write_date}


def test_pages_walk_every_record_once_even_when_many_share_a_write_date():
    records = [_partner(1, "2026-01-01 00:00:00"), _partner(2, "2026-01-02 00:00:00")]
    records += [_partner(i, "2026-01-03 00:00:00") for i in range(3, 11)]  # 8 ties, page size 3
    records += [_partner(11, "2026-01-04 00:00:00")]

    def edit(calls: int) -> None:  # while we page, a tie already read is changed (it moves to the end)
        if calls == 3:
            records[2]["write_date"] = "2026-01-05 00:00:00"
    handler, calls = _server(records, between_pages=edit)
    pages = list(_connector(handler).extract("res.partner", None))
    ids = [r.source_id for p in pages for r in p.records]
    assert ids == [str(i) for i in range(1, 12)] + ["3"]  # nothing skipped; the changed one read again
    assert [p.cursor for p in pages] == ["2026-01-03 00:00:00"] * 3 + ["2026-01-05 00:00:00"] * 2
    assert [c[1]["offset"] for c in calls] == [0] * 5
    assert calls[1][0] == ["|", ["write_date", ">", "2026-01-03 00:00:00"],  # re-anchored on the last record read
                           "&", ["write_date", "=", "2026-01-03 00:00:00"], ["id", ">", 3]]
    assert calls[0][1]["context"] == {"active_test": False}
    assert calls[0][1]["order"] == "write_date asc, id asc"
    assert [r.deleted for p in pages for r in p.records][3] is True  # id 4 is archived


def test_incremental_filter_customer_invoices_only_and_the_declared_fields_that_exist(caplog):
    seen = []

    def handler(request):
        params, method = xmlrpc.client.loads(request.content)
        if method == "authenticate":
            result = 7
        elif params[4] == "fields_get":
            result = {name: {"type": "char", "store": True} for name in [*FIELDS[params[3]], "x_region"]}
            result["x_photo"] = {"type": "binary", "store": True}
            del result["invoice_date_due"]  # a field that vanished from this Odoo
        else:
            seen.append((params[5][0], params[6]["fields"]))
            result = []
        return httpx.Response(200, content=xmlrpc.client.dumps((result,), methodresponse=True).encode())

    with caplog.at_level("WARNING"):
        list(_connector(handler, lookback=3600).extract("account.move", "2026-01-01 00:00:00", "2026-02-01 00:00:00"))
    ((domain, fields),) = seen
    assert domain == [["move_type", "in", ["out_invoice", "out_refund"]],  # an hour of lookback, the window's end
                      ["write_date", ">=", "2025-12-31 23:00:00"], ["write_date", "<", "2026-02-01 00:00:00"]]
    # minimum data: a custom field is not asked for; a declared one that vanished is left out, and said
    assert fields == [f for f in FIELDS["account.move"] if f != "invoice_date_due"]
    assert "no longer has the field(s) ['invoice_date_due']" in caplog.text


def test_refused_login_says_what_to_check():
    handler, _ = _server([], uid=False)
    with pytest.raises(SourceError, match="login 'bot@acme.co' on database 'acme' refused.*API key") as caught:
        list(_connector(handler).extract("res.partner", None))
    assert "key-123-secret" not in str(caught.value)


def test_a_fault_names_the_model_and_hides_the_key():
    handler, _ = _server([], fault="ValueError: Invalid field 'mobile' on model 'res.partner'")
    with pytest.raises(SourceError) as caught:
        list(_connector(handler).extract("res.partner", None))
    message = str(caught.value)
    assert message.startswith("Odoo res.partner: POST /xmlrpc/2/object (res.partner.search_read) -> fault 2: "
                              "ValueError: Invalid field 'mobile'")
    assert "key-123-secret" not in message
