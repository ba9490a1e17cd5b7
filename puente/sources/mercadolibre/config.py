"""Where the Mercado Libre connector finds the API, Puente's application and the seller's authorisation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import MissingSetting, base_url, connection_extra, connection_field, env_origin, require
from puente.sources.mercadolibre.settings import API_URL

ENV = "PUENTE_MERCADOLIBRE"
CONN_ID = "puente_mercadolibre"


@dataclass(frozen=True)
class MercadoLibreConfig:
    """Mercado Libre: the API's base URL (``https://api.mercadolibre.com``), Puente's application
    (its ``client_id`` and ``client_secret``, from the application's page at
    developers.mercadolibre.com.co) and the refresh token the seller's authorisation gave.

    ``refresh_token`` is the *first* one only: Mercado Libre hands out a new refresh token at every
    refresh and refuses the old, so the connector keeps the current one in the warehouse
    (``ops.oauth_tokens``, see ``auth.py``) and uses this one only while that holds none, or when
    the operator puts a new one here after authorising the app again (it replaces the kept tokens
    once Mercado Libre accepts it; a refused one changes nothing). ``seller_id`` is the
    seller's user id (the token's ``user_id`` when left out).

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    seller_id: str | None = None
    origin: str = field(default="passed in", compare=False)

    def __post_init__(self) -> None:
        if self.seller_id is not None and not str(self.seller_id).strip().isdigit():
            raise MissingSetting(f"The Mercado Libre seller id must be the seller's user id (a number), got "
                                 f"{self.seller_id!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MercadoLibreConfig:
        env = os.environ if env is None else env
        url = (env.get(f"{ENV}_URL") or API_URL).rstrip("/")
        return cls(url=url, client_id=require(env, f"{ENV}_CLIENT_ID", CONN_ID),
                   client_secret=require(env, f"{ENV}_CLIENT_SECRET", CONN_ID),
                   refresh_token=require(env, f"{ENV}_REFRESH_TOKEN", CONN_ID),
                   seller_id=env.get(f"{ENV}_SELLER_ID") or None, origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> MercadoLibreConfig:
        """From an Airflow connection: host = the API (empty for ``https://api.mercadolibre.com``),
        login = the application's client id, password = its client secret, extra
        ``{"refresh_token": "TG-…", "seller_id": "123456789"}`` (the seller id may be left out)."""
        host = getattr(conn, "host", None)
        url = base_url(host, getattr(conn, "port", None)) if host else API_URL
        extra = connection_extra(conn)
        refresh = extra.get("refresh_token")
        if not isinstance(refresh, str) or not refresh.strip():
            raise MissingSetting(f"The Airflow connection '{CONN_ID}' has no refresh_token in its extra: authorise "
                                 "Puente's application with the seller's account and set "
                                 '{"refresh_token": "TG-…"} from the token answer')
        seller = extra.get("seller_id")
        return cls(url=url.rstrip("/"), client_id=connection_field(conn, "login", CONN_ID, "the application's client id"),
                   client_secret=connection_field(conn, "password", CONN_ID, "the application's client secret"),
                   refresh_token=refresh.strip(), seller_id=str(seller) if seller else None,
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_MERCADOLIBRE_*`` variables ``from_env`` reads back into this configuration."""
        env = {f"{ENV}_URL": self.url, f"{ENV}_CLIENT_ID": self.client_id, f"{ENV}_CLIENT_SECRET": self.client_secret,
               f"{ENV}_REFRESH_TOKEN": self.refresh_token}
        if self.seller_id:
            env[f"{ENV}_SELLER_ID"] = str(self.seller_id)
        return env
