"""`puente check` for Stripe: the API answers, the key is accepted and may read charges and events.

A refused key answers 401 (``Invalid API Key provided``); a restricted key without Read on an
object answers 403 (``permission_error``) for that list. One charge and one event are asked.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, first_contact, passed
from puente.sources.http import SourceError
from puente.sources.stripe.config import StripeConfig
from puente.sources.stripe.connector import StripeConnector
from puente.sources.stripe.settings import EVENTS_PATH, OBJECTS, SYSTEM

WHERE_TO_FIX = ("Stripe Dashboard > Developers > API keys: a restricted key (rk_live_…) with Read on Charges, "
                "PaymentIntents, Refunds, Balance and Events, as the password of the Airflow connection puente_stripe")


def check(config: StripeConfig) -> list[Finding]:
    connector = StripeConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        answer, findings = first_contact(SYSTEM, config.url, lambda: connector.http.request(
            "GET", OBJECTS[0].path, obj="charges", params={"limit": 1}))
        if answer is None:
            if findings[-1].check == "credentials":
                findings[-1] = Finding(SYSTEM, "credentials", False, f"{findings[-1].message} Use {WHERE_TO_FIX}")
            return findings
        try:
            connector.http.request("GET", EVENTS_PATH, obj="events", params={"limit": 1})
        except SourceError as exc:
            findings.append(Finding(SYSTEM, "credentials", False, f"the key may not read events ({exc.outcome}), "
                                    f"which tell Puente what changed. Use {WHERE_TO_FIX}"))
            return findings
        findings.append(passed(SYSTEM, "credentials", "the key is accepted and may read charges and events"))
        return findings
    finally:
        connector.close()
