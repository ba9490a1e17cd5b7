"""Stripe, a payment provider: what the business collects through it.

The WooCommerce store's checkout collects through Stripe (the WooCommerce Stripe gateway); each
charge and payment intent carries the store's order in its ``metadata`` (``order_id``,
``order_number``), which staging and the marts match to the store's orders and, through them, to
the ERP's invoices. ``settings.py`` holds what the API documents, ``config.py`` the secret key,
``connector.py`` the walk (new objects by ``created``, later changes by events), ``check.py``
what ``puente check`` asks. Puente does not write into Stripe.
"""

from __future__ import annotations

from typing import Any

from puente.sources.spec import Source
from puente.sources.stripe.config import StripeConfig
from puente.sources.stripe.connector import StripeConnector
from puente.sources.stripe.settings import OBJECTS


def _check(config: StripeConfig) -> list:
    from puente.sources.stripe.check import check

    return check(config)


def _simulator(base_url: str, credentials: Any) -> StripeConfig:
    return StripeConfig(url=f"{base_url}/stripe", secret_key=credentials.stripe_key)


SOURCE = Source(name="stripe", title="Stripe", kind="payments", objects=OBJECTS, config=StripeConfig,
                connector=StripeConnector, simulator=_simulator, check=_check)

__all__ = ["OBJECTS", "SOURCE", "StripeConfig", "StripeConnector"]
