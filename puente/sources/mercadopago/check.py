"""`puente check` for Mercado Pago: the API answers, the access token is accepted and may search payments.

A refused or expired token answers 401 (``unauthorized``, "invalid access token"); a token of
another kind (a public key, a test user's token on a production account) answers 401 or 403 to
the search. One search of one payment asks all of it.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, first_contact, passed
from puente.sources.mercadopago.config import MercadoPagoConfig
from puente.sources.mercadopago.connector import MercadoPagoConnector
from puente.sources.mercadopago.settings import FIRST_BEGIN, SEARCH_PATH, SYSTEM

WHERE_TO_FIX = ("Mercado Pago > Your integrations > the application > Production credentials: the Access Token "
                "(APP_USR-…), as the password of the Airflow connection puente_mercadopago")


def check(config: MercadoPagoConfig) -> list[Finding]:
    connector = MercadoPagoConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        answer, findings = first_contact(SYSTEM, config.url, lambda: connector.http.request(
            "GET", SEARCH_PATH, obj="payments", params={"begin_date": FIRST_BEGIN, "limit": 1}))
        if answer is None:
            if findings[-1].check == "credentials":
                findings[-1] = Finding(SYSTEM, "credentials", False, f"{findings[-1].message} Use {WHERE_TO_FIX}")
            return findings
        findings.append(passed(SYSTEM, "credentials", "the access token is accepted and may search payments"))
        return findings
    finally:
        connector.close()
