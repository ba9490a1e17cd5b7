"""WooCommerce connector pieces against a scripted store (httpx.MockTransport): the query each walk
sends, Link and X-WP-TotalPages paging, the trash pass, the customers' client-side window, the
cursor's caution, a Link to another origin, and the key kept out of errors."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import httpx
import pytest

from puente.sources import registry
from puente.sources.fields import wordpress_fields
from puente.sources.http import SourceError
from puente.sources.woocommerce import WooCommerceConfig, WooCommerceConnector

SITE = "https://tienda.example.co"
API = f"{SITE}/wp-json/wc/v3"
KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40


def record(rid: int, modified: str, **fields) -> dict:
    return {"id": rid, "date_modified_gmt": modified, **fields}


class Store:
    """Answers list requests from ``pages[(object, status)]`` (lists of record lists), with WordPress's headers."""

    def __init__(self, pages: dict, link: bool = True, totals: list[int] | None = None):
        self.pages, self.link, self.totals, self.seen = pages, link, totals, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        self.seen.append(request.url)
        obj = request.url.path.rsplit("/", 1)[-1]
        params = dict(request.url.params)
        pages = self.pages[(obj, params.get("status"))]
        page = int(params.get("page", "1"))
        total = self.totals[len(self.seen) - 1] if self.totals else sum(map(len, pages))
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(len(pages))}
        if self.link and page < len(pages):
            headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, json=pages[page - 1], headers=headers)


def connector(store, **options) -> WooCommerceConnector:
    return WooCommerceConnector(WooCommerceConfig(API, KEY, SECRET), transport=httpx.MockTransport(store),
                                sleep=lambda s: None, lookback=3600, **options)


def test_orders_walk_modified_after_in_id_order_then_the_trash_flagged_deleted():
    store = Store({("orders", "any"): [[record(1, "2026-11-10T08:00:00")], [record(5, "2026-11-12T09:30:00")]],
                   ("orders", "trash"): [[record(3, "2026-11-11T10:00:00", status="trash")]]})
    pages = list(connector(store).extract("orders", "2026-11-10T12:00:00", until="2026-11-13T00:00:00"))
    first = dict(store.seen[0].params)
    declared = ",".join(wordpress_fields(registry.source_object("woocommerce", "orders").landed_fields))
    assert first == {"per_page": "100", "orderby": "id", "order": "asc", "status": "any", "dates_are_gmt": "true",
                     "modified_after": "2026-11-10T11:00:00", "modified_before": "2026-11-13T00:00:00",
                     "_fields": declared}
    assert dict(store.seen[1].params)["page"] == "2"  # the Link, as given
    assert dict(store.seen[2].params)["status"] == "trash" and dict(store.seen[2].params)["_fields"] == declared
    assert [p.cursor for p in pages] == [None, None, "2026-11-12T09:30:00"]  # the greatest, after the last pass
    assert [(r.source_id, r.deleted) for p in pages for r in p.records] == [("1", False), ("5", False), ("3", True)]


def test_customers_have_no_filter_every_page_is_read_and_the_window_kept_here():
    store = Store({("customers", None): [[record(1, "2026-11-01T00:00:00"), record(2, "2026-11-10T11:30:00")],
                                         [record(3, "not a date"), record(4, "2026-11-10T10:59:59")]]},
                  link=False)  # a host that strips Link: X-WP-TotalPages says there is a page 2
    pages = list(connector(store).extract("customers", "2026-11-10T12:00:00"))
    assert len(store.seen) == 2 and "modified_after" not in dict(store.seen[0].params)
    assert [r.source_id for p in pages for r in p.records] == ["2", "3"]  # 3 is kept for quarantine
    assert pages[-1].cursor == "2026-11-10T12:00:00"  # never older than the cursor it was given


def test_a_listing_that_shrinks_while_paged_leaves_the_cursor():
    pages = {("products", "any"): [[record(1, "2026-11-10T08:00:00")], [record(2, "2026-11-12T08:00:00")]],
             ("products", "trash"): [[]]}
    steady = list(connector(Store(pages, totals=[2, 2, 0])).extract("products", None))
    shrunk = list(connector(Store(pages, totals=[2, 1, 0])).extract("products", None))
    assert steady[-1].cursor == "2026-11-12T08:00:00" and shrunk[-1].cursor is None


def test_a_link_to_another_origin_is_refused_and_the_key_never_shows():
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"Link": '<http://tienda.example.co/wp-json/wc/v3/orders?page=2>; '
                                                             'rel="next"'})
    with pytest.raises(SourceError, match="Link header pointing at http://tienda.example.co") as caught:
        list(connector(elsewhere).extract("orders", None))
    assert SECRET not in str(caught.value)

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "woocommerce_rest_authentication_error",
                                         "message": "Consumer secret is invalid.", "data": {"status": 401}})
    with pytest.raises(SourceError, match="HTTP 401.*woocommerce_rest_authentication_error") as caught:
        list(connector(refused).extract("orders", None))
    assert SECRET not in str(caught.value) and KEY not in str(caught.value)


def test_count_and_ids():
    store = Store({("orders", "any"): [[record(1, "x"), record(2, "y")], [record(9, "z")]]})
    assert connector(store).count("orders") == 3
    assert connector(store).list_ids("orders") == {"1", "2", "9"}
    assert dict(store.seen[-1].params)["_fields"] == "id"


def test_config_from_a_connection_and_back_from_the_environment():
    conn = SimpleNamespace(host="tienda.example.co/", port=None, login=KEY, password=SECRET, extra=None)
    config = WooCommerceConfig.from_connection(conn)
    assert (config.url, config.site, config.origin) == (API, SITE, "connection puente_woocommerce")
    assert SECRET not in repr(config) and KEY not in repr(config)
    assert WooCommerceConfig.from_env(config.to_env()) == config
    assert WooCommerceConfig.from_env({**config.to_env(), "PUENTE_WOOCOMMERCE_URL": API + "/"}).url == API
