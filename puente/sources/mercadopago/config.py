"""Where the Mercado Pago connector finds the API and the account's access token."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import base_url, connection_field, env_origin, require
from puente.sources.mercadopago.settings import API_URL

ENV = "PUENTE_MERCADOPAGO"
CONN_ID = "puente_mercadopago"


@dataclass(frozen=True)
class MercadoPagoConfig:
    """Mercado Pago: the API's base URL (``https://api.mercadopago.com``) and the seller account's
    production access token (``APP_USR-…``, Your integrations > the application > Production
    credentials). Reading payments needs no other scope.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    access_token: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MercadoPagoConfig:
        env = os.environ if env is None else env
        url = (env.get(f"{ENV}_URL") or API_URL).rstrip("/")
        return cls(url=url, access_token=require(env, f"{ENV}_ACCESS_TOKEN", CONN_ID),
                   origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> MercadoPagoConfig:
        """From an Airflow connection: host = the API (empty for ``https://api.mercadopago.com``),
        password = the access token."""
        host = getattr(conn, "host", None)
        url = base_url(host, getattr(conn, "port", None)) if host else API_URL
        return cls(url=url.rstrip("/"),
                   access_token=connection_field(conn, "password", CONN_ID, "the access token (APP_USR-…)"),
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_MERCADOPAGO_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_ACCESS_TOKEN": self.access_token}
