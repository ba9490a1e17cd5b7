"""Where the HubSpot connector finds the CRM: base URL and a private-app access token."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import base_url, connection_field, env_origin, require
from puente.sources.hubspot.settings import DEFAULT_URL

ENV = "PUENTE_HUBSPOT"
CONN_ID = "puente_hubspot"


@dataclass(frozen=True)
class HubSpotConfig:
    """HubSpot CRM v3: base URL (``https://api.hubapi.com``) and a private-app access token.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    token: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSpotConfig:
        env = os.environ if env is None else env
        url = require(env, f"{ENV}_URL", CONN_ID).rstrip("/")
        return cls(url=url, token=require(env, f"{ENV}_TOKEN", CONN_ID), origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> HubSpotConfig:
        """From an Airflow connection: password = the private app's token; host = the API's base
        URL, ``https://api.hubapi.com`` when left empty."""
        host = getattr(conn, "host", None) or DEFAULT_URL
        return cls(url=base_url(host, getattr(conn, "port", None)),
                   token=connection_field(conn, "password", CONN_ID,
                                          "the private app's access token (Settings > Integrations > Private apps)"),
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_HUBSPOT_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_TOKEN": self.token}
