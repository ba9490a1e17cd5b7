"""Where the Shopify connector finds the shop: its Admin API URL (with the version) and a token."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from puente.config import MissingSetting, base_url, connection_extra, connection_field, env_origin, require
from puente.sources.shopify.settings import API_PATH, API_VERSION

ENV = "PUENTE_SHOPIFY"
CONN_ID = "puente_shopify"


@dataclass(frozen=True)
class ShopifyConfig:
    """Shopify Admin REST: base URL including the API version
    (``https://{shop}.myshopify.com/admin/api/2025-01``) and an Admin API access token.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    token: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)
    # The location whose stock Puente sets (activations); None: the shop's first active one.
    location_id: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ShopifyConfig:
        env = os.environ if env is None else env
        url = require(env, f"{ENV}_URL", CONN_ID).rstrip("/")
        return cls(url=url, token=require(env, f"{ENV}_TOKEN", CONN_ID), origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> ShopifyConfig:
        """From an Airflow connection: host = the shop (``https://{shop}.myshopify.com``, or the whole
        Admin API URL with its version), password = the Admin API access token. Without a version in
        the host, ``extra`` ``{"api_version": "…"}`` or Puente's pinned version is used."""
        url = base_url(connection_field(conn, "host", CONN_ID, "the shop's URL, https://{shop}.myshopify.com"),
                       getattr(conn, "port", None))
        if "/admin/api/" not in urlsplit(url).path:
            version = connection_extra(conn).get("api_version") or API_VERSION
            if not isinstance(version, str):
                raise MissingSetting(f"The Airflow connection '{CONN_ID}': api_version must be text like "
                                     f"{API_VERSION!r}, got {version!r}")
            url += API_PATH.format(version=version)
        location = connection_extra(conn).get("location_id")
        return cls(url=url, token=connection_field(conn, "password", CONN_ID,
                                                   "the custom app's Admin API access token (shpat_…)"),
                   origin=f"connection {CONN_ID}", location_id=int(location) if location else None)

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_SHOPIFY_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_TOKEN": self.token}
