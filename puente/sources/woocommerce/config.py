"""Where the WooCommerce connector finds the store: its REST API URL and a REST API key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from puente.config import base_url, connection_field, env_origin, require
from puente.sources.woocommerce.settings import API_PATH

ENV = "PUENTE_WOOCOMMERCE"
CONN_ID = "puente_woocommerce"


@dataclass(frozen=True)
class WooCommerceConfig:
    """WooCommerce REST API v3: base URL (``https://{site}/wp-json/wc/v3``) and a REST API key made in
    WooCommerce > Settings > Advanced > REST API (read access is enough): consumer key and secret.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WooCommerceConfig:
        env = os.environ if env is None else env
        url = with_api_path(require(env, f"{ENV}_URL", CONN_ID))
        return cls(url=url, consumer_key=require(env, f"{ENV}_CONSUMER_KEY", CONN_ID),
                   consumer_secret=require(env, f"{ENV}_CONSUMER_SECRET", CONN_ID),
                   origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> WooCommerceConfig:
        """From an Airflow connection: host = the store's site (``https://shop.example.co``, or the
        whole API URL ending in ``/wp-json/wc/v3``), login = the consumer key (``ck_…``), password =
        the consumer secret (``cs_…``)."""
        url = base_url(connection_field(conn, "host", CONN_ID, "the store's site, https://{site}"),
                       getattr(conn, "port", None))
        return cls(url=with_api_path(url),
                   consumer_key=connection_field(conn, "login", CONN_ID, "the REST API consumer key (ck_…)"),
                   consumer_secret=connection_field(conn, "password", CONN_ID,
                                                    "the REST API consumer secret (cs_…)"),
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_WOOCOMMERCE_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_CONSUMER_KEY": self.consumer_key,
                f"{ENV}_CONSUMER_SECRET": self.consumer_secret}

    @property
    def site(self) -> str:
        """The store's WordPress site (the URL without ``/wp-json/wc/v3``)."""
        return self.url[: -len(API_PATH)] if self.url.endswith(API_PATH) else self.url


def with_api_path(url: str) -> str:
    """A site URL or an API URL as the API URL: ``…/wp-json/wc/v3`` appended when it is not there."""
    url = url.strip().rstrip("/")
    return url if urlsplit(url).path.endswith(API_PATH) else url + API_PATH
