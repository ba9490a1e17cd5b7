"""`puente check` for Mercado Libre: the application's credentials, the seller's authorisation and the sales search.

Getting an access token proves the client id and secret and the refresh token (a refusal names
which: ``invalid_client`` or ``invalid_grant``, with how to authorise again); one search of one
order proves that the token reaches the seller's sales. A configured refresh token that is not the
one the tokens kept in ``ops.oauth_tokens`` descend from, and that Mercado Libre refuses, is a
warning: the kept tokens are never replaced by a token Mercado Libre has not accepted
(``auth.py``), so they still serve.
"""

from __future__ import annotations

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, passed
from puente.sources.http import SourceError
from puente.sources.mercadolibre.config import MercadoLibreConfig
from puente.sources.mercadolibre.connector import MercadoLibreConnector
from puente.sources.mercadolibre.settings import SYSTEM


def check(config: MercadoLibreConfig, warehouse_url: str | None = None) -> list[Finding]:
    """The findings; a refresh's new tokens are kept in the warehouse at ``warehouse_url`` (the
    nightly DAG's), as the extraction keeps them."""
    connector = MercadoLibreConnector(config, warehouse_url=warehouse_url, **CHECK_HTTP_OPTIONS)
    try:
        try:
            connector.auth.tokens()
        except SourceError as exc:
            where = "credentials" if exc.status in (400, 401, 403) else "connection"
            return [failed(SYSTEM, where, f"{exc.outcome}. {exc.advice}")]
        findings = [passed(SYSTEM, "credentials", "the application's credentials and the seller's authorisation "
                           "give an access token")]
        if connector.auth.seed_refused:
            findings.insert(0, failed(
                SYSTEM, "credentials", f"Mercado Libre refuses the configured refresh token "
                f"({connector.auth.seed_refused}); it is not the one the tokens kept in ops.oauth_tokens descend "
                "from, so those are kept and used, and each run tries the configured one again. If the app was "
                "authorised again, copy its new refresh token into the connection puente_mercadolibre again (or "
                "PUENTE_MERCADOLIBRE_REFRESH_TOKEN): it replaces the kept tokens once Mercado Libre accepts it",
                blocking=False))
        try:
            total = connector.count("orders")
        except SourceError as exc:
            return [*findings, failed(SYSTEM, "rights", f"the orders search of seller {connector.seller} failed: "
                                      f"{exc.outcome}. {exc.advice}")]
        return [*findings, passed(SYSTEM, "rights", f"the token searches seller {connector.seller}'s sales ({total})")]
    finally:
        connector.close()
