"""`puente check` for Salesforce: the token, the org's daily API allocation, and read access.

- The token request (``/services/oauth2/token``) says whether the connected app's credentials are
  accepted; ``GET …/limits`` the org's ``DailyApiRequests`` (``Max``, ``Remaining``): a night that
  finds fewer than Puente's reserve left stops before it starts, so it is said here.
- ``SELECT COUNT() FROM <sObject>`` for each sObject: a 400 ``INVALID_TYPE`` or 403 means the
  integration user's profile or permission sets do not let it read that object.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, passed
from puente.sources.http import SourceError
from puente.sources.salesforce.config import SalesforceConfig
from puente.sources.salesforce.connector import SalesforceConnector
from puente.sources.salesforce.settings import DATA_PATH, DEFAULT_QUOTA_RESERVE, OBJECTS, SYSTEM


def check(config: SalesforceConfig) -> list[Finding]:
    connector = SalesforceConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        try:
            connector.authenticate()
        except SourceError as exc:
            if exc.status in (400, 401):  # invalid_client, invalid_grant: the token endpoint answered
                return [passed(SYSTEM, "connection", f"{config.url} answers"),
                        failed(SYSTEM, "credentials", f"Salesforce refused the credentials ({exc.outcome}). {exc.advice}")]
            if exc.status is None:
                return [failed(SYSTEM, "connection", f"cannot reach {config.url}: {exc.outcome}. Check the URL, the "
                               "network between Airflow and Salesforce, and its TLS certificate")]
            return [failed(SYSTEM, "connection", f"{config.url} answered {exc.outcome}. {exc.advice}")]
        findings = [passed(SYSTEM, "connection", f"{config.url} answers")]
        findings.append(passed(SYSTEM, "credentials", "the connected app's credentials are accepted"))
        limits = connector.get(f"{DATA_PATH}/limits", "limits").get("DailyApiRequests") or {}
        most, left = limits.get("Max"), limits.get("Remaining")
        if isinstance(most, int) and isinstance(left, int):
            enough = left > most * DEFAULT_QUOTA_RESERVE
            findings.append((passed if enough else failed)(
                SYSTEM, "quota", f"{left} of the org's {most} daily API requests are left"
                + ("" if enough else f"; Puente stops before the last {DEFAULT_QUOTA_RESERVE:.0%}")))
        unreadable = []
        for obj in OBJECTS:
            try:
                connector.count(obj.name)
            except SourceError as exc:
                if exc.status not in (400, 403, 404):
                    raise
                unreadable.append(obj.sobject)
        if unreadable:
            findings.append(failed(SYSTEM, "rights", f"the integration user cannot read {', '.join(unreadable)}: "
                                   "grant Read on them in its profile or a permission set"))
        else:
            findings.append(passed(SYSTEM, "rights", f"reads {', '.join(o.sobject for o in OBJECTS)}"))
        return findings
    except SourceError as exc:
        return [*findings, failed(SYSTEM, "connection", f"{config.url} answered {exc.outcome}. {exc.advice}")]
    finally:
        connector.close()
