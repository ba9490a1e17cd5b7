"""Where the Tienda Nube connector finds the store: the API's URL with the store id, the store's
access token, and the User-Agent that names Puente's installation and its operator."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from puente.config import (
    MissingSetting,
    base_url,
    connection_extra,
    connection_field,
    env_origin,
    require,
)
from puente.sources.tiendanube.settings import API_HOST, API_VERSION

ENV = "PUENTE_TIENDANUBE"
CONN_ID = "puente_tiendanube"


@dataclass(frozen=True)
class TiendaNubeConfig:
    """Tienda Nube API v1: base URL with the store id (``https://api.tiendanube.com/v1/{store_id}``),
    the store's access token, and the ``User-Agent`` every request must carry: the app's name and
    an e-mail address or URL where Tienda Nube can reach whoever runs it (``Puente (ops@casa.co)``).

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    token: str = field(repr=False)
    user_agent: str
    origin: str = field(default="passed in", compare=False)

    def __post_init__(self) -> None:
        if not contact_in(self.user_agent):
            raise MissingSetting(f"The Tienda Nube User-Agent {self.user_agent!r} names no contact: Tienda Nube "
                                 "asks for the app's name and an e-mail address or URL, e.g. 'Puente "
                                 "(ops@example.co)'")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TiendaNubeConfig:
        env = os.environ if env is None else env
        url = with_store(require(env, f"{ENV}_URL", CONN_ID), env.get(f"{ENV}_STORE_ID"))
        return cls(url=url, token=require(env, f"{ENV}_TOKEN", CONN_ID),
                   user_agent=require(env, f"{ENV}_USER_AGENT", CONN_ID), origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> TiendaNubeConfig:
        """From an Airflow connection: host = the API (``https://api.tiendanube.com``, Brazil's
        ``https://api.nuvemshop.com.br``, or the whole URL ending in ``/v1/{store_id}``; empty: Tienda
        Nube's), login = the store id (the ``user_id`` the app was given with the token), password =
        the access token, extra ``{"user_agent": "Puente (ops@example.co)"}``."""
        host = getattr(conn, "host", None) or API_HOST
        user_agent = connection_extra(conn).get("user_agent")
        if not isinstance(user_agent, str) or not user_agent.strip():
            raise MissingSetting(f"The Airflow connection '{CONN_ID}' has no user_agent in its extra: set "
                                 '{"user_agent": "Puente (an e-mail address or URL of yours)"}; Tienda Nube '
                                 "refuses requests that do not say who makes them")
        return cls(url=with_store(base_url(host, getattr(conn, "port", None)), getattr(conn, "login", None)),
                   token=connection_field(conn, "password", CONN_ID, "the store's access token"),
                   user_agent=user_agent.strip(), origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_TIENDANUBE_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_TOKEN": self.token, f"{ENV}_USER_AGENT": self.user_agent}

    @property
    def store_id(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]


def contact_in(user_agent: str) -> bool:
    """Whether a User-Agent names a way to reach its maker (an e-mail address or a URL)."""
    return "@" in user_agent or "http://" in user_agent or "https://" in user_agent


def with_store(url: str, store_id: str | None) -> str:
    """The API URL with the store: ``…/v1/{store_id}`` as given, or the host with ``store_id`` appended."""
    url = url.strip().rstrip("/")
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if len(parts) >= 2 and parts[-2] == API_VERSION and parts[-1].isdigit():
        return url
    if not store_id or not str(store_id).strip().isdigit():
        raise MissingSetting(f"No Tienda Nube store id: give the URL as …/{API_VERSION}/{{store_id}}, or the store id "
                             f"(a number: the user_id the app received with its token) as the login of "
                             f"'{CONN_ID}' or {ENV}_STORE_ID")
    base = url[: -len(f"/{API_VERSION}")] if url.endswith(f"/{API_VERSION}") else url
    return f"{base}/{API_VERSION}/{str(store_id).strip()}"
