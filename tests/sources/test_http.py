"""The shared HTTP layer: retries, Retry-After, backoff, budget, and errors without secrets."""

from __future__ import annotations

import random

import httpx
import pytest

from puente.sources.http import HttpClient, RetryPolicy, SourceError

TOKEN = "pat-na1-very-secret-token"


def _client(handler, **options) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    client = HttpClient("HubSpot", "https://api.example.test", headers={"Authorization": f"Bearer {TOKEN}"},
                        transport=httpx.MockTransport(handler), sleep=slept.append,
                        rng=random.Random(7), **options)
    return client, slept


def _sequence(*responses: httpx.Response | Exception):
    calls = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def test_429_waits_retry_after_then_succeeds():
    client, slept = _client(_sequence(httpx.Response(429, headers={"Retry-After": "2.0"}),
                                      httpx.Response(429, headers={"Retry-After": "7"}),
                                      httpx.Response(200, json={"ok": True})))
    response = client.request("GET", "/crm/v3/objects/contacts", obj="contacts")
    assert response.json() == {"ok": True}
    assert slept == [2.0, 7.0]
    assert client.requests_made == 3


def test_5xx_and_transport_errors_back_off_exponentially_with_jitter():
    client, slept = _client(_sequence(httpx.Response(503), httpx.ConnectError("refused"),
                                      httpx.ReadTimeout("slow"), httpx.Response(502),
                                      httpx.Response(200, json={})),
                            retry=RetryPolicy(attempts=5, base_delay=1.0, max_delay=60.0))
    client.request("GET", "/x", obj="contacts")
    assert len(slept) == 4
    for attempt, wait in enumerate(slept):  # equal jitter: between half and all of 2**attempt
        assert 2 ** attempt / 2 <= wait <= 2 ** attempt


def test_backoff_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=10.0)
    rng = random.Random(1)
    assert all(5.0 <= policy.backoff(20, rng) <= 10.0 for _ in range(100))


def test_gives_up_with_a_clear_error_after_the_last_attempt():
    client, slept = _client(lambda request: httpx.Response(500, text="internal oops"),
                            retry=RetryPolicy(attempts=3))
    with pytest.raises(SourceError) as caught:
        client.request("GET", "/crm/v3/objects/deals", obj="deals", params={"after": "200"})
    message = str(caught.value)
    assert message.startswith("HubSpot deals: GET /crm/v3/objects/deals -> HTTP 500: internal oops after 3 attempts")
    assert "rerun later" in message
    assert "after=200" not in message  # the query string never reaches a message
    assert len(slept) == 2


def test_client_errors_fail_at_once_with_advice_and_no_token():
    client, slept = _client(lambda request: httpx.Response(401, json={"message": "bad token"}))
    with pytest.raises(SourceError) as caught:
        client.request("GET", "/crm/v3/objects/contacts", obj="contacts")
    assert caught.value.status == 401
    assert "check the token" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert slept == [] and client.requests_made == 1


def test_passthrough_statuses_are_returned():
    client, _ = _client(lambda request: httpx.Response(400, json={"category": "VALIDATION_ERROR"}))
    response = client.request("POST", "/batch", obj="contacts", json={}, passthrough=(400,))
    assert response.status_code == 400


def test_a_retry_after_of_hours_fails_fast():
    client, slept = _client(lambda request: httpx.Response(429, headers={"Retry-After": "86400"}))
    with pytest.raises(SourceError, match="quota is exhausted"):
        client.request("GET", "/x", obj="contacts")
    assert slept == []


def test_budget_exceeded_raises_a_clear_error():
    client, _ = _client(lambda request: httpx.Response(200, json={}), max_requests=2)
    client.request("GET", "/a", obj="contacts")
    client.request("GET", "/b", obj="contacts")
    with pytest.raises(SourceError, match="request budget of 2 spent.*raise max_requests"):
        client.request("GET", "/c", obj="contacts")


def test_retries_count_against_the_budget():
    client, _ = _client(lambda request: httpx.Response(503), max_requests=3,
                        retry=RetryPolicy(attempts=10))
    with pytest.raises(SourceError, match="budget"):
        client.request("GET", "/x", obj="contacts")
    assert client.requests_made == 3


def test_no_token_in_logs(caplog):
    client, _ = _client(_sequence(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200)))
    with caplog.at_level("DEBUG"):
        client.request("GET", "/crm/v3/objects/contacts", obj="contacts")
    assert "retry 1/5" in caplog.text
    assert TOKEN not in caplog.text
