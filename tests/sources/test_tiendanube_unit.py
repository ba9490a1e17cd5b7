"""Tienda Nube connector pieces against a scripted store (httpx.MockTransport): the headers every
request carries, the walk's passes over payment statuses, Link paging and the 404 past the last
page, the cursor's caution, the wait a 429 asks for without Retry-After, the bucket's throttle, a
Link to another origin, and the configuration from an Airflow connection."""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

from puente.config import MissingSetting
from puente.sources import registry
from puente.sources.fields import top_level
from puente.sources.http import SourceError
from puente.sources.tiendanube import TiendaNubeConfig, TiendaNubeConnector

API = "https://api.tiendanube.com/v1/123456"
TOKEN = "f" * 40
AGENT = "Puente (ops@casa.example.co)"


def record(rid: int, updated: str, **fields) -> dict:
    return {"id": rid, "updated_at": updated, **fields}


class Store:
    """Answers list requests from ``pages[(object, payment_status)]`` with Tienda Nube's headers."""

    def __init__(self, pages: dict, totals: list[int] | None = None, remaining: int = 40):
        self.pages, self.totals, self.remaining, self.seen = pages, totals, remaining, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authentication"] == f"bearer {TOKEN}" and "Authorization" not in request.headers
        assert request.headers["User-Agent"] == AGENT
        self.seen.append(request.url)
        obj = request.url.path.rsplit("/", 1)[-1]
        params = dict(request.url.params)
        pages = self.pages[(obj, params.get("payment_status"))]
        page = int(params.get("page", "1"))
        rate = {"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": str(self.remaining),
                "X-Rate-Limit-Reset": "500"}
        if page > max(1, len(pages)):
            return httpx.Response(404, json={"code": 404, "message": "Not Found",
                                             "description": f"Last page is {len(pages)}"}, headers=rate)
        total = self.totals[len(self.seen) - 1] if self.totals else sum(map(len, pages))
        headers = {"X-Total-Count": str(total), **rate}
        if page < len(pages):
            headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
        return httpx.Response(200, json=pages[page - 1] if pages else [], headers=headers)


def connector(store, **options) -> TiendaNubeConnector:
    return TiendaNubeConnector(TiendaNubeConfig(API, TOKEN, AGENT), transport=httpx.MockTransport(store),
                               lookback=3600, **{"sleep": lambda s: None, **options})


def test_orders_walk_updated_at_min_then_the_refunded_and_voided_passes():
    store = Store({("orders", None): [[record(9, "2026-11-10T08:00:00-05:00")],
                                      [record(5, "2026-11-12T09:30:00-05:00")]],
                   ("orders", "refunded"): [[record(3, "2026-11-11T10:00:00-05:00", status="cancelled")]],
                   ("orders", "voided"): []})
    pages = list(connector(store).extract("orders", "2026-11-10T17:00:00+00:00",
                                          until="2026-11-13T05:00:00+00:00"))
    declared = ",".join(top_level(registry.source_object("tiendanube", "orders").landed_fields))
    assert dict(store.seen[0].params) == {"per_page": "200", "fields": declared,
                                          "updated_at_min": "2026-11-10T16:00:00+00:00",
                                          "updated_at_max": "2026-11-13T05:00:00+00:00"}
    assert dict(store.seen[1].params)["page"] == "2"  # the Link, as given
    assert [dict(u.params).get("payment_status") for u in store.seen[2:]] == ["refunded", "voided"]
    # the greatest updated-at, only once every pass is read
    assert [p.cursor for p in pages] == [None, None, None, "2026-11-12T09:30:00-05:00"]
    assert [(r.source_id, r.deleted) for p in pages for r in p.records] == [("9", False), ("5", False),
                                                                              ("3", False)]


def test_a_listing_that_shrinks_while_paged_leaves_the_cursor():
    pages = {("products", None): [[record(1, "2026-11-10T08:00:00-05:00")], [record(2, "2026-11-12T08:00:00-05:00")]]}
    steady = list(connector(Store(pages, totals=[2, 2])).extract("products", None))
    shrunk = list(connector(Store(pages, totals=[2, 1])).extract("products", None))
    assert steady[-1].cursor == "2026-11-12T08:00:00-05:00" and shrunk[-1].cursor is None


def test_count_and_ids_span_the_passes_and_a_404_past_the_last_page_ends_the_list():
    store = Store({("orders", None): [[record(1, "x"), record(2, "y")], [record(9, "z")]],
                   ("orders", "refunded"): [[record(4, "w")]], ("orders", "voided"): []})
    assert connector(store).count("orders") == 4
    assert connector(store).list_ids("orders") == {"1", "2", "9", "4"}
    assert dict(store.seen[-1].params)["fields"] == "id"

    def missing(request: httpx.Request) -> httpx.Response:  # a wrong store id is no end of a list
        return httpx.Response(404, json={"code": 404, "message": "Not Found", "description": "Store not found"})
    with pytest.raises(SourceError, match="HTTP 404.*Store not found"):
        list(connector(missing).extract("customers", None))


def test_a_429_waits_what_x_rate_limit_reset_says_and_a_full_bucket_throttles():
    slept: list[float] = []
    answers = iter([httpx.Response(429, json={"code": 429, "message": "Too Many Requests", "description": "…"},
                                   headers={"X-Rate-Limit-Limit": "40", "X-Rate-Limit-Remaining": "0",
                                            "X-Rate-Limit-Reset": "19500"})])

    def limited(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or Store({("customers", None): [[record(1, "2026-11-10T08:00:00-05:00")]]},
                                            remaining=2)(request)
    pages = list(connector(limited, sleep=slept.append).extract("customers", None))
    assert [r.source_id for p in pages for r in p.records] == ["1"]
    # 19.5 s until the bucket is empty, then (38 of 40 used) a pause until it is below 80 % again
    assert slept == [19.5, pytest.approx((38 - 32) / 2)]


def test_a_link_to_another_origin_is_refused_and_the_token_never_shows():
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"X-Total-Count": "300",
                                                     "Link": '<http://api.tiendanube.com/v1/123456/orders?page=2>; '
                                                             'rel="next"'})
    with pytest.raises(SourceError, match="Link header pointing at http://api.tiendanube.com") as caught:
        list(connector(elsewhere).extract("orders", None))
    assert TOKEN not in str(caught.value)

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 401, "message": "Unauthorized", "description": "Invalid access token"})
    with pytest.raises(SourceError, match="HTTP 401.*Invalid access token") as caught:
        list(connector(refused).extract("orders", None))
    assert TOKEN not in str(caught.value)


def test_config_from_a_connection_and_back_from_the_environment():
    conn = SimpleNamespace(host=None, port=None, login="123456", password=TOKEN,
                           extra=json.dumps({"user_agent": AGENT}))
    config = TiendaNubeConfig.from_connection(conn)
    assert (config.url, config.store_id, config.origin) == (API, "123456", "connection puente_tiendanube")
    assert TOKEN not in repr(config)
    assert TiendaNubeConfig.from_env(config.to_env()) == config
    brazil = SimpleNamespace(host="api.nuvemshop.com.br/v1/654321", port=None, login=None, password=TOKEN,
                             extra={"user_agent": AGENT})
    assert TiendaNubeConfig.from_connection(brazil).url == "https://api.nuvemshop.com.br/v1/654321"
    with pytest.raises(MissingSetting, match="user_agent"):
        TiendaNubeConfig.from_connection(SimpleNamespace(host=None, port=None, login="1", password=TOKEN, extra=None))
    with pytest.raises(MissingSetting, match="store id"):
        TiendaNubeConfig.from_connection(SimpleNamespace(host=None, port=None, login=None, password=TOKEN,
                                                         extra={"user_agent": AGENT}))
    with pytest.raises(MissingSetting, match="names no contact"):
        TiendaNubeConfig(API, TOKEN, "Puente")
