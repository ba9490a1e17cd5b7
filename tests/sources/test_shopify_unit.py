"""Shopify pieces that need no server: Link header parsing and the leaky-bucket pause."""

from __future__ import annotations

import pytest

from puente.sources.shopify import next_link, throttle_seconds

BASE = "https://shop.myshopify.com/admin/api/2025-01/customers.json"


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("", None),
    (f'<{BASE}?page_info=abc&limit=250>; rel="next"', f"{BASE}?page_info=abc&limit=250"),
    (f'<{BASE}?page_info=prev&limit=250>; rel="previous", <{BASE}?page_info=nxt&limit=250>; rel="next"',
     f"{BASE}?page_info=nxt&limit=250"),
    (f'<{BASE}?page_info=prev&limit=250>; rel="previous"', None),
    (f"<{BASE}?page_info=x>; rel=next", f"{BASE}?page_info=x"),
])
def test_next_link(header, expected):
    assert next_link(header) == expected


@pytest.mark.parametrize(("call_limit", "pause"), [
    (None, 0.0), ("garbage", 0.0), ("1/40", 0.0), ("32/40", 0.0), ("36/40", 2.0), ("40/40", 4.0),
    ("100/400", 0.0),
])
def test_throttle_pauses_only_near_the_top_of_the_bucket(call_limit, pause):
    assert throttle_seconds(call_limit) == pytest.approx(pause)
