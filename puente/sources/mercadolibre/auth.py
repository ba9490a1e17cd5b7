"""Mercado Libre's OAuth tokens: six-hour access tokens and single-use refresh tokens, kept safe.

Each refresh answers a new access token *and* a new refresh token, and the one just used is dead.
Lose the new one and the business is locked out until the seller authorises the app again. So:

- The current tokens live in the warehouse, ``ops.oauth_tokens`` (one row per source), not in the
  Airflow connection: every task that reads Mercado Libre (the nightly extraction, the frequent
  web-order pull, ``puente check``) must see the refresh token the last refresh handed out, and
  a task can write the warehouse but should not rewrite Airflow's connections. The connection
  keeps the *first* refresh token (``config.refresh_token``); the row remembers a digest of the one
  it was seeded from. An empty store is seeded from the configured token.
- A configured token the row was not seeded from (the operator authorised the app again, or
  mistyped it) replaces the stored tokens only once Mercado Libre accepts it: under the refresh
  lock, it is spent in a refresh, and only that refresh's answer is stored (``adopt``), with the
  new token's digest. Refused (``invalid_grant``), it is reported (``MeliAuth.seed_refused``, a
  warning in the log and in ``puente check``) and the stored tokens, untouched, go on serving; the
  next run tries it again, until the connection is corrected. A wrong token in the connection, on
  a night or in ``puente check``, never costs the rotated token kept in the row. (A run cut
  between that first refresh and its save loses the new token's successor: the row's tokens,
  still untouched, go on serving, and the configured token, now spent, is refused from then on.)
- A refresh runs under a PostgreSQL advisory lock per source: two tasks that find the access token
  expired at once do not both spend the same refresh token (the second would be refused); the
  one that waited reads the tokens the first saved and uses them.
- Before the refresh request of the stored refresh token is sent, its start is committed
  (``refresh_started_at``; a task that finds another's fresh tokens under the lock commits none); the new
  tokens are committed the moment the answer is read, before any other request. A run cut
  between the two (the process killed, the answer lost to a timeout) leaves
  ``refresh_started_at`` after ``refreshed_at``: the next run that is refused (``invalid_grant``)
  says exactly that, when it happened and how to authorise again, instead of a bare 400. The
  refresh request itself is never repeated automatically (a repeat of a request that was carried
  out is refused and proves nothing).
- The tokens are secrets: never logged, never in an error message, kept out of ``repr``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from puente.sources.http import HttpClient, SourceError
from puente.sources.mercadolibre.settings import (
    AUTHORISE_URL,
    REFRESH_MARGIN,
    SYSTEM,
    TOKEN_PATH,
)

log = logging.getLogger(__name__)
SOURCE = "mercadolibre"
REAUTHORISE = (f"authorise Puente's application again with the seller's account ({AUTHORISE_URL}?response_type=code"
               "&client_id=<client id>&redirect_uri=<the app's redirect URI>), exchange the code for tokens "
               "(POST /oauth/token, grant_type=authorization_code) and put the new refresh_token in the extra of "
               "the Airflow connection puente_mercadolibre (or PUENTE_MERCADOLIBRE_REFRESH_TOKEN)")

TOKENS_TABLE = """
create table if not exists ops.oauth_tokens (
    source text primary key,
    refresh_token text not null,
    access_token text,
    expires_at timestamptz,
    user_id text,
    seeded_from text not null,
    refreshed_at timestamptz,
    refresh_started_at timestamptz
)
"""


@dataclass(frozen=True)
class Tokens:
    """What the store holds: the refresh token to spend next, the access token and when it dies,
    the seller's user id, and the moments of the last refresh started and finished."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    user_id: str | None = None
    refreshed_at: datetime | None = None
    refresh_started_at: datetime | None = None
    seeded_from: str | None = field(default=None, repr=False)  # the digest of the configured token they descend from

    def usable(self, now: datetime) -> bool:
        return bool(self.access_token) and self.expires_at is not None and \
            self.expires_at - timedelta(seconds=REFRESH_MARGIN) > now

    @property
    def cut_short(self) -> bool:
        """A refresh was started after the last one saved: its answer never reached the store."""
        return self.refresh_started_at is not None and (self.refreshed_at is None or
                                                        self.refresh_started_at > self.refreshed_at)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore(Protocol):
    def load(self, seed: str) -> Tokens:
        """The current tokens; seeded from ``seed`` (the configured refresh token) when the store holds
        none. Tokens seeded from another one are returned as they are (their ``seeded_from`` tells):
        a new configured token replaces them only through ``adopt``, once it has been accepted."""
        ...

    @contextmanager
    def refreshing(self, seed: str) -> Iterator[Tokens]:
        """Hold the source's refresh lock and yield the tokens as they stood under it. Inside the
        block, ``started`` commits the start of a refresh of the stored refresh token, ``save``
        stores its answer at once, and ``adopt`` stores the answer of a refresh of a new ``seed``."""
        ...

    def started(self) -> None: ...

    def save(self, tokens: Tokens) -> None: ...

    def adopt(self, seed: str, tokens: Tokens) -> None: ...


class MemoryTokenStore:
    """Tokens kept in this process (tests, one-off scripts)."""

    def __init__(self) -> None:
        self.tokens: Tokens | None = None
        self.seeded_from: str | None = None
        self._lock = threading.Lock()

    def load(self, seed: str) -> Tokens:
        if self.tokens is None:
            self.tokens, self.seeded_from = Tokens(refresh_token=seed, seeded_from=digest(seed)), digest(seed)
        return self.tokens

    @contextmanager
    def refreshing(self, seed: str) -> Iterator[Tokens]:
        with self._lock:
            yield self.load(seed)

    def started(self) -> None:
        if self.tokens is not None:
            self.tokens = replace(self.tokens, refresh_started_at=datetime.now(UTC))

    def save(self, tokens: Tokens) -> None:
        self.tokens = replace(tokens, refreshed_at=datetime.now(UTC), seeded_from=self.seeded_from,
                              refresh_started_at=self.tokens.refresh_started_at if self.tokens else None)

    def adopt(self, seed: str, tokens: Tokens) -> None:
        self.seeded_from = digest(seed)
        self.tokens = replace(tokens, refreshed_at=datetime.now(UTC), refresh_started_at=None,
                              seeded_from=self.seeded_from)


class WarehouseTokenStore:
    """Tokens in ``ops.oauth_tokens`` of the warehouse at ``url`` (``puente.warehouse.warehouse_url()``
    when None, looked up at the first use; see the module's docstring)."""

    _ROW = ("select refresh_token, access_token, expires_at, user_id, refreshed_at, refresh_started_at, seeded_from "
            "from ops.oauth_tokens where source = %s")

    def __init__(self, url: str | None = None, source: str = SOURCE):
        self.url, self.source = url, source
        self._conn: Any = None

    def _connect(self) -> Any:
        if self._conn is None or self._conn.closed:
            from puente.warehouse import connect, ensure_schema, warehouse_url

            self.url = self.url or warehouse_url()
            ensure_schema(self.url)  # the ops schema and its tables, this one included (a fresh warehouse)
            self._conn = connect(self.url, autocommit=True, application_name=f"puente oauth {self.source}")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def load(self, seed: str) -> Tokens:
        conn = self._connect()
        row = conn.execute(self._ROW, (self.source,)).fetchone()
        if row is None:
            # Nothing to lose: a store that holds no tokens is seeded (a concurrent seed wins: its row is read).
            conn.execute("insert into ops.oauth_tokens (source, refresh_token, seeded_from) values (%s, %s, %s) "
                         "on conflict (source) do nothing", (self.source, seed, digest(seed)))
            row = conn.execute(self._ROW, (self.source,)).fetchone()
        return Tokens(*row[:6], seeded_from=row[6])

    @contextmanager
    def refreshing(self, seed: str) -> Iterator[Tokens]:
        conn = self._connect()
        key = f"puente oauth {self.source}"
        conn.execute("select pg_advisory_lock(hashtext(%s))", (key,))
        try:
            yield self.load(seed)
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (key,))

    def started(self) -> None:
        self._connect().execute("update ops.oauth_tokens set refresh_started_at = clock_timestamp() "
                                "where source = %s", (self.source,))

    def save(self, tokens: Tokens) -> None:
        """Store new tokens, stamped on the warehouse's clock as their refresh's start was."""
        self._connect().execute(
            "update ops.oauth_tokens set refresh_token = %s, access_token = %s, expires_at = %s, user_id = %s, "
            "refreshed_at = clock_timestamp() where source = %s",
            (tokens.refresh_token, tokens.access_token, tokens.expires_at, tokens.user_id, self.source))

    def adopt(self, seed: str, tokens: Tokens) -> None:
        """Replace the stored tokens by those a refresh of the new configured token ``seed`` answered."""
        self._connect().execute(
            "update ops.oauth_tokens set refresh_token = %s, access_token = %s, expires_at = %s, user_id = %s, "
            "seeded_from = %s, refreshed_at = clock_timestamp(), refresh_started_at = null where source = %s",
            (tokens.refresh_token, tokens.access_token, tokens.expires_at, tokens.user_id, digest(seed), self.source))


class MeliAuth:
    """The access token for each request: the stored one while it lives, else a refresh (see the
    module's docstring). ``clock`` is injectable for tests. ``seed_refused`` is Mercado Libre's
    answer (status and error, no token) when it refused a configured token the store was not
    seeded from; the stored tokens serve meanwhile."""

    def __init__(self, http: HttpClient, client_id: str, client_secret: str, seed: str, store: TokenStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._http, self._client_id, self._client_secret = http, client_id, client_secret
        self._seed, self.store, self._clock = seed, store, clock
        self._tokens: Tokens | None = None
        self.refreshes = 0
        self.seed_refused: str | None = None

    @property
    def user_id(self) -> str | None:
        return self.tokens().user_id

    def _new_seed(self, stored: Tokens) -> bool:
        """The configured token is not the one the stored tokens descend from, and was not refused yet."""
        return stored.seeded_from != digest(self._seed) and self.seed_refused is None

    def tokens(self) -> Tokens:
        if self._tokens is None or not self._tokens.usable(self._clock()):
            stored = self.store.load(self._seed)
            if stored.usable(self._clock()) and not self._new_seed(stored):
                self._tokens = stored
            else:
                self._tokens = self.refresh(None if stored.usable(self._clock()) else stored.access_token)
        return self._tokens

    def header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens().access_token}"}

    def refresh(self, refused: str | None) -> Tokens:
        """New tokens: under the store's lock, those of a new configured token when Mercado Libre
        accepts it, else the ones another task saved meanwhile when they are not ``refused`` (the
        access token an answer just refused), else a refresh of the stored token, saved at once."""
        with self.store.refreshing(self._seed) as current:
            if self._new_seed(current):
                adopted = self._try_seed(current)
                if adopted is not None:
                    return adopted
            if current.usable(self._clock()) and current.access_token != refused:
                self._tokens = current
                return current
            self.store.started()
            response = self._request(current.refresh_token)
            body = _json(response)
            if response.status_code != 200 or not isinstance(body, dict) or not body.get("refresh_token"):
                raise self._refused(response.status_code, body, current)
            tokens = self._answered(body, current)
            self.store.save(tokens)
        self.refreshes += 1
        self._tokens = tokens
        log.info("%s: access token refreshed; the new refresh token is saved in ops.oauth_tokens", SYSTEM)
        return tokens

    def _try_seed(self, current: Tokens) -> Tokens | None:
        """Spend the configured token the stored tokens do not descend from (under the lock): its
        answer replaces them (``adopt``); a refusal of the grant leaves them as they are (None)."""
        response = self._request(self._seed)
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("refresh_token"):
            tokens = self._answered(body, Tokens(refresh_token=self._seed))
            self.store.adopt(self._seed, tokens)
            self.refreshes += 1
            self._tokens = tokens
            log.warning("%s: the configured refresh token is a new one (the app was authorised again) and Mercado "
                        "Libre accepted it: the tokens kept in ops.oauth_tokens are replaced by its refresh's",
                        SYSTEM)
            return tokens
        error = body.get("error") if isinstance(body, dict) else None
        if error == "invalid_client":
            raise self._refused(response.status_code, body, current)
        message = body.get("message") if isinstance(body, dict) else None
        self.seed_refused = f"HTTP {response.status_code}: {error or '?'} ({message or 'no message'})"
        log.warning("%s: Mercado Libre refused the configured refresh token, which is not the one the tokens kept in "
                    "ops.oauth_tokens descend from (%s): they are kept and used. If the app was authorised again, "
                    "copy its new refresh token into the connection puente_mercadolibre again", SYSTEM,
                    self.seed_refused)
        return None

    def _request(self, refresh_token: str) -> Any:
        form = urlencode({"grant_type": "refresh_token", "client_id": self._client_id,
                          "client_secret": self._client_secret, "refresh_token": refresh_token})
        return self._http.request(
            "POST", TOKEN_PATH, obj="oauth", content=form, repeatable=False, passthrough=(400, 401),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})

    def _answered(self, body: dict[str, Any], current: Tokens) -> Tokens:
        now = self._clock()
        return Tokens(refresh_token=str(body["refresh_token"]), access_token=str(body.get("access_token") or ""),
                      expires_at=now + timedelta(seconds=float(body.get("expires_in") or 0)),
                      user_id=str(body["user_id"]) if body.get("user_id") is not None else current.user_id,
                      seeded_from=current.seeded_from)

    def _refused(self, status: int, body: Any, current: Tokens) -> SourceError:
        error = body.get("error") if isinstance(body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        outcome = f"HTTP {status}: {error or '?'} ({message or 'no message'})"
        if error == "invalid_client":
            return SourceError(SYSTEM, "oauth", "POST /oauth/token", outcome, "The client id or secret of Puente's "
                               "application is wrong: copy them from the application's page at "
                               "developers.mercadolibre.com.co into the connection puente_mercadolibre", status)
        if current.cut_short:
            advice = (f"A refresh started at {current.refresh_started_at:%Y-%m-%d %H:%M:%S} UTC never saved its answer "
                      "(the run was cut between the refresh and the save): Mercado Libre has spent that refresh token "
                      f"and the new one is lost. To resume, {REAUTHORISE}")
        else:
            advice = (f"The refresh token was refused: revoked by the seller, unused for six months, or spent by "
                      f"another program using the same application. To resume, {REAUTHORISE}")
        if self.seed_refused:
            advice = (f"{advice}. The refresh token in the connection, which the tokens kept in ops.oauth_tokens do not "
                      f"descend from, was refused as well ({self.seed_refused})")
        return SourceError(SYSTEM, "oauth", "POST /oauth/token", outcome, advice, status)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
