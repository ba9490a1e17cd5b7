"""Salesforce: extraction of Accounts, Contacts, Leads, Opportunities and their line items.

What it relies on is in ``settings.py`` (with the docs it follows). The walk of one sObject:

- A token first (``POST /services/oauth2/token``: client credentials, or a refresh token), whose
  ``instance_url`` is where every data request goes. A request answered 401 ``INVALID_SESSION_ID``
  (the session expired or was revoked) asks for a new token once and is sent again; a second
  refusal is an error saying what to check.
- ``GET …/queryAll?q=SELECT <declared fields> FROM <sObject> WHERE SystemModstamp >= <cursor -
  lookback> [AND SystemModstamp < <until>] ORDER BY SystemModstamp ASC, Id ASC``, then each
  ``nextRecordsUrl`` as given (same origin only) until ``done``. ``queryAll`` serves deleted
  records too (``IsDeleted``), which land with ``_deleted``: deleting stamps ``SystemModstamp``, so
  the incremental walk sees deletions without comparing id sets (``list_ids`` is None). A record
  purged from the Recycle Bin (after about 15 days) before a run reads it is not seen as deleted.
- The walk is sorted on the cursor, so each page's cursor is the greatest ``SystemModstamp`` read
  so far (never older than the one given): a run that stops mid-walk resumes from its last
  committed page, and the overlap is read again as unchanged. A transient failure on a
  ``nextRecordsUrl`` (5xx, timeout) repeats that same locator.
- ``count`` is ``SELECT COUNT() FROM <sObject>``'s ``totalSize`` (live records only).
- Limits: every answer's ``Sforce-Limit-Info: api-usage=n/m`` is kept (``api_usage``) and logged
  after each object. Before each request the connector checks it: once the org has used all but
  ``quota_reserve`` of its daily requests, the walk stops with an error saying so (the pages read
  are committed; the next run resumes), rather than spend the requests the business's own people
  and integrations need. A 403 ``REQUEST_LIMIT_EXCEEDED`` for the daily limit ("TotalRequests")
  stops the same way; one for a concurrency limit passes and is retried after a pause, as are 5xx
  answers and timeouts (``puente.sources.http``).
- Malformed records (no ``Id``, a ``SystemModstamp`` that is not a date) are handed over as they
  are and the loader quarantines them; they do not move the cursor.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from puente.sources.base import (
    DEFAULT_LOOKBACK,
    HttpConnector,
    Page,
    Record,
    latest,
    parse_timestamp,
    text_id,
)
from puente.sources.http import HttpClient, SourceError
from puente.sources.salesforce.config import CONN_ID, ENV, SalesforceConfig
from puente.sources.salesforce.settings import (
    DATA_PATH,
    DEFAULT_QUOTA_RESERVE,
    MIN_QUERY_BATCH,
    OBJECTS,
    QUERY_BATCH,
    SYSTEM,
    TOKEN_PATH,
    SObject,
)

log = logging.getLogger(__name__)

_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
CREDENTIALS_ADVICE = (f"Check the connected app's consumer key and secret (login and password of the Airflow "
                      f"connection {CONN_ID}, or {ENV}_CLIENT_ID/_CLIENT_SECRET), that the app allows the flow "
                      f"used (client credentials needs a run-as user; a refresh token must not be revoked), and "
                      f"that the URL is the org's My Domain URL")


class QuotaExhausted(SourceError):
    """The org's daily API requests are (nearly) spent: the walk stops before it takes the rest."""


def sf_timestamp(moment: datetime) -> str:
    """A moment as Salesforce writes a datetime: ``2026-11-16T14:03:22.000+0000`` (UTC)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:23] + "+0000"


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC, whole seconds rounded down)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    """Salesforce's error answer, a JSON list of ``{"message", "errorCode", "fields"}`` ([] otherwise)."""
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict):
        body = [body]
    return [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []


def error_text(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('errorCode') or e.get('statusCode')}: {e.get('message')}" for e in errors) or "no detail"


class SalesforceConnector(HttpConnector):
    source = "salesforce"
    objects = tuple(o.name for o in OBJECTS)

    def __init__(self, config: SalesforceConfig, *, batch_size: int = QUERY_BATCH, lookback: float = DEFAULT_LOOKBACK,
                 quota_reserve: float = DEFAULT_QUOTA_RESERVE, **http_options: Any):
        if not MIN_QUERY_BATCH <= batch_size <= QUERY_BATCH:
            raise ValueError(f"batch_size must be between {MIN_QUERY_BATCH} and {QUERY_BATCH}, got {batch_size}")
        if not 0 <= quota_reserve < 1:
            raise ValueError(f"quota_reserve is a share of the daily API requests, 0 to 1; got {quota_reserve}")
        self.config, self.lookback, self.quota_reserve = config, lookback, quota_reserve
        self._batch = batch_size
        self._options = http_options
        self._objects = {o.name: o for o in OBJECTS}
        self.login = HttpClient(SYSTEM, config.url, **http_options)
        self._data: HttpClient | None = None
        self._retired = 0  # requests of a data client replaced by one for another instance
        self._token: str | None = None
        self.api_usage: tuple[int, int] | None = None  # (requests used in 24 h, daily allocation)
        self.sessions = 0  # tokens obtained

    # ---------------------------------------------------------------------------------------
    # Session and requests
    # ---------------------------------------------------------------------------------------

    @property
    def http(self) -> HttpClient:  # type: ignore[override]
        """The instance's client (a token is obtained first)."""
        if self._data is None:
            self.authenticate()
        assert self._data is not None
        return self._data

    @property
    def requests_made(self) -> int:
        return self.login.requests_made + self._retired + (self._data.requests_made if self._data else 0)

    @property
    def source_time(self) -> datetime | None:
        return self._data.source_time if self._data else self.login.source_time

    def close(self) -> None:
        self.login.close()
        if self._data is not None:
            self._data.close()

    def authenticate(self) -> None:
        """Ask for an access token; the data client goes to the ``instance_url`` it names."""
        response = self.login.request("POST", TOKEN_PATH, obj="access token", passthrough=(400, 401),
                                      content=urlencode(self.config.token_form()),
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        body = response.json() if response.content else {}
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200 or not body.get("access_token") or not body.get("instance_url"):
            raise SourceError(SYSTEM, "access token", f"POST {TOKEN_PATH}",
                              f"HTTP {response.status_code}: {body.get('error', '')} {body.get('error_description', '')}"
                              .strip(), CREDENTIALS_ADVICE, response.status_code)
        self._token = str(body["access_token"])
        self.sessions += 1
        instance = str(body["instance_url"]).rstrip("/")
        if self._data is None or str(self._data.base_url).rstrip("/") != instance:
            if self._data is not None:  # the org moved to another instance (a migration)
                self._retired += self._data.requests_made
                self._data.close()
            self._data = HttpClient(SYSTEM, instance, **self._options)

    def get(self, url: str, obj: str, params: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        """GET a data resource (a JSON object)."""
        return self.json_body(self.send("GET", url, obj, params=params, headers=headers), obj)

    def send(self, method: str, url: str, obj: str, *, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, json: Any = None, passthrough: tuple[int, ...] = (),
             repeatable: bool = True) -> httpx.Response:
        """One request to the instance: the session refreshed once when it expired, the quota watched,
        a concurrency limit waited out; the 2xx answer (or one of ``passthrough``)."""
        refreshed, attempt = False, 0
        while True:
            self._check_quota(obj, url)
            client = self.http
            response = client.request(method, url, obj=obj, params=params, json=json, repeatable=repeatable,
                                      passthrough=(401, 403, *passthrough),
                                      headers={"Authorization": f"Bearer {self._token}", **(headers or {})})
            self._read_usage(response)
            if response.is_success or response.status_code in passthrough:
                return response
            errors = errors_of(response)
            codes = {e.get("errorCode") for e in errors}
            request = f"{method} {httpx.URL(url).path}"
            if response.status_code == 401 and "INVALID_SESSION_ID" in codes and not refreshed:
                log.info("Salesforce session expired or revoked: asking for a new token")
                refreshed = True
                self.authenticate()
                continue
            if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
                if "TotalRequests" in error_text(errors):
                    raise QuotaExhausted(SYSTEM, obj, request, f"HTTP 403: {error_text(errors)}", _quota_advice(
                        self.api_usage), 403)
                attempt += 1  # a concurrency limit: it passes
                if attempt < client.retry.attempts:
                    wait = client.retry.backoff(attempt - 1, _RNG)
                    log.warning("Salesforce %s: %s; retry %d in %.1f s", obj, error_text(errors), attempt, wait)
                    client.sleep(wait)
                    continue
            advice = CREDENTIALS_ADVICE if response.status_code == 401 else (
                "Check that the integration user may read this object and its fields (profile or permission set)")
            raise SourceError(SYSTEM, obj, request, f"HTTP {response.status_code}: {error_text(errors)}", advice,
                              response.status_code)

    def json_body(self, response: httpx.Response, obj: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceError(SYSTEM, obj, f"GET {response.request.url.path}",
                              f"HTTP {response.status_code} without a JSON object: {response.text[:200]!r}",
                              "Check the URL: it must be the org's My Domain or login URL, without a path")
        return body

    def _read_usage(self, response: httpx.Response) -> None:
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = (int(match.group(1)), int(match.group(2)))

    def _check_quota(self, obj: str, url: str) -> None:
        if self.api_usage is None:
            return
        used, allowed = self.api_usage
        if used >= allowed * (1 - self.quota_reserve):
            raise QuotaExhausted(SYSTEM, obj, f"GET {httpx.URL(url).path}",
                                 f"the org has used {used} of its {allowed} daily API requests",
                                 _quota_advice(self.api_usage, self.quota_reserve))

    # ---------------------------------------------------------------------------------------
    # Extraction
    # ---------------------------------------------------------------------------------------

    def cursor_at(self, moment: datetime) -> str:
        return sf_timestamp(moment)

    def list_ids(self, obj: str) -> None:
        return None  # queryAll reports deletions itself (IsDeleted)

    def count(self, obj: str) -> int:
        body = self.get(f"{DATA_PATH}/query", obj, params={"q": f"SELECT COUNT() FROM {self._spec(obj).sobject}"})
        total = body.get("totalSize")
        if not isinstance(total, int):
            raise SourceError(SYSTEM, obj, f"GET {DATA_PATH}/query", f"no totalSize in {str(body)[:200]!r}",
                              "Check the URL: it must be the org's My Domain or login URL, without a path")
        return total

    def soql(self, obj: str, since: datetime | None, until: str | None) -> str:
        where = [f"SystemModstamp >= {soql_datetime(since)}"] if since is not None else []
        if until is not None:
            where.append(f"SystemModstamp < {soql_datetime(parse_timestamp(until))}")
        spec = self._spec(obj)
        return (f"SELECT {', '.join(spec.soql_fields)} FROM {spec.sobject}"
                + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY SystemModstamp ASC, Id ASC")

    def extract(self, obj: str, cursor: str | None, until: str | None = None) -> Iterator[Page]:
        spec = self._spec(obj)
        since = parse_timestamp(cursor) - timedelta(seconds=self.lookback) if cursor else None
        newest: Record | None = Record(None, None, cursor) if cursor else None
        headers = {"Sforce-Query-Options": f"batchSize={self._batch}"}
        body = self.get(f"{DATA_PATH}/queryAll", obj, params={"q": self.soql(obj, since, until)}, headers=headers)
        while True:
            records = [_record(spec, r) for r in body.get("records") or []]
            newest = latest([*records, *([newest] if newest else [])])
            yield Page(records, newest.updated_at if newest else None)
            following = None if body.get("done", True) else body.get("nextRecordsUrl")
            if not following:
                break
            url = self.http.follow(str(following), obj, f"GET {DATA_PATH}/queryAll",
                                   "Salesforce handed over a nextRecordsUrl on another host: refused")
            body = self.get(str(url), obj, headers=headers)
        if self.api_usage:
            log.info("Salesforce %s read; the org's API usage is %d of %d daily requests", obj, *self.api_usage)

    def _spec(self, obj: str) -> SObject:
        try:
            return self._objects[obj]
        except KeyError:
            raise ValueError(f"Salesforce has no object {obj!r} in Puente; known: {list(self._objects)}") from None


_RNG = random.Random()


def _quota_advice(usage: tuple[int, int] | None, reserve: float = 0.0) -> str:
    left = f" ({usage[0]} of {usage[1]} used)" if usage else ""
    kept = f"; Puente leaves {reserve:.0%} of them to the business's other users" if reserve else ""
    return (f"The org's daily API requests are spent{left}{kept}. The pages read are saved: rerun the "
            "extraction once the 24-hour window frees requests, or ask Salesforce for a higher allocation")


def _record(spec: SObject, raw: Any) -> Record:
    record = raw if isinstance(raw, dict) else {}
    stamp = record.get("SystemModstamp")
    return Record(spec.landed(raw), text_id(record.get("Id")), stamp if isinstance(stamp, str) else None,
                  deleted=record.get("IsDeleted") is True)
