"""Where Puente's settings come from.

Everything configurable is read from the environment (``PUENTE_*``). Inside Airflow the DAG
reads the same values from Airflow connections and passes them in, so no module of this
package ever imports Airflow. Secrets are kept out of ``repr`` so that they never reach a log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def puente_home() -> Path:
    """The project-local folder for the embedded warehouse, artifacts and Airflow's home."""
    return Path(os.environ.get("PUENTE_HOME", PROJECT_ROOT / ".puente")).resolve()


def dbt_project_dir() -> Path:
    return Path(os.environ.get("PUENTE_DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project")).resolve()


def artifacts_dir() -> Path:
    return Path(os.environ.get("PUENTE_ARTIFACTS_DIR", puente_home() / "artifacts")).resolve()


def max_quarantine_share() -> float:
    """Share of a night's records per source object that may be quarantined before the raw gate
    fails the night (``PUENTE_MAX_QUARANTINE_SHARE``, default 5%)."""
    return float(os.environ.get("PUENTE_MAX_QUARANTINE_SHARE", "0.05"))


class MissingSetting(RuntimeError):
    """A required setting is absent; the message names the variable and the Airflow connection."""


def _require(env: dict[str, str], name: str, connection: str) -> str:
    value = env.get(name)
    if not value:
        raise MissingSetting(
            f"{name} is not set. Set it in the environment, or define the Airflow connection "
            f"'{connection}' (see README, 'Configuration')."
        )
    return value


@dataclass(frozen=True)
class OdooConfig:
    """Odoo external API: base URL (``https://mycompany.odoo.com``), database, login, API key."""

    url: str
    db: str
    login: str
    api_key: str = field(repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> OdooConfig:
        env = dict(os.environ if env is None else env)
        conn = "puente_odoo"
        return cls(
            url=_require(env, "PUENTE_ODOO_URL", conn).rstrip("/"),
            db=_require(env, "PUENTE_ODOO_DB", conn),
            login=_require(env, "PUENTE_ODOO_LOGIN", conn),
            api_key=_require(env, "PUENTE_ODOO_API_KEY", conn),
        )


@dataclass(frozen=True)
class HubSpotConfig:
    """HubSpot CRM v3: base URL (``https://api.hubapi.com``) and a private-app access token."""

    url: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HubSpotConfig:
        env = dict(os.environ if env is None else env)
        conn = "puente_hubspot"
        return cls(
            url=_require(env, "PUENTE_HUBSPOT_URL", conn).rstrip("/"),
            token=_require(env, "PUENTE_HUBSPOT_TOKEN", conn),
        )


@dataclass(frozen=True)
class ShopifyConfig:
    """Shopify Admin REST: base URL including the API version
    (``https://{shop}.myshopify.com/admin/api/2025-01``) and an Admin API access token."""

    url: str
    token: str = field(repr=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ShopifyConfig:
        env = dict(os.environ if env is None else env)
        conn = "puente_shopify"
        return cls(
            url=_require(env, "PUENTE_SHOPIFY_URL", conn).rstrip("/"),
            token=_require(env, "PUENTE_SHOPIFY_TOKEN", conn),
        )
