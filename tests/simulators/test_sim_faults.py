"""Issue 4's misbehaviour: request faults, malformed versions, mutations, deletes, drift, v4 associations."""

from __future__ import annotations

import pytest

from puente.simulators import FaultRates, Faults
from puente.simulators.limits import MALFORMATIONS, must_quarantine
from puente.simulators.wire import SimulatedDisconnect


def test_malformed_versions_are_deterministic_and_per_endpoint(client_for, business, credentials):
    faults = Faults(seed=2, endpoints={"shopify /admin/api/2026-10/customers.json": FaultRates(malformed=0.5)})
    token = {"X-Shopify-Access-Token": credentials.shopify_token}

    def served(resource):
        client = client_for(business, faults=faults)
        return client.get(f"/shopify/admin/api/2026-10/{resource}.json?limit=250", headers=token).json()[resource]
    customers = served("customers")
    assert customers == served("customers")  # the same versions break the same way
    broken = [c for c in customers if "id" not in c or not isinstance(c.get("updated_at"), str)
              or c["updated_at"].startswith("0000") or "\ud83d" in str(c.get("first_name"))]
    assert 0.3 * len(customers) < len(broken) < 0.7 * len(customers)
    assert served("products") == [p for p in business.shopify["products"].values()][:250]  # other endpoints clean
    kinds = {faults.malformed("shopify", "customers", c["id"], c["updated_at"], "/admin/api/2026-10/customers.json")
             for c in business.shopify["customers"].values()}
    assert kinds == {None, *MALFORMATIONS}
    assert faults.malformed("shopify", "customers", customers[0].get("id"), "x") is None  # service rates: none
    assert must_quarantine("hubspot", "bad_encoding") and not must_quarantine("odoo", "bad_encoding")


def test_dropped_connections_and_hangs(client_for, business, credentials):
    auth = {"Authorization": f"Bearer {credentials.hubspot_token}"}
    client = client_for(business, faults=Faults(hubspot=FaultRates(disconnect=1.0)))
    with pytest.raises(SimulatedDisconnect):
        client.get("/hubspot/crm/v3/objects/contacts", headers=auth)
    client = client_for(business, faults=Faults(hang_seconds=0.01, hubspot=FaultRates(timeout=1.0)))
    with pytest.raises(SimulatedDisconnect):
        client.get("/hubspot/crm/v3/objects/contacts", headers=auth)


def test_deletes_archives_and_drift_the_way_each_system_does_them(client_for, new_business, credentials):
    business = new_business()
    client = client_for(business)
    shop = {"X-Shopify-Access-Token": credentials.shopify_token}
    victim = business.ids("shopify", "customers")[0]
    before = client.get("/shopify/admin/api/2026-10/customers/count.json", headers=shop).json()["count"]
    business.delete("shopify", "customers", victim)
    assert client.get(f"/shopify/admin/api/2026-10/customers/{victim}.json", headers=shop).status_code == 404
    assert client.get("/shopify/admin/api/2026-10/customers/count.json", headers=shop).json()["count"] == before - 1
    contact = business.ids("hubspot", "contacts")[0]
    updated = business.hubspot["contacts"][contact]["updatedAt"]
    business.delete("hubspot", "contacts", contact)
    assert business.hubspot["contacts"][contact]["archived"] and \
        business.hubspot["contacts"][contact]["updatedAt"] == updated
    partner = business.ids("odoo", "res.partner")[0]
    assert business.archive("odoo", "res.partner", partner)["active"] is False
    with pytest.raises(ValueError, match="cannot be archived"):
        business.archive("odoo", "sale.order", business.ids("odoo", "sale.order")[0])
    business.add_field("hubspot", "contacts", "loyalty_tier", lambda r: "gold")
    auth = {"Authorization": f"Bearer {credentials.hubspot_token}"}
    props = client.get("/hubspot/crm/v3/properties/contacts", headers=auth).json()["results"]
    assert any(p["name"] == "loyalty_tier" and p["hubspotDefined"] is False for p in props)


def test_v4_association_batch_read(client_for, business, credentials):
    auth = {"Authorization": f"Bearer {credentials.hubspot_token}"}
    deals = business.ids("hubspot", "deals")[:5]
    answer = client_for(business).post("/hubspot/crm/v4/associations/deals/contacts/batch/read", headers=auth,
                                       json={"inputs": [{"id": str(d)} for d in deals] + [{"id": "1"}]})
    assert answer.status_code == 207
    body = answer.json()
    found = {r["from"]["id"]: [t["toObjectId"] for t in r["to"]] for r in body["results"]}
    assert found == {str(d): business.hubspot_associations[("deals", d)]["contacts"] for d in deals}
    assert body["errors"][0]["category"] == "NO_ASSOCIATIONS_FOUND" and "1" in body["errors"][0]["context"]["fromObjectId"]
    assert all(t["associationTypes"][0]["typeId"] == 3 for r in body["results"] for t in r["to"])
