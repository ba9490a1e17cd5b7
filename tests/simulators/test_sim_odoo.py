"""The Odoo simulator: XML-RPC over real HTTP, domains, incremental extraction, errors."""

from __future__ import annotations

import xmlrpc.client

import pytest

from puente.simulators import SimulatorServer, create_app
from puente.simulators.odoo import MODELS, OdooError, OdooService, compile_domain, sort_records


@pytest.fixture(scope="module")
def odoo(business, credentials):
    """(common, object) XML-RPC proxies to a simulator served over HTTP."""
    with SimulatorServer(create_app(business, credentials)) as server:
        base = f"{server.base_url}/odoo/xmlrpc/2"
        yield xmlrpc.client.ServerProxy(f"{base}/common"), xmlrpc.client.ServerProxy(f"{base}/object")


def service(business, credentials) -> OdooService:
    return OdooService(business, credentials.odoo_db, credentials.odoo_login, credentials.odoo_api_key)


def test_version_and_authentication(odoo, credentials):
    common, _ = odoo
    assert common.version()["server_version"] == "17.0"
    assert common.authenticate(credentials.odoo_db, credentials.odoo_login, credentials.odoo_api_key, {}) == 2
    assert common.authenticate(credentials.odoo_db, credentials.odoo_login, "wrong-key", {}) is False
    with pytest.raises(xmlrpc.client.Fault, match="does not exist"):
        common.authenticate("other_db", credentials.odoo_login, credentials.odoo_api_key, {})


def test_faults_look_like_odoos(odoo, credentials):
    _, models = odoo
    db, key = credentials.odoo_db, credentials.odoo_api_key
    with pytest.raises(xmlrpc.client.Fault) as denied:
        models.execute_kw(db, 2, "wrong-key", "res.partner", "search_count", [[]])
    assert (denied.value.faultCode, denied.value.faultString) == (3, "Access Denied")
    with pytest.raises(xmlrpc.client.Fault) as unknown_model:
        models.execute_kw(db, 2, key, "res.nope", "search_count", [[]])
    assert (unknown_model.value.faultCode, unknown_model.value.faultString) == (2, "Object res.nope doesn't exist")
    with pytest.raises(xmlrpc.client.Fault) as bad_field:
        models.execute_kw(db, 2, key, "res.partner", "search_read", [[]], {"fields": ["colour"]})
    assert "ValueError: Invalid field 'colour' on model 'res.partner'" in bad_field.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as bad_leaf:
        models.execute_kw(db, 2, key, "res.partner", "search_read", [[["colour", "=", "red"]]])
    assert "ValueError: Invalid field 'colour'" in bad_leaf.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as missing:
        models.execute_kw(db, 2, key, "res.partner", "read", [[999_999]], {"fields": ["name"]})
    assert missing.value.faultCode == 2 and "does not exist" in missing.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as write:  # products are read-only to the integration user
        models.execute_kw(db, 2, key, "product.product", "write", [[1], {"name": "x"}])
    assert write.value.faultCode == 4 and "not allowed to modify 'Product Variant'" in write.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as private:
        models.execute_kw(db, 2, key, "sale.order", "_create_invoices", [[1]])
    assert (private.value.faultCode, private.value.faultString) == (
        4, "Private methods (such as _create_invoices) cannot be called remotely.")


def test_paging_by_write_date_walks_every_record_exactly_once(odoo, business, credentials):
    _, models = odoo
    db, key = credentials.odoo_db, credentials.odoo_api_key
    for model in ("res.partner", "sale.order", "sale.order.line", "account.move"):
        seen, offset = [], 0
        while True:
            page = models.execute_kw(db, 2, key, model, "search_read", [[["write_date", ">", "2000-01-01 00:00:00"]]],
                                     {"fields": ["write_date"], "order": "write_date asc, id asc",
                                      "offset": offset, "limit": 40})
            seen += page
            offset += len(page)
            if len(page) < 40:
                break
        ids = [r["id"] for r in seen]
        assert sorted(ids) == sorted(business.odoo[model]) and len(set(ids)) == len(ids), model
        assert [r["write_date"] for r in seen] == sorted(r["write_date"] for r in seen)
        count = models.execute_kw(db, 2, key, model, "search_count", [[]])
        assert count == len(business.odoo[model])


def test_values_on_the_wire_follow_the_contract(odoo, credentials):
    _, models = odoo
    rows = models.execute_kw(credentials.odoo_db, 2, credentials.odoo_api_key, "sale.order", "search_read",
                             [[["client_order_ref", "!=", False]]],
                             {"fields": ["name", "partner_id", "currency_id", "origin", "date_order", "warehouse_id"],
                              "limit": 5})
    assert rows
    for row in rows:
        assert set(row) == {"id", "name", "partner_id", "currency_id", "origin", "date_order", "warehouse_id"}
        assert row["warehouse_id"] == [1, "Casa Andina"]
        assert isinstance(row["partner_id"], list) and isinstance(row["partner_id"][1], str)
        assert row["currency_id"] == [8, "COP"] and row["origin"] is False
        assert len(row["date_order"]) == 19 and row["date_order"][10] == " "
    fields = models.execute_kw(credentials.odoo_db, 2, credentials.odoo_api_key, "account.move", "fields_get", [],
                               {"attributes": ["type", "relation"]})
    assert fields["partner_id"] == {"type": "many2one", "relation": "res.partner"}
    assert fields["payment_state"] == {"type": "selection"}
    quants = models.execute_kw(credentials.odoo_db, 2, credentials.odoo_api_key, "stock.quant", "search_read", [[]],
                               {"fields": ["location_id", "warehouse_id"], "limit": 3})
    assert quants and all(q["warehouse_id"] == [1, "Casa Andina"] for q in quants)


def test_records_carry_exactly_the_declared_fields(business):
    for model, table in business.odoo.items():
        for record in table.values():
            assert set(record) == set(MODELS[model]), model


def test_incremental_filter_returns_only_what_changed(new_business, credentials):
    business = new_business(seed=8, customers=100, history_days=150)
    odoo = service(business, credentials)
    args = (credentials.odoo_db, 2, credentials.odoo_api_key)
    cursors = {m: max(r["write_date"] for r in business.odoo[m].values()) for m in ("res.partner", "sale.order",
                                                                                    "account.move", "stock.quant")}
    business.advance_day()
    business.advance_day()
    for model, cursor in cursors.items():
        changed = odoo.execute_kw(*args, model, "search_read", [[["write_date", ">", cursor]]],
                                  {"fields": ["write_date"], "order": "write_date asc, id asc"})
        expected = sorted(r["id"] for r in business.odoo[model].values() if r["write_date"] > cursor)
        assert sorted(r["id"] for r in changed) == expected and expected, model


def test_domains_in_prefix_notation():
    rows = [
        {"id": 1, "name": "Juan Pérez", "email": "juan@x.co", "customer_rank": 3, "partner_id": [7, "ACME SAS"]},
        {"id": 2, "name": "Ana Gómez", "email": False, "customer_rank": 0, "partner_id": False},
        {"id": 3, "name": "JUAN PEREZ", "email": "jp@y.co", "customer_rank": 1, "partner_id": [8, "Otra"]},
    ]

    def ids(model, domain):
        test = compile_domain(model, domain)
        return [r["id"] for r in rows if test(r)]
    assert ids("res.partner", [["name", "ilike", "juan"]]) == [1, 3]
    assert ids("res.partner", [["name", "like", "Juan"]]) == [1]
    assert ids("res.partner", [["email", "=", False]]) == [2]
    assert ids("res.partner", [["email", "!=", False], ["customer_rank", ">=", 2]]) == [1]
    assert ids("res.partner", ["|", ["customer_rank", "=", 0], ["email", "=ilike", "JP@%"]]) == [2, 3]
    assert ids("res.partner", ["!", ["id", "in", [1, 2]]]) == [3]
    assert ids("res.partner", ["&", ["id", "not in", [2]], "|", ["id", "=", 1], ["id", "=", 2]]) == [1]
    assert ids("res.partner", [["customer_rank", ">", 0], ["customer_rank", "<", 3]]) == [3]
    assert ids("sale.order", [["partner_id", "=", 7]]) == [1]
    assert ids("sale.order", [["partner_id", "in", [8, 9]]]) == [3]
    assert ids("sale.order", [["partner_id", "ilike", "acme"]]) == [1]
    assert ids("sale.order", [(1, "=", 1)]) == [1, 2, 3]
    with pytest.raises(OdooError, match="Invalid operator"):
        compile_domain("res.partner", [["name", "~", "x"]])
    with pytest.raises(OdooError, match="needs two operands"):
        compile_domain("res.partner", ["|", ["id", "=", 1]])
    assert [r["id"] for r in sort_records("res.partner", rows, "email desc, id asc")] == [2, 1, 3]  # NULLS FIRST
    assert [r["id"] for r in sort_records("sale.order", rows, "partner_id asc")] == [1, 3, 2]


def test_inactive_records_are_hidden_unless_asked_for(new_business, credentials):
    business = new_business(seed=4, customers=40, history_days=60)
    odoo = service(business, credentials)
    args = (credentials.odoo_db, 2, credentials.odoo_api_key)
    archived = next(iter(business.odoo["res.partner"]))
    business.odoo["res.partner"][archived]["active"] = False
    total = len(business.odoo["res.partner"])
    assert odoo.execute_kw(*args, "res.partner", "search_count", [[]]) == total - 1
    assert odoo.execute_kw(*args, "res.partner", "search_count", [[]], {"context": {"active_test": False}}) == total
    assert odoo.execute_kw(*args, "res.partner", "search", [[["active", "=", False]]]) == [archived]
    assert odoo.execute_kw(*args, "res.partner", "read", [[archived]], {"fields": ["active"]}) == [
        {"id": archived, "active": False}]


def test_jsonrpc_endpoint(client_for, business, credentials):
    client = client_for(business)

    def call(service_name, method, *args):
        body = {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"service": service_name, "method": method, "args": list(args)}}
        return client.post("/odoo/jsonrpc", json=body).json()
    assert call("common", "authenticate", credentials.odoo_db, credentials.odoo_login,
                credentials.odoo_api_key, {})["result"] == 2
    found = call("object", "execute_kw", credentials.odoo_db, 2, credentials.odoo_api_key, "product.product",
                 "search_read", [[]], {"fields": ["default_code"], "limit": 2})
    assert len(found["result"]) == 2
    denied = call("object", "execute_kw", credentials.odoo_db, 2, "bad", "product.product", "search", [[]])
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
