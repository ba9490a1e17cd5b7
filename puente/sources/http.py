"""The HTTP layer every connector shares: timeouts, polite retries, a request budget, clear errors.

What it relies on, per the services' public docs:

- HubSpot, Shopify and Odoo (behind its proxy) answer ``429 Too Many Requests`` when a rate
  limit is hit; HubSpot and Shopify send ``Retry-After`` in seconds (Shopify as ``"2.0"``).
  WooCommerce has no limit of its own, but the hosts in front of a store answer 429 or 503,
  often with ``Retry-After``. All are retried, waiting ``Retry-After`` when present (on a 5xx
  too), exponential backoff with jitter otherwise. So are other 5xx answers, timeouts and
  broken connections, which are transient.
- Any other 4xx means the request itself is wrong (credentials, scopes, URL, payload):
  retrying cannot help, so it fails at once with advice for the operator.

Every attempt counts against the per-run request budget, so a paging loop or a retry storm
ends with a clear error instead of burning the account's daily API quota. Errors and logs name
the method and path only: never the query string, headers or body, where credentials live.

A page with one broken record still parses (``SourceResponse.json``): bytes that are not UTF-8
and nesting deeper than ``MAX_JSON_DEPTH`` reach the loader inside that record, which
quarantines it with the reason, instead of failing the whole page as a wrong URL would.

Transport safety:

- A TLS failure (a certificate that is expired, self-signed, for another host, a server that
  does not speak TLS on that port) is a configuration problem, not an outage: it fails at once
  with the certificate's reason, never retried.
- Plain ``http://`` is refused for any host that is not this machine (``localhost``, a loopback
  address): credentials would cross the network in clear. A trusted private network (a Docker
  network, a VPN) is allowed host by host in ``PUENTE_ALLOW_HTTP_HOSTS`` (comma-separated names).
- ``same_origin`` tells whether a URL handed over by the service (a pagination link) is on the
  base URL's scheme, host and port; connectors never follow one that is not.
- Every answer's ``Date`` header (RFC 9110: the service's own clock) is kept in ``source_time``:
  the extraction caps its cursor and spots records stamped in the future by the source's clock,
  not by this machine's.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import re
import ssl
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from puente.activation.pacing import Pacer

log = logging.getLogger(__name__)
# httpx logs every request line at INFO; this layer logs what matters (retries, failures) itself.
logging.getLogger("httpx").setLevel(logging.WARNING)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# JSON nested deeper than this is cut and replaced by TOO_DEEP (Python's parser would raise
# RecursionError near 1,000 levels; no real record nests a tenth of that).
MAX_JSON_DEPTH = 256
# Holds a NUL, which jsonb cannot store, so it can never be landed by mistake (puente.load).
TOO_DEEP = f"\x00nested deeper than {MAX_JSON_DEPTH} levels (the source's JSON was cut there)"
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
# Hosts (comma-separated) that may be reached over plain http:// although they are not this machine.
ALLOW_HTTP_SETTING = "PUENTE_ALLOW_HTTP_HOSTS"


class SourceError(RuntimeError):
    """A source system refused or failed a request.

    The message says which system, which object, which request, what came back and what the
    operator can do about it (STYLE item 12). ``status`` is the HTTP status, when there was one.
    """

    def __init__(self, system: str, obj: str, request: str, outcome: str, advice: str,
                 status: int | None = None):
        self.system, self.object, self.request, self.outcome, self.advice = system, obj, request, outcome, advice
        self.status = status
        super().__init__(f"{system} {obj}: {request} -> {outcome}. {advice}")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a request and how long to wait in between."""

    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    # A Retry-After beyond this is a quota exhausted for hours, not a burst limit: fail fast.
    max_retry_after: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random, capped."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** attempt)
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (``"2"``, ``"2.0"``), or None when absent or not a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _advice(status: int) -> str:
    if status in (401, 403):
        return ("The credentials were refused or lack a permission: check the token or API key "
                "and its scopes in the Airflow connection or PUENTE_* variables")
    if status == 404:
        return "Check the base URL (and for Shopify the API version in it) and that the object exists"
    return ("The service rejected the request itself; retrying will not help. If the URL and "
            "credentials are right, report this message: the API may have changed")


class UncertainWrite(SourceError):
    """A write that is not repeated automatically lost its answer (a 5xx, a dropped connection):
    the service may or may not have carried it out. The caller looks the record up before
    sending it again (the activation engine does, by the row's external key)."""


_MAYBE_DONE = ("The service may have carried this write out before failing, so it is not sent again now; "
               "the next run looks the record up first and sends it only if it is not there")


def _tls_failure(exc: BaseException) -> str | None:
    """Why TLS failed, when ``exc`` (or what caused it) is a TLS error that retrying cannot fix;
    None for anything else (a refused or dropped connection, a timeout, a TLS session cut short)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return f"certificate refused: {error.verify_message or error.reason or error}"
        if isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLEOFError | ssl.SSLZeroReturnError |
                                                               ssl.SSLSyscallError):
            return f"TLS handshake failed: {error.reason or error}"
        error = error.__cause__ or error.__context__
    return None


def is_local_host(host: str) -> bool:
    """Whether ``host`` is this machine (a name or address of the loopback interface)."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_http_hosts(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """Hosts that may be reached over plain ``http://`` besides this machine (``PUENTE_ALLOW_HTTP_HOSTS``)."""
    value = (os.environ if env is None else env).get(ALLOW_HTTP_SETTING, "")
    return frozenset(host.strip().lower() for host in value.split(",") if host.strip())


def check_scheme(system: str, url: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse plain ``http://`` to a host that is neither local nor allowed (``PUENTE_ALLOW_HTTP_HOSTS``)."""
    parts = httpx.URL(url)
    host = parts.host or ""
    if parts.scheme != "http" or not host or is_local_host(host) or host.lower() in allowed_http_hosts(env):
        return
    raise SourceError(system, "*", f"connect to http://{host}", "refused: plain http:// to a host that is "
                      "not this machine would send the credentials and the data unencrypted",
                      f"Use https:// in the base URL. Only on a network you trust (a private Docker network, "
                      f"a VPN), allow this host with {ALLOW_HTTP_SETTING}={host} (comma-separated list)")


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^",;]+)"?')


def next_link(header: str | None) -> str | None:
    """The URL with ``rel="next"`` in a ``Link`` header (RFC 8288: Shopify, WordPress), or None."""
    for url, rel in _LINK.findall(header or ""):
        if rel.strip() == "next":
            return url
    return None


def header_int(response: httpx.Response, name: str) -> int | None:
    """A header's whole number (``X-WP-Total``, ``X-Total-Count``), or None when absent or not a number."""
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None


def json_list(response: httpx.Response, system: str, obj: str, advice: str) -> list[Any]:
    """The JSON array a list endpoint answers (WordPress, Tienda Nube), or a ``SourceError`` saying
    what came instead."""
    try:
        results = response.json()
    except ValueError:
        results = None
    if not isinstance(results, list):
        raise SourceError(system, obj, f"GET {response.request.url.path}",
                          f"HTTP {response.status_code} without a list of {obj}: {response.text[:200]!r}", advice)
    return results


def _answer_time(response: httpx.Response) -> datetime | None:
    """The service's clock when it answered (its ``Date`` header), or None when absent or unreadable."""
    dates = response.headers.get_list("Date")
    value = dates[-1] if dates else None  # when two are sent, the application's own comes last
    try:
        moment = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _body_excerpt(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")


class SourceResponse(httpx.Response):
    """A successful answer whose ``json()`` reads a page even when one record in it is broken."""

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except (UnicodeDecodeError, RecursionError):
            # JSON is UTF-8 (RFC 8259); an invalid byte becomes a lone surrogate U+DC80..U+DCFF
            text = self.content.decode("utf-8", "surrogateescape")
        try:
            return json.loads(text, **kwargs)
        except RecursionError:
            return json.loads(_cut_deep(text), **kwargs)


def _cut_deep(text: str) -> str:
    """``text`` with every array or object deeper than MAX_JSON_DEPTH replaced by TOO_DEEP."""
    parts, depth, start, kept = [], 0, None, 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth == MAX_JSON_DEPTH + 1:
                start = token.start()
        elif char in "]}":
            if depth == MAX_JSON_DEPTH + 1 and start is not None:
                parts += [text[kept:start], json.dumps(TOO_DEEP)]
                kept, start = token.end(), None
            depth -= 1
    return "".join([*parts, text[kept:]])


class HttpClient:
    """An ``httpx.Client`` for one source system with retries, a budget and readable errors.

    ``sleep`` and ``rng`` are injectable so tests never wait; ``transport`` lets unit tests
    answer requests with ``httpx.MockTransport``. ``pacer`` (writes) spaces requests to stay
    under the service's rate limit instead of running into it. ``retry_after`` reads how long a
    429 or 5xx asks to wait (``Retry-After`` by default; a service that says it otherwise, as
    Tienda Nube's ``X-Rate-Limit-Reset``, passes its own reading). A plain ``http://`` base URL is refused unless
    its host is local or allowed (``check_scheme``). ``source_time`` is the service's clock at its
    latest answer (its ``Date`` header), None until it sent one.
    """

    def __init__(self, system: str, base_url: str, *, headers: dict[str, str] | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 max_requests: int = 20_000, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None, transport: httpx.BaseTransport | None = None,
                 pacer: Pacer | None = None,
                 retry_after: Callable[[httpx.Response], float | None] = retry_after_seconds):
        check_scheme(system, base_url)
        self._retry_after = retry_after
        self.system = system
        self.pacer = pacer
        self.source_time: datetime | None = None
        self.retry = retry or RetryPolicy()
        self.max_requests = max_requests
        self.requests_made = 0
        self.sleep = sleep
        self._rng = rng or random.Random()
        self._client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout,
                                    transport=transport)

    @property
    def base_url(self) -> httpx.URL:
        return self._client.base_url

    def close(self) -> None:
        self._client.close()

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has the base URL's scheme, host and port (a link the service handed over
        that points elsewhere must not be followed: the credentials would travel with it)."""
        target, base = self._client.base_url.join(url), self._client.base_url
        return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)

    def follow(self, url: str | None, obj: str, request: str, advice: str) -> str | None:
        """``url`` (a next-page link the service handed over), refused with a ``SourceError`` when it
        points at another scheme, host or port: the credentials would travel there."""
        if url is not None and not self.same_origin(url):
            target = httpx.URL(url)
            raise SourceError(self.system, obj, request, f"a Link header pointing at {target.scheme}://{target.host}"
                              + (f":{target.port}" if target.port else ""), advice)
        return url

    def request(self, method: str, url: str, *, obj: str, params: dict[str, Any] | None = None,
                json: Any = None, content: bytes | str | None = None,
                headers: dict[str, str] | None = None, passthrough: Collection[int] = (),
                label: str | None = None, repeatable: bool = True) -> httpx.Response:
        """Send one request, retrying transient failures; return the response when it is 2xx.

        Statuses in ``passthrough`` are returned to the caller too (e.g. HubSpot's 400 on a
        batch, which the caller records per contact). ``label`` names the request in logs
        and errors when method + path alone say too little (XML-RPC calls share one path).
        A request that is not ``repeatable`` (a create) is retried only when it surely never
        reached the service (a refused connection, a 429): after a timeout or a 5xx it may have
        been carried out, and sending it again could do it twice, so it fails at once and the
        caller looks the record up before trying again.
        """
        built = self._client.build_request(method, url, params=params, json=json, content=content,
                                           headers=headers)
        request = f"{method} {built.url.path}" + (f" ({label})" if label else "")
        attempt = 0
        while True:
            attempt += 1
            self._spend(obj, request)
            try:
                response = self._client.send(built)
            except httpx.TransportError as exc:  # timeouts, refused or dropped connections
                tls = _tls_failure(exc)
                if tls:  # a certificate does not fix itself: no retry
                    raise SourceError(self.system, obj, request, tls,
                                      "This is not an outage: check the host name in the base URL and the "
                                      "service's certificate (its validity dates, the names it covers). A "
                                      "certificate signed by a private authority is trusted by pointing "
                                      "SSL_CERT_FILE at a file holding the public authorities and that one "
                                      "(the file replaces them)") from None
                outcome, wait, status = type(exc).__name__, None, None
                if not repeatable and not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    raise UncertainWrite(self.system, obj, request, outcome, _MAYBE_DONE) from None
            else:
                self.source_time = _answer_time(response) or self.source_time
                status = response.status_code
                if response.is_success or status in passthrough:
                    response.__class__ = SourceResponse
                    return response
                outcome = f"HTTP {status}: {_body_excerpt(response)}"
                if status != 429 and status < 500:
                    raise SourceError(self.system, obj, request, outcome, _advice(status), status)
                if status != 429 and not repeatable:
                    raise UncertainWrite(self.system, obj, request, outcome, _MAYBE_DONE, status)
                wait = self._retry_after(response)
                if wait is not None and wait > self.retry.max_retry_after:
                    raise SourceError(self.system, obj, request, outcome + f" (Retry-After {wait:.0f} s)",
                                      "The API quota is exhausted for longer than a night's run can "
                                      "wait: rerun the extraction after that time", status)
            if attempt == self.retry.attempts:
                raise SourceError(self.system, obj, request, f"{outcome} after {attempt} attempts",
                                  "The service is down or throttling hard: rerun later; the extraction "
                                  "resumes from the last committed page", status)
            wait = self.retry.backoff(attempt - 1, self._rng) if wait is None else wait
            log.warning("%s %s: %s -> %s; retry %d/%d in %.1f s", self.system, obj, request, outcome,
                        attempt, self.retry.attempts - 1, wait)
            self.sleep(wait)

    def _spend(self, obj: str, request: str) -> None:
        if self.requests_made >= self.max_requests:
            raise SourceError(self.system, obj, request, f"request budget of {self.max_requests} spent",
                              "Either the data grew (raise max_requests for this source) or paging "
                              "is looping (check the cursor in ops.extract_state)")
        if self.pacer is not None:
            self.pacer.acquire()
        self.requests_made += 1
