"""Where the Stripe connector finds the API and the account's secret key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from puente.config import base_url, connection_field, env_origin, require
from puente.sources.stripe.settings import API_URL

ENV = "PUENTE_STRIPE"
CONN_ID = "puente_stripe"


@dataclass(frozen=True)
class StripeConfig:
    """Stripe: the API's base URL (``https://api.stripe.com``) and the account's secret key
    (``sk_live_…``, Developers > API keys), or better a restricted key (``rk_live_…``) with Read
    on Charges, PaymentIntents, Refunds, Balance, Disputes and Events.

    ``origin`` says where the settings came from, for logs and summaries; never a secret.
    """

    url: str
    secret_key: str = field(repr=False)
    origin: str = field(default="passed in", compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StripeConfig:
        env = os.environ if env is None else env
        url = (env.get(f"{ENV}_URL") or API_URL).rstrip("/")
        return cls(url=url, secret_key=require(env, f"{ENV}_SECRET_KEY", CONN_ID), origin=env_origin(ENV, url, env))

    @classmethod
    def from_connection(cls, conn: Any) -> StripeConfig:
        """From an Airflow connection: host = the API (empty for ``https://api.stripe.com``),
        password = the secret or restricted key."""
        host = getattr(conn, "host", None)
        url = base_url(host, getattr(conn, "port", None)) if host else API_URL
        return cls(url=url.rstrip("/"),
                   secret_key=connection_field(conn, "password", CONN_ID, "the secret key (sk_live_… or rk_live_…)"),
                   origin=f"connection {CONN_ID}")

    def to_env(self) -> dict[str, str]:
        """The ``PUENTE_STRIPE_*`` variables ``from_env`` reads back into this configuration."""
        return {f"{ENV}_URL": self.url, f"{ENV}_SECRET_KEY": self.secret_key}
