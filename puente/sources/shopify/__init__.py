"""Shopify, a shop: customers, orders with their lines, products with their variants.

The shop owns web orders and carts. The connector (``connector.py``) reads it through the Admin
REST API and the writer (``writer.py``) sets its stock from the ERP's; ``settings.py`` holds the API version, limits and resources, ``config.py`` where the
shop is and its token.
"""

from __future__ import annotations

from typing import Any

from puente.sources.shopify.config import ShopifyConfig
from puente.sources.shopify.connector import ShopifyConnector, next_link, throttle_seconds
from puente.sources.shopify.settings import API_PATH, API_VERSION, RESOURCES
from puente.sources.spec import Source


def _check(config: ShopifyConfig) -> list:
    from puente.sources.shopify.check import check

    return check(config)


def _writer(config: ShopifyConfig, **options: Any):
    from puente.sources.shopify.writer import ShopifyWriter

    return ShopifyWriter(config, **options)


def _simulator(base_url: str, credentials: Any) -> ShopifyConfig:
    return ShopifyConfig(url=f"{base_url}/shopify{API_PATH.format(version=API_VERSION)}",
                         token=credentials.shopify_token)


SOURCE = Source(name="shopify", title="Shopify", kind="shop", objects=RESOURCES, config=ShopifyConfig,
                connector=ShopifyConnector, simulator=_simulator, writer=_writer, check=_check,
                web_order_objects=("customers", "orders"),
                customer_record_kind="shopify_customer")

__all__ = ["API_VERSION", "RESOURCES", "SOURCE", "ShopifyConfig", "ShopifyConnector", "next_link",
           "throttle_seconds"]
