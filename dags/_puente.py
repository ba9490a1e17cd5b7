"""What Puente's DAGs share: where the warehouse and each system are, and the run's business day.

Not a DAG (``.airflowignore`` keeps the DAG processor from parsing it on its own); the DAG files
import it. It reads Airflow connections, which ``puente`` itself never does: the package gets plain
configurations from here.
"""

from __future__ import annotations

from pathlib import Path

WAREHOUSE_CONN_ID = "puente_warehouse"


def warehouse_url() -> str:
    """The warehouse URL from the Airflow connection, else ``PUENTE_WAREHOUSE_URL``."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        from puente.warehouse import warehouse_url as from_environment

        return from_environment()
    auth = conn.login or ""
    if conn.password:
        from urllib.parse import quote

        auth += f":{quote(conn.password, safe='')}"
    return f"postgresql://{auth}@{conn.host}:{conn.port or 5432}/{conn.schema or 'puente'}"


def source_config(source: str):
    """The source's settings from its Airflow connection, else from ``PUENTE_<SOURCE>_*``.

    A connection made in the UI (or by ``AIRFLOW_CONN_PUENTE_<SOURCE>``) always wins; the
    environment, where the local runtime puts the simulators, is the fallback. The config's
    ``origin`` says which, and the extraction logs it.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from puente.sources import registry

    spec = registry.source(source)
    try:
        conn = Connection.get(spec.conn_id)
    except AirflowNotFoundException:
        return spec.config.from_env()
    return spec.config.from_connection(conn)


def business_date():
    """The business day this run closes: the run's logical date (UTC)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    return context["logical_date"].in_timezone("UTC").date()


def declared_activations(dbt_project: Path, systems: tuple[str, ...]):
    """The activations declared in the dbt project (read from its manifest, never by running dbt)
    whose target is one of the business's systems."""
    from puente.activation.spec import load_activations

    return [a for a in load_activations(dbt_project / "target" / "manifest.json") if a.target in systems]
