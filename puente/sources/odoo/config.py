"""Where the Odoo connector finds its ERP: base URL, database, login and API key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import base_url, connection_field, env_origin, require

ENV = "PUENTE_ODOO"
CONN_ID = "puente_odoo"


@dataclass(frozen=True)
class OdooConfig:
    """Odoo external API: base URL (``https://mycompany.odoo.com``), database, login, API key.

    ``origin`` says where the settings came from (an Airflow connection or the environment), for
    logs and summaries; it never holds a secret.
    """

    url: str
    db: str
    login: str
    api_key: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OdooConfig:
        env = os.environ if env is None else env
        url = require(env, f"{ENV}_URL", CONN_ID).rstrip("/")
        return cls(url=url, db=require(env, f"{ENV}_DB", CONN_ID), login=require(env, f"{ENV}_LOGIN", CONN_ID),
                   api_key=require(env, f"{ENV}_API_KEY", CONN_ID), origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> OdooConfig:
        """From an Airflow connection: host = base URL, schema = database, login, password = API key."""
        return cls(
            url=base_url(connection_field(conn, "host", CONN_ID, "the Odoo base URL, e.g. https://mycompany.odoo.com"),
                         getattr(conn, "port", None)),
            db=connection_field(conn, "schema", CONN_ID, "the Odoo database name"),
            login=connection_field(conn, "login", CONN_ID, "the Odoo user's login (its email)"),
            api_key=connection_field(conn, "password", CONN_ID,
                                     "an API key of that user (Preferences > Account Security > New API Key)"),
            origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_ODOO_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_DB": self.db, f"{ENV}_LOGIN": self.login,
                f"{ENV}_API_KEY": self.api_key}
