"""WooCommerce, a shop: customers (registered accounts), orders with their lines (guests' too), products.

The store is a WordPress site; Puente reads it through the WooCommerce REST API v3 with a
read-only REST API key. ``settings.py`` holds what the API documents and the resources,
``config.py`` where the store is and its key, ``connector.py`` the walk, ``check.py`` what
``puente check`` asks it. Puente does not write into WooCommerce (yet).
"""

from __future__ import annotations

from typing import Any

from puente.sources.spec import Source
from puente.sources.woocommerce.config import WooCommerceConfig
from puente.sources.woocommerce.connector import WooCommerceConnector
from puente.sources.woocommerce.settings import API_PATH, RESOURCES


def _check(config: WooCommerceConfig) -> list:
    from puente.sources.woocommerce.check import check

    return check(config)


def _simulator(base_url: str, credentials: Any) -> WooCommerceConfig:
    return WooCommerceConfig(url=f"{base_url}/woocommerce{API_PATH}", consumer_key=credentials.woocommerce_key,
                             consumer_secret=credentials.woocommerce_secret)


SOURCE = Source(name="woocommerce", title="WooCommerce", kind="shop", objects=RESOURCES, config=WooCommerceConfig,
                connector=WooCommerceConnector, simulator=_simulator, check=_check,
                web_order_objects=("customers", "orders"),
                customer_record_kind="woocommerce_customer")

__all__ = ["RESOURCES", "SOURCE", "WooCommerceConfig", "WooCommerceConnector"]
