"""Mercado Libre: the connector against a scripted search (the query, the window split at the offset
cap), then against the simulator: OAuth's six-hour access tokens and single-use refresh tokens (a
token expiring mid-run, a run cut between the refresh and the save), and into a real PostgreSQL the
faults a night meets (429, 5xx, timeouts, malformed orders, a crash mid-run and its resume)."""

from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest

from puente.extract import ExtractionFailed, extract_source
from puente.sources import registry
from puente.sources.http import SourceError
from puente.sources.mercadolibre import MercadoLibreConfig, MercadoLibreConnector
from puente.sources.mercadolibre.auth import MemoryTokenStore, WarehouseTokenStore
from puente.warehouse import raw_object

API = "https://api.mercadolibre.com"
TODAY = date(2026, 11, 16)
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
CONFIG = MercadoLibreConfig(API, "4410927365512088", "secret-of-the-app", "TG-first-1284551907", "1284551907")


def order(oid: int, minutes: int) -> dict:
    stamp = (T0 + timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
    return {"id": oid, "date_created": stamp, "date_last_updated": stamp, "status": "paid", "total_amount": 100.0,
            "buyer": {"id": 9, "nickname": "ANA9", "first_name": "Ana", "last_name": "Gil", "email": "never@lands"},
            "order_items": [{"item": {"id": "MCO1", "seller_sku": "SKU-1"}, "quantity": 1, "unit_price": 100.0,
                             "sale_fee": 13.0}],
            "shipping": {"id": 70 + oid}}


class Api:
    """The token endpoint, the orders search (date_last_updated window, sorted by creation, refusing an
    offset past ``cap``), billing info (none for even orders) and shipments."""

    def __init__(self, orders: list[dict], cap: int = 10_000):
        self.orders, self.cap, self.searches = orders, cap, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "APP_USR-a", "expires_in": 21600, "user_id": 1284551907,
                                             "refresh_token": "TG-second"})
        assert request.headers["Authorization"] == "Bearer APP_USR-a"
        if path == "/orders/search":
            params = dict(request.url.params)
            self.searches.append(params)
            offset, limit = int(params["offset"]), int(params["limit"])
            if offset > self.cap:
                return httpx.Response(400, json={"message": "Invalid offset", "error": "bad_request", "status": 400,
                                                 "cause": []})
            low, high = params.get("order.date_last_updated.from"), params.get("order.date_last_updated.to")
            found = sorted((o for o in self.orders
                            if (low is None or o["date_last_updated"] >= _utc(low))
                            and (high is None or o["date_last_updated"] <= _utc(high))),
                           key=lambda o: o["date_created"])
            return httpx.Response(200, json={"results": found[offset: offset + limit],
                                             "paging": {"total": len(found), "offset": offset, "limit": limit}})
        oid = int(path.split("/")[2])
        if path.endswith("/billing_info"):
            if oid % 2 == 0:
                return httpx.Response(404, json={"message": "not found", "error": "not_found", "status": 404,
                                                 "cause": []})
            return httpx.Response(200, json={"buyer": {"billing_info": {"name": "Ana", "identification": {
                "type": "CC", "number": "52123456"}, "address": {"street_name": "Calle 1"}}}})
        return httpx.Response(200, json={"id": oid, "status": "delivered", "status_history": {"date_delivered": "x"},
                                         "destination": {"type": "buying_address", "receiver_name": "Ana Gil",
                                                         "receiver_phone": "XXXXXXX", "shipping_address": {
                                             "city": {"name": "Cali"}, "address_line": "Calle 2"}}})


def _utc(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(UTC).isoformat(timespec="milliseconds")


def connector(api, **options) -> MercadoLibreConnector:
    return MercadoLibreConnector(CONFIG, transport=httpx.MockTransport(api), sleep=lambda s: None,
                                 token_store=MemoryTokenStore(), lookback=3600, **options)


def test_the_search_asks_by_seller_and_date_last_updated_and_lands_the_buyers_minimum_data():
    api = Api([order(i, i) for i in range(1, 6)])
    pages = list(connector(api, page_size=2).extract("orders", T0.isoformat()))
    assert api.searches[1] == {"seller": "1284551907", "sort": "date_asc", "offset": "0", "limit": "2",
                               "order.date_last_updated.from": "2026-11-01T11:00:00.000-00:00"}
    assert [len(p.records) for p in pages] == [2, 2, 1]
    # the search sorts by creation: the cursor is stored with the last page only
    assert [p.cursor for p in pages] == [None, None, order(5, 5)["date_last_updated"]]
    first, second = pages[0].records[0].payload, pages[0].records[1].payload
    assert first["buyer"] == {"id": 9, "nickname": "ANA9", "first_name": "Ana", "last_name": "Gil"}
    assert first["billing_info"] == {"doc_type": "CC", "doc_number": "52123456"} and second["billing_info"] is None
    assert first["shipment"]["status"] == "delivered" and first["shipment"]["receiver_city"] == "Cali"
    # the door the sale went to lands (identity evidence); the receiver's name and masked phone do not
    assert first["shipment"]["receiver_address"] == "Calle 2"
    assert first["shipment"]["destination_type"] == "buying_address"
    assert "sale_fee" not in first["order_items"][0] and "receiver_phone" not in str(first)
    assert "Ana Gil" not in str(first)


def test_a_window_over_the_offset_cap_is_split_in_time_until_each_fits_and_nothing_is_missed():
    orders = [order(i, i * 7) for i in range(1, 60)]
    api = Api(orders, cap=10)
    pages = list(connector(api, page_size=5, offset_cap=10).extract("orders", T0.isoformat()))
    got = [r.source_id for p in pages for r in p.records]
    assert sorted(got, key=int) == [str(i) for i in range(1, 60)]  # each once
    assert all(int(s["offset"]) <= 10 for s in api.searches)
    assert len({s.get("order.date_last_updated.to") for s in api.searches}) > 4  # narrowed windows
    assert pages[-1].cursor == orders[-1]["date_last_updated"] and all(p.cursor is None for p in pages[:-1])


def test_a_malformed_order_is_handed_over_for_quarantine_and_the_page_goes_on():
    broken, wrong = order(2, 2), order(3, 3)
    broken.pop("id")
    wrong["date_last_updated"] = 12345
    pages = list(connector(Api([order(1, 1), broken, wrong])).extract("orders", None))
    records = [r for p in pages for r in p.records]
    assert [(r.source_id, r.updated_at) for r in records] == [
        ("1", order(1, 1)["date_last_updated"]), (None, broken["date_last_updated"]), ("3", 12345)]


# ------------------------------------------------------------------ the simulator


@contextmanager
def simulator(faults=None, **business_options):
    from puente.simulators import Business, Credentials, Limits, ManualClock, SimulatorServer, create_app

    # 420 days: some sales are older than the twelve months reconciliation counts on both sides
    business = Business(seed=11, customers=150, start=TODAY, history_days=420, mercadolibre=True, **business_options)
    credentials, clock = Credentials(), ManualClock()
    app = create_app(business, credentials, limits=Limits(clock=clock), faults=faults)
    account = next(r.app for r in app.routes if getattr(r, "path", "") == "/mercadolibre").state.account
    with SimulatorServer(app) as server:
        yield business, registry.source("mercadolibre").simulator(server.base_url, credentials), clock, account


# the fault tests' simulator hangs for 2 s: a 1 s read timeout meets it quickly; the others wait longer
HANG_TIMEOUT = httpx.Timeout(2.0, read=1.0)
PATIENT = httpx.Timeout(10.0)


def walker(config, clock, store, timeout=PATIENT, **options) -> MercadoLibreConnector:
    """A connector on the simulator's clock; a generous timeout unless the test's faults hang (a 1 s read
    timed out on a loaded machine)."""
    return MercadoLibreConnector(config, page_size=10, sleep=clock.advance, rng=random.Random(0),
                                 timeout=timeout, token_store=store, **options)


def test_an_access_token_expiring_mid_run_is_refreshed_and_each_new_refresh_token_is_kept(fresh_db):
    with simulator() as (business, config, clock, account):
        store = WarehouseTokenStore(fresh_db)
        walk = walker(config, clock, store)
        pages = walk.extract("orders", None)
        read = len(next(pages).records)
        account.expire_access_tokens()  # six hours pass mid-run
        read += sum(len(p.records) for p in pages)
        assert read == len(business.mercadolibre["orders"]) and walk.auth.refreshes == 2 == account.refreshes
        with psycopg.connect(fresh_db) as conn:
            kept = conn.execute("select refresh_token, refreshed_at >= refresh_started_at from ops.oauth_tokens "
                                "where source = 'mercadolibre'").fetchone()
        assert kept == (account.refresh_token, True) and kept[0] != config.refresh_token
        walk.close()
        # the next run takes the kept access token while it lives, then refreshes with the kept refresh token
        again = walker(config, clock, WarehouseTokenStore(fresh_db))
        assert again.count("orders") == read and account.refreshes == 2
        account.expire_access_tokens()
        assert again.count("orders") == read and account.refreshes == 3
        # the seller revokes the app: the refusal says so, and does not blame a cut run
        account.refresh_token = "TG-revoked"
        account.expire_access_tokens()
        with pytest.raises(SourceError, match="revoked by the seller") as refused:
            again.count("orders")
        assert "never saved" not in str(refused.value)
        again.close()


def test_a_run_cut_between_the_refresh_and_the_save_says_so_and_a_new_authorisation_resumes(fresh_db):
    class CutStore(WarehouseTokenStore):
        def save(self, tokens):
            raise KeyboardInterrupt("killed between the refresh and the save")

    with simulator() as (business, config, clock, account):
        with pytest.raises(KeyboardInterrupt):
            walker(config, clock, CutStore(fresh_db)).count("orders")
        assert account.refreshes == 1  # Mercado Libre spent the first refresh token
        with pytest.raises(SourceError) as refused:
            walker(config, clock, WarehouseTokenStore(fresh_db)).count("orders")
        message = str(refused.value)
        assert "invalid_grant" in message and "never saved its answer" in message and "authorise" in message
        assert config.refresh_token not in message and account.refresh_token not in message
        # the seller authorises the app again; its new refresh token goes into the connection
        account.refresh_token = "TG-after-authorising-again-1284551907"
        from dataclasses import replace

        renewed = replace(config, refresh_token=account.refresh_token)
        assert walker(renewed, clock, WarehouseTokenStore(fresh_db)).count("orders") == len(
            business.mercadolibre["orders"])


def landed(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"select source_id, record->>'date_last_updated' from "
                            f"{raw_object('mercadolibre', 'orders').qualified_table}").fetchall()
    return dict(rows)


def test_faults_on_the_wire_a_crash_mid_run_and_the_rerun_end_exact_with_bad_orders_quarantined(fresh_db):
    from puente.simulators import FaultRates, Faults

    rates = FaultRates(too_many_requests=0.08, server_error=0.06, timeout=0.03, malformed=0.05)
    with simulator(Faults(seed=3, mercadolibre=rates, hang_seconds=2.0)) as (business, config, clock, _account):
        class CrashAfterTwoPages(MercadoLibreConnector):
            def extract(self, obj, cursor, until=None):
                for n, page in enumerate(super().extract(obj, cursor, until), 1):
                    yield page
                    if n == 2:
                        raise ConnectionResetError("simulated crash after page 2")

        crashing = CrashAfterTwoPages(config, page_size=10, sleep=clock.advance, rng=random.Random(0),
                                      timeout=HANG_TIMEOUT, token_store=WarehouseTokenStore(fresh_db))
        with pytest.raises(ExtractionFailed, match="simulated crash"):
            extract_source(fresh_db, "mercadolibre", config, TODAY, connector=crashing)
        with psycopg.connect(fresh_db) as conn:
            assert conn.execute("select cursor from ops.extract_state where source = 'mercadolibre'").fetchone() is None

        summary = extract_source(fresh_db, "mercadolibre", config, TODAY,
                                 connector=walker(config, clock, WarehouseTokenStore(fresh_db), HANG_TIMEOUT))["orders"]
        assert summary["status"] == "ok" and summary["requests"] > summary["pages"]
        with psycopg.connect(fresh_db) as conn:
            quarantined = conn.execute("select count(*) from ops.quarantine where source = 'mercadolibre'").fetchone()[0]
        want = {str(o["id"]): o["date_last_updated"] for o in business.mercadolibre["orders"].values()}
        got = landed(fresh_db)
        assert quarantined and got.items() <= want.items() and len(set(want) - set(got)) <= quarantined
        newest = max(datetime.fromisoformat(o["date_last_updated"]) for o in business.mercadolibre["orders"].values())
        assert any(datetime.fromisoformat(v) < newest - timedelta(days=365) for v in got.values())  # outside the count

        business.advance_day()
        business.archive("mercadolibre", "orders", next(iter(business.mercadolibre["orders"])))  # a cancellation
        extract_source(fresh_db, "mercadolibre", config, TODAY,
                       connector=walker(config, clock, WarehouseTokenStore(fresh_db), HANG_TIMEOUT))
        got = landed(fresh_db)
        assert {k: v for k, v in ((str(o["id"]), o["date_last_updated"])
                                  for o in business.mercadolibre["orders"].values()) if k in got} == got
        with psycopg.connect(fresh_db) as conn:
            statuses = dict(conn.execute("select source_id, record->>'status' from raw.mercadolibre_orders").fetchall())
        first = str(next(iter(business.mercadolibre["orders"])))
        assert first not in got or statuses[first] == "cancelled"


def test_the_simulated_marketplace_sells_to_the_businesss_people_and_the_erp_is_not_told():
    from puente.simulators import Business

    business = Business(seed=11, customers=150, start=TODAY, history_days=200, mercadolibre=True)
    plain = Business(seed=11, customers=150, start=TODAY, history_days=200)
    assert business.odoo["sale.order"].keys() == plain.odoo["sale.order"].keys()  # the ERP is the same without it
    orders = business.mercadolibre["orders"]
    assert len(orders) > 20
    refs = {o["client_order_ref"] for o in business.odoo["sale.order"].values()}
    assert not any(str(r).startswith("ML-") for r in refs)  # nobody copies these sales into the ERP
    people = {p.id: p for p in business.people}
    docs = 0
    for oid, sale in orders.items():
        person = people[business.records.owner("mercadolibre", "orders", oid)]
        assert "email" not in sale["buyer"] and "phone" not in sale["buyer"]
        form = business.meli.billing[oid]
        if form is not None:
            docs += person.doc in form["identification"]["number"].replace("-", "")[: len(person.doc) + 1]
    assert docs > len(orders) / 2  # most buyers' documents are the real person's
    # the ERP order a sale should have: ML-<order id>, or one for a cart's orders, ML-PACK-<pack id>
    web = [w for w in business.integration.web_orders.values() if w.shop == "mercadolibre"]
    packs = business.mercadolibre["packs"]
    assert packs and all(len(p["orders"]) > 1 for p in packs.values())
    assert len(web) == len(orders) - sum(len(p["orders"]) - 1 for p in packs.values())
    assert not any(w.entered for w in web)
    assert all(w.name == (f"ML-PACK-{orders[w.shop_order_id]['pack_id']}" if orders[w.shop_order_id]["pack_id"]
                          else f"ML-{w.shop_order_id}") for w in web)
    for pack in packs.values():  # a cart: one order per listing, one shipment, the shipping paid once
        cart = [orders[o["id"]] for o in pack["orders"]]
        assert all(len(o["order_items"]) == 1 and o["pack_id"] == pack["id"] for o in cart)
        assert {o["shipping"]["id"] for o in cart} == {pack["shipment"]["id"]}
        assert [o["paid_amount"] - o["total_amount"] for o in cart] == [9900.0] + [0.0] * (len(cart) - 1)


def test_the_configuration_comes_from_a_connection_or_the_environment_and_hides_the_secrets():
    from types import SimpleNamespace

    from puente.config import MissingSetting

    conn = SimpleNamespace(host="", port=None, login="4410927365512088", password="s3cret",
                           extra='{"refresh_token": "TG-abc", "seller_id": 1284551907}')
    config = MercadoLibreConfig.from_connection(conn)
    assert (config.url, config.client_id, config.seller_id, config.origin) == (
        API, "4410927365512088", "1284551907", "connection puente_mercadolibre")
    assert "s3cret" not in repr(config) and "TG-abc" not in repr(config)
    assert MercadoLibreConfig.from_env(config.to_env()) == config
    with pytest.raises(MissingSetting, match="refresh_token"):
        MercadoLibreConfig.from_connection(SimpleNamespace(host="", port=None, login="1", password="s", extra="{}"))


def test_puente_check_gets_a_token_keeps_it_and_names_a_wrong_application_secret(fresh_db):
    from dataclasses import replace

    from puente.sources import checks

    with simulator() as (business, config, _clock, account):
        findings = checks.check_all({"mercadolibre": config}, fresh_db)
        assert [(f.check, f.ok) for f in findings] == [("configuration", True), ("credentials", True), ("rights", True)]
        assert f"({len(business.mercadolibre['orders'])})" in findings[-1].message
        with psycopg.connect(fresh_db) as conn:  # the refresh's new refresh token is kept for the extraction
            assert conn.execute("select refresh_token from ops.oauth_tokens").fetchone()[0] == account.refresh_token
        wrong = replace(config, client_secret="not-the-secret", refresh_token="TG-another-1284551907")
        refused = checks.check_all({"mercadolibre": wrong}, fresh_db)
    assert [(f.check, f.ok) for f in refused] == [("configuration", True), ("credentials", False)]
    assert "invalid_client" in refused[-1].message and "not-the-secret" not in refused[-1].message


def test_the_simulator_serves_a_carts_pack_and_the_connector_lands_it():
    with simulator() as (business, config, clock, _account):
        walk = walker(config, clock, MemoryTokenStore())
        pack = next(iter(business.mercadolibre["packs"].values()))
        header = walk.auth.header()
        for path in (f"/packs/{pack['id']}", f"/marketplace/orders/pack/{pack['id']}"):  # the docs give both
            answer = httpx.get(f"{config.url}{path}", headers=header)
            assert answer.status_code == 200 and answer.json() == pack
        missing = httpx.get(f"{config.url}/packs/1", headers=header)
        assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
        landed = {r.source_id: r.payload for page in walk.extract("orders", None) for r in page.records}
        ids = [str(o["id"]) for o in pack["orders"]]
        assert all(landed[oid]["pack_id"] == pack["id"] for oid in ids)
        assert all(landed[oid]["pack"] == {"status": "released", "order_ids": ids} for oid in ids)
        lone = next(oid for oid, o in business.mercadolibre["orders"].items() if o["pack_id"] is None)
        assert landed[str(lone)]["pack_id"] is None and landed[str(lone)]["pack"] is None
        walk.close()


TOKEN_ROW = ("select refresh_token, access_token, expires_at, user_id, seeded_from, refreshed_at, refresh_started_at "
             "from ops.oauth_tokens where source = 'mercadolibre'")


def kept_row(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(TOKEN_ROW).fetchone()


def test_a_wrong_refresh_token_in_the_connection_never_replaces_the_kept_tokens(fresh_db):
    from dataclasses import replace

    from puente.sources import checks

    with simulator() as (business, config, clock, account):
        walker(config, clock, WarehouseTokenStore(fresh_db)).count("orders")  # a night: the row holds a rotated token
        before = kept_row(fresh_db)
        assert before[0] == account.refresh_token != config.refresh_token
        wrong = replace(config, refresh_token="TG-WRONG-0000000000000000-1284551907")

        # puente check: a warning, the night can run, the row is as it was
        findings = checks.check_all({"mercadolibre": wrong}, fresh_db)
        assert [(f.check, f.mark) for f in findings] == [
            ("configuration", "ok"), ("credentials", "warn"), ("credentials", "ok"), ("rights", "ok")]
        assert "invalid_grant" in findings[1].message and "ops.oauth_tokens" in findings[1].message
        assert not checks.blocking(findings) and wrong.refresh_token not in checks.report(findings)
        assert kept_row(fresh_db) == before

        # a night with the typo, once the access token has expired: the kept refresh token is spent and its
        # successor kept, the row still descends from the first configured token
        account.expire_access_tokens()
        night = walker(wrong, clock, WarehouseTokenStore(fresh_db))
        assert night.count("orders") == len(business.mercadolibre["orders"]) and night.auth.seed_refused
        after = kept_row(fresh_db)
        assert after[0] == account.refresh_token != before[0] and after[4] == before[4]
        assert after[5] >= after[6]  # saved after its start: not a cut refresh
        night.close()

        # both refused (the seller revoked the app): the error says so, and names neither token
        account.refresh_token = "TG-revoked"
        account.expire_access_tokens()
        with pytest.raises(SourceError, match="revoked by the seller") as refused:
            walker(wrong, clock, WarehouseTokenStore(fresh_db)).count("orders")
        assert "refused as well" in str(refused.value) and wrong.refresh_token not in str(refused.value)
        assert kept_row(fresh_db)[0] == after[0]


def test_a_new_refresh_token_in_the_connection_is_adopted_once_mercado_libre_accepts_it(fresh_db):
    from dataclasses import replace

    from puente.sources import checks
    from puente.sources.mercadolibre.auth import digest

    with simulator() as (business, config, clock, account):
        walker(config, clock, WarehouseTokenStore(fresh_db)).count("orders")
        assert account.refreshes == 1
        # the seller authorises the app again; its new refresh token goes into the connection
        account.refresh_token = "TG-after-authorising-again-1284551907"
        renewed = replace(config, refresh_token=account.refresh_token)
        findings = checks.check_all({"mercadolibre": renewed}, fresh_db)
        assert [(f.check, f.mark) for f in findings] == [("configuration", "ok"), ("credentials", "ok"),
                                                         ("rights", "ok")]
        assert account.refreshes == 2
        adopted = kept_row(fresh_db)
        assert adopted[0] == account.refresh_token != renewed.refresh_token and adopted[4] == digest(
            renewed.refresh_token)
        assert adopted[6] is None and adopted[5] is not None
        # the next run uses the adopted tokens and does not spend the configured one again
        again = walker(renewed, clock, WarehouseTokenStore(fresh_db))
        assert again.count("orders") == len(business.mercadolibre["orders"]) and account.refreshes == 2
        account.expire_access_tokens()
        assert again.count("orders") == len(business.mercadolibre["orders"]) and account.refreshes == 3
        assert again.auth.seed_refused is None
        again.close()


def test_the_memory_store_keeps_its_tokens_from_a_refused_seed_and_adopts_an_accepted_one():
    accepted = {"TG-first-1284551907"}
    issued = iter(f"TG-{n}" for n in range(100))

    def api(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form["refresh_token"] not in accepted:
            return httpx.Response(400, json={"error": "invalid_grant", "message": "Error validating grant"})
        accepted.discard(form["refresh_token"])
        accepted.add(new := next(issued))
        return httpx.Response(200, json={"access_token": f"APP_USR-{new}", "expires_in": 21600,
                                         "user_id": 1284551907, "refresh_token": new})

    from puente.sources.http import HttpClient
    from puente.sources.mercadolibre.auth import MeliAuth

    store, http = MemoryTokenStore(), HttpClient("Mercado Libre", API, transport=httpx.MockTransport(api))
    first = MeliAuth(http, "id", "secret", "TG-first-1284551907", store)
    assert first.tokens().refresh_token == "TG-0"
    wrong = MeliAuth(http, "id", "secret", "TG-typo", store)
    assert wrong.tokens().refresh_token == "TG-0" and wrong.seed_refused and wrong.refreshes == 0
    assert wrong.refresh(wrong.tokens().access_token).refresh_token == "TG-1"  # the kept token still refreshes
    accepted.add("TG-authorised-again")
    renewed = MeliAuth(http, "id", "secret", "TG-authorised-again", store)
    assert renewed.tokens().refresh_token == "TG-2" and store.tokens.refresh_token == "TG-2"
    assert MeliAuth(http, "id", "secret", "TG-authorised-again", store).tokens().refresh_token == "TG-2"
