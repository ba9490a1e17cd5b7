"""`puente check` for HubSpot: the private app's token and its scopes."""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, missing_scopes, passed
from puente.sources.http import HttpClient, SourceError
from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.settings import READ_SCOPES, SYSTEM, TOKEN_INFO_PATH, WRITE_SCOPES

WHERE_TO_GRANT = "the private app's Scopes tab (HubSpot: Settings > Integrations > Private Apps), then " \
                 "copy the new token into the connection"


def check(config: HubSpotConfig) -> list[Finding]:
    # The token-information endpoint takes the token in its body and needs no Authorization header.
    client = HttpClient(SYSTEM, config.url, **CHECK_HTTP_OPTIONS)
    try:
        answer = client.request("POST", TOKEN_INFO_PATH, obj="access token", json={"tokenKey": config.token})
    except SourceError as exc:
        if exc.status is None:
            return [failed(SYSTEM, "connection", f"cannot reach {config.url}: {exc.outcome}. Check the URL, the "
                           "network between Airflow and HubSpot, and its TLS certificate")]
        if exc.status in (400, 401, 403):
            return [passed(SYSTEM, "connection", f"{config.url} answers"),
                    failed(SYSTEM, "credentials", f"HubSpot does not accept the token ({exc.outcome}): copy the "
                           "private app's access token again (Settings > Integrations > Private Apps > "
                           "Access token)")]
        return [failed(SYSTEM, "connection", f"{config.url} answered {exc.outcome}. {exc.advice}")]
    finally:
        client.close()
    info = answer.json() if isinstance(answer.json(), dict) else {}
    return [passed(SYSTEM, "connection", f"{config.url} answers"),
            passed(SYSTEM, "credentials", f"private app {info.get('appId')} of portal {info.get('hubId')}"),
            *missing_scopes(SYSTEM, info.get("scopes") or [], READ_SCOPES, WRITE_SCOPES, WHERE_TO_GRANT)]
