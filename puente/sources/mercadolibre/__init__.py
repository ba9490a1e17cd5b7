"""Mercado Libre, a marketplace: the seller's sales (orders), with their buyer and shipment.

The business sells some of its products on Mercado Libre too. Puente reads the sales through the
orders search by seller, with the seller's authorisation of Puente's application (OAuth 2 with
single-use refresh tokens, kept in the warehouse: ``auth.py``). ``settings.py`` holds what the
API documents, ``config.py`` the application and the first refresh token, ``connector.py`` the
walk, ``check.py`` what ``puente check`` asks. Puente does not write into Mercado Libre.
"""

from __future__ import annotations

from typing import Any

from puente.sources.mercadolibre.config import MercadoLibreConfig
from puente.sources.mercadolibre.connector import MercadoLibreConnector
from puente.sources.mercadolibre.settings import OBJECTS
from puente.sources.spec import Source


def _check(config: MercadoLibreConfig, warehouse_url: str | None = None) -> list:
    from puente.sources.mercadolibre.check import check

    return check(config, warehouse_url)


def _simulator(base_url: str, credentials: Any) -> MercadoLibreConfig:
    from puente.simulators.business.mercadolibre import SELLER_ID

    return MercadoLibreConfig(url=f"{base_url}/mercadolibre", client_id=credentials.mercadolibre_client_id,
                              client_secret=credentials.mercadolibre_client_secret,
                              refresh_token=credentials.mercadolibre_refresh_token, seller_id=str(SELLER_ID))


SOURCE = Source(name="mercadolibre", title="Mercado Libre", kind="marketplace", objects=OBJECTS,
                config=MercadoLibreConfig, connector=MercadoLibreConnector, simulator=_simulator, check=_check,
                web_order_objects=("orders",), keeps_tokens=True,
                customer_record_kind="mercadolibre_buyer")

__all__ = ["OBJECTS", "SOURCE", "MercadoLibreConfig", "MercadoLibreConnector"]
