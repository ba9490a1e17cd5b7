"""Where Puente's settings come from.

Everything configurable is read from the environment (``PUENTE_*``). Inside Airflow the DAG
reads a source's settings from its Airflow connection when there is one and passes it in, so no
module of this package ever imports Airflow. Each source's configuration lives in its folder
(``puente/sources/<system>/config.py``) and uses the helpers here; secrets are kept out of
``repr`` so that they never reach a log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def puente_home() -> Path:
    """The project-local folder for the embedded warehouse, artifacts and Airflow's home."""
    return Path(os.environ.get("PUENTE_HOME", PROJECT_ROOT / ".puente")).resolve()


def dbt_project_dir() -> Path:
    return Path(os.environ.get("PUENTE_DBT_PROJECT_DIR", PROJECT_ROOT / "dbt_project")).resolve()


# A night builds the data and runs its data tests; the project's unit tests (fixed inputs against
# expected rows: they test the models' code, which does not change between nights) run in `make test`
# (tests/dbt/test_unit_tests.py), as dbt advises for production builds. Here rather than in puente.dbt
# so that the nightly DAG reads it without loading puente.dbt and puente.warehouse at every parse.
NIGHTLY_EXCLUDED_RESOURCE_TYPES = ("unit_test",)


def artifacts_dir() -> Path:
    return Path(os.environ.get("PUENTE_ARTIFACTS_DIR", puente_home() / "artifacts")).resolve()


def run_folder(business_date: date) -> Path:
    """One night's own files (its run report, the data docs of its gates): one folder per business
    day under the artifacts; a rerun of the night writes them again."""
    return artifacts_dir() / "runs" / business_date.isoformat()


def max_quarantine_share(env: Mapping[str, str] | None = None) -> float:
    """Share of a night's records per source object that may be quarantined before the raw gate
    fails the night (``PUENTE_MAX_QUARANTINE_SHARE``, default 5%): a number from 0 (any quarantined
    record fails the night) to 1 (none does); anything else is refused with a message."""
    value = (os.environ if env is None else env).get("PUENTE_MAX_QUARANTINE_SHARE", "").strip()
    if not value:
        return 0.05
    try:
        share = float(value.removesuffix("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        share = float("nan")
    if not 0 <= share <= 1:  # also refuses nan and inf
        hint = f" (for {value}% write {float(value) / 100:g})" if value.replace(".", "", 1).isdigit() else ""
        raise InvalidSetting(f"PUENTE_MAX_QUARANTINE_SHARE must be a share between 0 and 1, e.g. 0.05 for 5%; "
                             f"got {value!r}{hint}")
    return share


class MissingSetting(RuntimeError):
    """A required setting is absent; the message names the variable and the Airflow connection."""


class InvalidSetting(ValueError):
    """A setting holds a value Puente cannot use; the message names it and says what it expects."""


def require(env: Mapping[str, str], name: str, connection: str) -> str:
    """``env[name]``, or a ``MissingSetting`` naming the variable and the Airflow connection."""
    value = env.get(name)
    if not value:
        raise MissingSetting(
            f"{name} is not set. Set it in the environment, or define the Airflow connection "
            f"'{connection}' (see README, 'Configuration')."
        )
    return value


def connection_field(conn: Any, attr: str, conn_id: str, meaning: str) -> str:
    """Attribute ``attr`` (host, schema, login, password) of an Airflow connection, or a
    ``MissingSetting`` saying which field of which connection to fill in."""
    value = getattr(conn, attr, None)
    if not value:
        raise MissingSetting(f"The Airflow connection '{conn_id}' has no {attr}: set it to {meaning}.")
    return str(value)


def connection_extra(conn: Any) -> dict[str, Any]:
    """The connection's ``extra`` JSON as a dict (empty when there is none)."""
    extra = getattr(conn, "extra", None)
    if not extra:
        return {}
    try:
        value = json.loads(extra) if isinstance(extra, str) else dict(extra)
    except (ValueError, TypeError) as error:  # its text is not repeated: an extra may hold a secret
        raise MissingSetting(f"The Airflow connection's extra is not a JSON object ({error})") from None
    return value if isinstance(value, dict) else {}


def base_url(host: str, port: int | None = None) -> str:
    """An Airflow connection's host as a base URL: ``https://`` when no scheme is given, the
    connection's port when the host names none, no trailing slash."""
    url = host.strip().rstrip("/")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if port and parts.port is None:
        parts = parts._replace(netloc=f"{parts.netloc}:{port}")
    return urlunsplit(parts)


def env_origin(prefix: str, url: str, env: Mapping[str, str]) -> str:
    """How a configuration read from ``<prefix>_*`` variables is named in logs and summaries.

    The local runtime hands the simulators' settings to the DAG this way and says where the
    simulators listen in ``PUENTE_SIMULATORS_URL``; a URL below it is marked ``(simulator)``.
    """
    simulators = env.get("PUENTE_SIMULATORS_URL")
    simulated = bool(simulators) and (url == simulators or url.startswith(simulators.rstrip("/") + "/"))
    return f"environment {prefix}_*" + (" (simulator)" if simulated else "")


# The source configurations live in their source's folder (puente/sources/<system>/config.py);
# these names stay importable from here for code written before the folders existed.
_MOVED = {"OdooConfig": "puente.sources.odoo.config", "HubSpotConfig": "puente.sources.hubspot.config",
          "ShopifyConfig": "puente.sources.shopify.config"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
