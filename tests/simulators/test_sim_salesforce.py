"""The simulated Salesforce org: the OAuth token and its session, SOQL and its error shape, query
locators, deleted records in queryAll only, the limit header and the daily quota, converted leads,
and the 200-record cap of sObject Collections."""

from __future__ import annotations

import re

from order_numbers import orders_as_seen

from puente.simulators import Business, Limits, ManualClock
from puente.simulators.business.salesforce import sf_id, sf_number

V = "/salesforce/services/data/v62.0"


def token(client, credentials, **form) -> str:
    answer = client.post("/salesforce/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": credentials.salesforce_client_id,
        "client_secret": credentials.salesforce_client_secret, **form})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["instance_url"].endswith("/salesforce") and body["token_type"] == "Bearer"
    return body["access_token"]


def test_the_org_answers_soql_in_batches_with_its_limit_header_and_errors_in_its_shape(client_for, credentials):
    business = Business(seed=5, customers=400, history_days=300, crm="salesforce")
    clock = ManualClock()
    client = client_for(business, limits=Limits(clock=clock, salesforce_daily_requests=9))
    assert client.post("/salesforce/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}).json()["error"] == "invalid_client"
    assert client.get("/hubspot/crm/v3/objects/contacts").status_code == 404  # one CRM: HubSpot is not served
    auth = {"Authorization": f"Bearer {token(client, credentials)}"}

    first = client.get(f"{V}/query", params={"q": "SELECT Id, LastName FROM Contact ORDER BY Id"},
                       headers={**auth, "Sforce-Query-Options": "batchSize=50"})  # below 200: 200
    body = first.json()
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/9"
    assert len(body["records"]) == 200 and not body["done"] and body["totalSize"] > 200
    assert body["records"][0]["attributes"]["type"] == "Contact" and set(body["records"][0]) == {
        "attributes", "Id", "LastName"}
    rest = client.get(body["nextRecordsUrl"].replace("/services", "/salesforce/services"), headers=auth).json()
    ids = [r["Id"] for r in body["records"] + rest["records"]]
    assert rest["done"] and len(ids) == body["totalSize"] == len(set(ids)) and ids == sorted(ids)

    for soql, code in (("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY"), ("SELECT Nope FROM Contact", "INVALID_FIELD"),
                       ("SELECT Id FROM Widget", "INVALID_TYPE")):
        error = client.get(f"{V}/query", params={"q": soql}, headers=auth)
        assert error.status_code == 400 and error.json()[0]["errorCode"] == code and "message" in error.json()[0]

    # deleted: queryAll only, stamped by the deletion
    rid = next(n for n, r in business.hubspot["contacts"].items() if r["properties"].get("lifecyclestage") == "customer")
    business.crm.archive("contacts", rid, business.now())
    soql = f"SELECT Id, IsDeleted, SystemModstamp FROM Contact WHERE Id = '{sf_id('Contact', rid)}'"
    assert client.get(f"{V}/query", params={"q": soql}, headers=auth).json()["totalSize"] == 0
    deleted = client.get(f"{V}/queryAll", params={"q": soql}, headers=auth).json()["records"]
    assert deleted[0]["IsDeleted"] is True and deleted[0]["SystemModstamp"].startswith(business.today.isoformat())

    # converted leads stay, pointing at their Contact
    converted = [r for r in business.salesforce.table("Lead") if r["IsConverted"]]
    assert converted and all(sf_number("Contact", r["ConvertedContactId"]) == sf_number("Lead", r["Id"])
                             for r in converted)

    # the session expires when unused; the daily quota refuses with REQUEST_LIMIT_EXCEEDED
    clock.advance(7201)
    expired = client.get(f"{V}/query", params={"q": "SELECT COUNT() FROM Account"}, headers=auth)
    assert expired.status_code == 401 and expired.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    auth = {"Authorization": f"Bearer {token(client, credentials)}"}
    while (answer := client.get(f"{V}/limits", headers=auth)).status_code == 200:
        pass
    assert answer.status_code == 403 and answer.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED", "fields": []}]
    assert answer.headers["Sforce-Limit-Info"] == "api-usage=9/9"


def test_collections_take_200_records_at_most(client_for, credentials):
    business = Business(seed=5, customers=60, history_days=120, crm="salesforce")
    client = client_for(business)
    auth = {"Authorization": f"Bearer {token(client, credentials)}"}
    records = [{"attributes": {"type": "Task"}, "Subject": "x", "WhoId": "003"}] * 201
    answer = client.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": records}, headers=auth)
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    answer = client.post(f"{V}/composite/sobjects", json={"allOrNone": True, "records": records[:2]}, headers=auth)
    assert [r["errors"][0]["statusCode"] for r in answer.json()] == ["INVALID_CROSS_REFERENCE_KEY"] * 2
    assert business.salesforce.tasks == {}


def test_a_case_follows_an_order_and_cites_the_number_its_customer_saw():
    """The service desk opens Cases after orders, about as often as HubSpot's desk opens tickets, on
    the customer's Contact, a few days after the order; a Subject that cites the order gives its
    number as the customer saw it (the shop's order name, the ERP's sale order), never the
    simulation's own order id."""
    business = Business(seed=5, customers=300, history_days=400, crm="salesforce")
    truth = business.records.truth
    orders = orders_as_seen(business)
    cases = list(business.crm.cases.values())
    cited = 0
    for case in cases:
        written = re.findall(r"#?[A-Z]*\d{3,}", case["Subject"])
        assert case["_order_id"] not in case["Subject"] and "None" not in case["Subject"], case["Subject"]
        if case["_order_id"] not in orders:  # a won deal (the ERP's date is its entry's)
            assert not written, case
            continue
        person, number, placed = orders[case["_order_id"]]
        assert truth[("hubspot", "contacts", sf_number("Contact", case["ContactId"]))][0] == person, case
        assert placed <= case["CreatedDate"][:10], (placed, case)
        if written:
            assert written == [number], (case["Subject"], number)
            cited += 1
    assert 3 < cited < len(cases), (cited, len(cases))
    tickets = Business(seed=5, customers=300, history_days=400).hubspot["tickets"]
    assert 0.6 < len(cases) / len(tickets) < 1.6, (len(cases), len(tickets))
