"""What Puente's DAGs share: where the warehouse and each system are, and the run's business day.

Not a DAG (``.airflowignore`` keeps the DAG processor from parsing it on its own); the DAG files
import it. It reads Airflow connections, which ``puente`` itself never does: the package gets plain
configurations from here.
"""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import BaseNotifier
from cosmos.profiles import BaseProfileMapping

WAREHOUSE_CONN_ID = "puente_warehouse"


def _connection(conn_id: str):
    """The Airflow connection ``conn_id``, or None when there is none."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def warehouse_url() -> str:
    """The one warehouse configuration, as a URL: the Airflow connection with the libpq options of
    its extra (``sslmode``…), else ``PUENTE_WAREHOUSE_URL``. dbt gets the same (``WarehouseProfile``)."""
    from puente import warehouse

    conn = _connection(WAREHOUSE_CONN_ID)
    return warehouse.warehouse_url() if conn is None else warehouse.warehouse_url_from_connection(conn)


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
    from puente.sources import registry

    spec = registry.source(source)
    conn = _connection(spec.conn_id)
    return spec.config.from_env() if conn is None else spec.config.from_connection(conn)


def field_keys():
    """The keys that seal phones and tax ids (``puente.field_crypto``): the Airflow connection
    ``puente_field_key`` (its password), else ``PUENTE_FIELD_KEY``; None when neither is set."""
    from puente.field_crypto import CONN_ID, FieldKeys

    conn = _connection(CONN_ID)
    return FieldKeys.from_env() if conn is None else FieldKeys.from_connection(conn)


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


# --------------------------------------------------------------------------------------------
# Alerts (puente/alerts.py): Airflow's own notifiers over Airflow connections
# --------------------------------------------------------------------------------------------

# A Slack incoming webhook (connection type slackwebhook: password = the webhook's token or whole URL,
# host = its base URL when the password is only the token) and an SMTP server (type smtp; extra
# {"from_email": "...", "to": "a@x.co, b@x.co"}). Neither configured: nothing is sent.
ALERT_SLACK_CONN_ID = "puente_alerts_slack"
ALERT_EMAIL_CONN_ID = "puente_alerts_email"
# A Microsoft Teams incoming webhook (a Teams "Workflows" webhook; type http or generic: password =
# the webhook's whole URL, or host = its base URL and password = the rest of it).
ALERT_TEAMS_CONN_ID = "puente_alerts_teams"



def _slack_text(text: str) -> str:
    """Slack's mrkdwn reserves &, < and > (its own link syntax)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_webhook_url(conn) -> str:
    """The webhook URL of a ``puente_alerts_teams`` connection: its password when that is a whole URL,
    else its host (with a scheme) followed by the password as the rest of the URL."""
    secret = (conn.password or "").strip()
    if secret.startswith(("https://", "http://")):
        return secret
    host = (conn.host or "").strip().rstrip("/")
    if not host or not secret:
        raise ValueError(f"the Airflow connection {ALERT_TEAMS_CONN_ID} needs the Teams webhook's URL as its "
                         "password (or its base URL as host and the rest as password)")
    if "://" not in host:
        host = f"https://{host}"
    return f"{host}/{secret.lstrip('/')}"


class TeamsWebhookNotifier(BaseNotifier):
    """Post a Puente alert to a Microsoft Teams incoming webhook configured as an Airflow connection
    (no Airflow provider posts to Teams' Workflows webhooks): the message is an Adaptive Card
    (``puente.alerts.Alert.teams_message``). Raises when Teams does not take it, so that ``deliver``
    records the channel as failed."""

    template_fields = ()

    def __init__(self, *, alert, teams_conn_id: str = ALERT_TEAMS_CONN_ID, timeout: float = 30.0) -> None:
        super().__init__()
        self.alert, self.teams_conn_id, self.timeout = alert, teams_conn_id, timeout

    def notify(self, context) -> None:
        from airflow.sdk import Connection

        from puente.alerts import post_to_teams

        post_to_teams(teams_webhook_url(Connection.get(self.teams_conn_id)), self.alert, timeout=self.timeout)


def alert_channels() -> dict:
    """The configured alert channels, each a callable taking a ``puente.alerts.Alert``: a Slack
    incoming webhook (``puente_alerts_slack``) through the Slack provider's ``SlackWebhookNotifier``,
    a Microsoft Teams webhook (``puente_alerts_teams``) through ``TeamsWebhookNotifier``,
    e-mail (``puente_alerts_email``) through the SMTP provider's ``SmtpNotifier``."""
    channels = {}
    if _connection(ALERT_SLACK_CONN_ID) is not None:
        def slack(alert) -> None:
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            SlackWebhookNotifier(slack_webhook_conn_id=ALERT_SLACK_CONN_ID, text=_slack_text(alert.text()),
                                 timeout=30).notify({})

        channels["slack"] = slack
    if _connection(ALERT_TEAMS_CONN_ID) is not None:
        def teams(alert) -> None:
            TeamsWebhookNotifier(alert=alert).notify({})

        channels["teams"] = teams
    email = _connection(ALERT_EMAIL_CONN_ID)
    if email is not None:
        def mail(alert) -> None:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            recipients = [a.strip() for a in str(email.extra_dejson.get("to") or "").split(",") if a.strip()]
            if not recipients:
                raise ValueError(f"the Airflow connection {ALERT_EMAIL_CONN_ID} names no recipient: set "
                                 '"to" in its extra, e.g. {"to": "ops@example.com"}')
            SmtpNotifier(to=recipients, subject=alert.headline, html_content=alert.html(),
                         smtp_conn_id=ALERT_EMAIL_CONN_ID).notify({})

        channels["email"] = mail
    return channels


def run_url(dag_id: str, run_id: str) -> str:
    """The run's grid view in the Airflow UI, under Airflow's configured base URL ([api] base_url)."""
    from urllib.parse import quote

    from airflow.sdk.configuration import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080/")
    return f"{base.rstrip('/')}/dags/{dag_id}/runs/{quote(run_id)}"


def _known_secrets(url: str | None) -> list[str]:
    """Values that must never reach an alert: the warehouse's and every system connection's password,
    and the ``PUENTE_*`` variables that hold a key, token, password or secret."""
    import os
    from urllib.parse import unquote, urlsplit

    from puente.sources import registry

    found = [unquote(urlsplit(url).password or "")] if url else []
    found += [value for name, value in os.environ.items() if name.startswith("PUENTE_")
              and any(word in name for word in ("KEY", "TOKEN", "PASSWORD", "SECRET"))]
    for spec in registry.configured():
        conn = _connection(spec.conn_id)
        if conn is not None and conn.password:
            found.append(conn.password)
    return found


class FailureAlert(BaseNotifier):
    """``on_failure_callback`` of every task of Puente's DAGs: when a task has failed for good, tell
    people in plain words (``puente.alerts.failure_alert``) on every configured channel, and record
    it in ``ops.alerts``. Never raises: a failed alert is logged and the run's state is untouched."""

    template_fields = ()

    def notify(self, context) -> None:
        import logging

        from puente import alerts

        log = logging.getLogger(__name__)
        try:
            ti = context["ti"]
            logical = context.get("logical_date")
            day = logical.in_timezone("UTC").date() if logical is not None else None
            try:
                url = warehouse_url()
            except Exception:  # the warehouse's own connection may be what failed
                url = None
            error = context.get("exception")
            target = summary = None
            stage, _, name = ti.task_id.partition(".")
            if stage == "activate":
                from puente.activation.spec import load_activations
                from puente.config import dbt_project_dir

                declared = {a.name: a for a in load_activations(dbt_project_dir() / "target" / "manifest.json")}
                if name in declared:
                    target, summary = declared[name].target, declared[name].summary
            alert = alerts.failure_alert(
                dag_id=ti.dag_id, task_id=ti.task_id, logical_date=day, run_id=ti.run_id,
                error=f"{type(error).__name__}: {error}" if error is not None else "",
                run_url=run_url(ti.dag_id, ti.run_id), try_number=ti.try_number, target=target, summary=summary,
                last_good_night=alerts.last_good_night(url, day) if url else None, secrets=_known_secrets(url))
            alerts.deliver(url, [alert], alert_channels(), dag_id=ti.dag_id, run_id=ti.run_id)
        except Exception:
            log.exception("the failure alert could not be made or sent")


def record_run_started() -> None:
    """Record the running DAG run in ``ops.dag_runs`` (puente/runs.py): who triggered it, when. Never
    raises: the audit's bookkeeping must not fail a run."""
    import logging

    from airflow.sdk import get_current_context

    from puente import runs

    try:
        runs.record_started(warehouse_url(), runs.run_of(get_current_context()))
    except Exception:
        logging.getLogger(__name__).exception("the run could not be recorded in ops.dag_runs")


def record_run_finished(outcome: str | None = None) -> None:
    """Record how the running DAG run ended; without ``outcome``, from the states of its other tasks
    (called by the run's last task, a teardown). Never raises."""
    import logging

    from airflow.sdk import get_current_context

    from puente import runs

    try:
        context = get_current_context()
        failed: list[str] = []
        if outcome is None:
            outcome, failed = runs.outcome_of(night_task_states(), excluding=[context["ti"].task_id])
        runs.record_finished(warehouse_url(), runs.run_of(context), outcome, failed)
    except Exception:
        logging.getLogger(__name__).exception("the run's outcome could not be recorded in ops.dag_runs")


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
