"""Tienda Nube / Nuvemshop, a shop: customers, orders with their products (lines), products with their variants.

Puente reads the store through the Tienda Nube API v1 with the access token the store gave
Puente's app when it was installed. ``settings.py`` holds what the API documents and the
resources, ``config.py`` where the store is, its token and Puente's User-Agent,
``connector.py`` the walk, ``check.py`` what ``puente check`` asks it, ``writer.py`` the ERP's
stock set on the store's variants (activation ``stock_to_tiendanube``).
"""

from __future__ import annotations

from typing import Any

from puente.sources.spec import Source
from puente.sources.tiendanube.config import TiendaNubeConfig
from puente.sources.tiendanube.connector import TiendaNubeConnector
from puente.sources.tiendanube.settings import API_VERSION, RESOURCES


def _check(config: TiendaNubeConfig) -> list:
    from puente.sources.tiendanube.check import check

    return check(config)


def _writer(config: TiendaNubeConfig, **options: Any):
    from puente.sources.tiendanube.writer import TiendaNubeWriter

    return TiendaNubeWriter(config, **options)


def _simulator(base_url: str, credentials: Any) -> TiendaNubeConfig:
    from puente.simulators.business.tiendanube import STORE_ID

    return TiendaNubeConfig(url=f"{base_url}/tiendanube/{API_VERSION}/{STORE_ID}",
                            token=credentials.tiendanube_token, user_agent="Puente (puente@localhost)")


SOURCE = Source(name="tiendanube", title="Tienda Nube", kind="shop", objects=RESOURCES, config=TiendaNubeConfig,
                connector=TiendaNubeConnector, simulator=_simulator, writer=_writer, check=_check,
                web_order_objects=("customers", "orders"),
                customer_record_kind="tiendanube_customer")

__all__ = ["RESOURCES", "SOURCE", "TiendaNubeConfig", "TiendaNubeConnector"]
