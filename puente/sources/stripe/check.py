"""`puente check` for Stripe: the API answers, the key is accepted and may read charges, events
and disputes.

A refused key answers 401 (``Invalid API Key provided``); a restricted key without Read on an
object answers 403 (``permission_error``) for that list. One charge, one event and one dispute are
asked.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, first_contact, passed
from puente.sources.http import SourceError
from puente.sources.stripe.config import StripeConfig
from puente.sources.stripe.connector import StripeConnector
from puente.sources.stripe.settings import EVENTS_PATH, OBJECTS, SYSTEM

# Lists asked after the charges, each with why Puente needs it.
_ALSO_READ = (("events", EVENTS_PATH, "which tell Puente what changed"),
              ("disputes", next(o.path for o in OBJECTS if o.name == "disputes"),
               "the chargebacks Puente reads every night"))

WHERE_TO_FIX = ("Stripe Dashboard > Developers > API keys: a restricted key (rk_live_…) with Read on Charges, "
                "PaymentIntents, Refunds, Balance, Disputes and Events, as the password of the Airflow connection "
                "puente_stripe")


def check(config: StripeConfig) -> list[Finding]:
    connector = StripeConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        answer, findings = first_contact(SYSTEM, config.url, lambda: connector.http.request(
            "GET", OBJECTS[0].path, obj="charges", params={"limit": 1}))
        if answer is None:
            if findings[-1].check == "credentials":
                findings[-1] = Finding(SYSTEM, "credentials", False, f"{findings[-1].message} Use {WHERE_TO_FIX}")
            return findings
        for name, path, why in _ALSO_READ:
            try:
                connector.http.request("GET", path, obj=name, params={"limit": 1})
            except SourceError as exc:
                findings.append(Finding(SYSTEM, "credentials", False, f"the key may not read {name} ({exc.outcome}), "
                                        f"{why}. Use {WHERE_TO_FIX}"))
                return findings
        findings.append(passed(SYSTEM, "credentials",
                               "the key is accepted and may read charges, events and disputes"))
        return findings
    finally:
        connector.close()
