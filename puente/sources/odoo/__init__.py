"""Odoo, the ERP: partners, products, sale orders and their lines, invoices, stock.

Odoo owns fiscal identity, prices, stock, invoices and payments (see the dbt models' YAML). The
connector (``connector.py``) reads it through the external XML-RPC API and the writer
(``writer.py``) enters sale orders through the same API; ``settings.py`` lists the
models with their fields, ``config.py`` where the ERP is and how to log in.
"""

from __future__ import annotations

from typing import Any

from puente.sources.odoo.config import OdooConfig
from puente.sources.odoo.connector import OdooConnector
from puente.sources.odoo.settings import BASE_DOMAINS, FIELDS, MODELS
from puente.sources.spec import Source


def _check(config: OdooConfig) -> list:
    from puente.sources.odoo.check import check

    return check(config)


def _writer(config: OdooConfig, **options: Any):
    from puente.sources.odoo.writer import OdooWriter

    return OdooWriter(config, **options)


def _simulator(base_url: str, credentials: Any) -> OdooConfig:
    return OdooConfig(url=f"{base_url}/odoo", db=credentials.odoo_db, login=credentials.odoo_login,
                      api_key=credentials.odoo_api_key)


SOURCE = Source(name="odoo", title="Odoo", kind="erp", objects=MODELS, config=OdooConfig,
                connector=OdooConnector, simulator=_simulator, writer=_writer, check=_check,
                customer_record_kind="odoo_partner")

__all__ = ["BASE_DOMAINS", "FIELDS", "MODELS", "SOURCE", "OdooConfig", "OdooConnector"]
