"""Mercado Pago, a payment provider: the payments the business collects through it.

The shop's checkout and the payment links the business sends for its invoices collect through
Mercado Pago; each payment carries the business's reference (``external_reference``: the shop
order's number, or the invoice's), which staging and the marts match to the ERP's invoices and
the shop's orders. ``settings.py`` holds what the API documents, ``config.py`` the access token,
``connector.py`` the walk, ``check.py`` what ``puente check`` asks. Puente does not write into
Mercado Pago.
"""

from __future__ import annotations

from typing import Any

from puente.sources.mercadopago.config import MercadoPagoConfig
from puente.sources.mercadopago.connector import MercadoPagoConnector
from puente.sources.mercadopago.settings import OBJECTS
from puente.sources.spec import Source


def _check(config: MercadoPagoConfig) -> list:
    from puente.sources.mercadopago.check import check

    return check(config)


def _simulator(base_url: str, credentials: Any) -> MercadoPagoConfig:
    return MercadoPagoConfig(url=f"{base_url}/mercadopago", access_token=credentials.mercadopago_token)


SOURCE = Source(name="mercadopago", title="Mercado Pago", kind="payments", objects=OBJECTS, config=MercadoPagoConfig,
                connector=MercadoPagoConnector, simulator=_simulator, check=_check)

__all__ = ["OBJECTS", "SOURCE", "MercadoPagoConfig", "MercadoPagoConnector"]
