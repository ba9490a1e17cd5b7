"""Where the Salesforce connector finds the org: the login (or My Domain) URL and the connected
app's OAuth 2.0 credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import base_url, connection_extra, connection_field, env_origin, require
from puente.sources.salesforce.settings import DEFAULT_LOGIN_URL

ENV = "PUENTE_SALESFORCE"
CONN_ID = "puente_salesforce"


@dataclass(frozen=True)
class SalesforceConfig:
    """Salesforce: the URL that issues tokens (the org's My Domain URL,
    ``https://acme.my.salesforce.com``, which the client credentials flow requires; or
    ``https://login.salesforce.com``), the connected app's consumer key and secret, and optionally a
    refresh token (the refresh token flow, for an app authorised by a user) instead of the client
    credentials flow. The data URL is the ``instance_url`` the token answer names.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SalesforceConfig:
        env = os.environ if env is None else env
        url = require(env, f"{ENV}_URL", CONN_ID).rstrip("/")
        return cls(url=url, client_id=require(env, f"{ENV}_CLIENT_ID", CONN_ID),
                   client_secret=require(env, f"{ENV}_CLIENT_SECRET", CONN_ID),
                   refresh_token=env.get(f"{ENV}_REFRESH_TOKEN") or None, origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> SalesforceConfig:
        """From an Airflow connection: host = the My Domain URL (empty: login.salesforce.com),
        login = the connected app's consumer key, password = its consumer secret, extra
        ``{"refresh_token": "…"}`` for the refresh token flow."""
        host = getattr(conn, "host", None) or DEFAULT_LOGIN_URL
        refresh = connection_extra(conn).get("refresh_token")
        return cls(url=base_url(host, getattr(conn, "port", None)),
                   client_id=connection_field(conn, "login", CONN_ID, "the connected app's consumer key"),
                   client_secret=connection_field(conn, "password", CONN_ID, "the connected app's consumer secret"),
                   refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_SALESFORCE_*`` variables ``from_env`` reads back into this configuration."""
        env = {f"{ENV}_URL": self.url, f"{ENV}_CLIENT_ID": self.client_id, f"{ENV}_CLIENT_SECRET": self.client_secret}
        if self.refresh_token:
            env[f"{ENV}_REFRESH_TOKEN"] = self.refresh_token
        return env

    def token_form(self) -> dict[str, str]:
        """The body of a token request: the refresh token flow when a refresh token is set."""
        form = {"client_id": self.client_id, "client_secret": self.client_secret}
        if self.refresh_token:
            return {"grant_type": "refresh_token", "refresh_token": self.refresh_token, **form}
        return {"grant_type": "client_credentials", **form}
