"""What Puente's DAGs share: where the warehouse and each system are, and the run's business day.

Not a DAG (``.airflowignore`` keeps the DAG processor from parsing it on its own); the DAG files
import it. It reads Airflow connections, which ``puente`` itself never does: the package gets plain
configurations from here.
"""

from __future__ import annotations

from pathlib import Path

from cosmos.profiles import BaseProfileMapping

WAREHOUSE_CONN_ID = "puente_warehouse"


def warehouse_url() -> str:
    """The one warehouse configuration, as a URL: the Airflow connection with the libpq options of
    its extra (``sslmode``…), else ``PUENTE_WAREHOUSE_URL``. dbt gets the same (``WarehouseProfile``)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from puente import warehouse

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return warehouse.warehouse_url()
    return warehouse.warehouse_url_from_connection(conn)


class WarehouseProfile(BaseProfileMapping):
    """dbt's profile for cosmos: the project's own (``dbt_project/profiles.yml``, templates over
    ``PUENTE_DBT_*``), with those variables set from ``warehouse_url()`` when a dbt task runs. So
    dbt and every Python task connect with the same host, password and libpq options (``sslmode``,
    ``sslrootcert``, …); cosmos writes only the templates to disk and logs, never a secret."""

    airflow_connection_type = "postgres"
    dbt_profile_type = "postgres"

    @property
    def profile(self) -> dict:
        from puente.dbt import profile_target

        return profile_target()

    @property
    def mock_profile(self) -> dict:
        return self.profile

    @property
    def env_vars(self) -> dict[str, str]:
        from puente.dbt import dbt_env

        return {**super().env_vars, **dbt_env(warehouse_url())}


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


def night_task_states() -> dict[str, str]:
    """The state of each task of the running DAG run (task id -> state), as Airflow records it; empty
    when Airflow cannot say (the report then judges the night from the warehouse alone)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    run_id = context["dag_run"].run_id
    try:
        states = context["ti"].get_task_states(dag_id=context["dag"].dag_id, run_ids=[run_id])
    except Exception as error:  # an older API server, a test double: the report still gets written
        import logging

        logging.getLogger(__name__).warning("could not read the run's task states: %s", error)
        return {}
    return {task_id: str(state) for task_id, state in (states.get(run_id) or {}).items() if state}
