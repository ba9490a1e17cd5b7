"""Salesforce, the CRM a business may run instead of HubSpot: Accounts, Contacts, Leads,
Opportunities with their line items, and what Puente writes there (``writer.py``).

``settings.py`` holds what the REST API documents and the sObjects, ``config.py`` where the org is
and the connected app's OAuth credentials, ``connector.py`` the SOQL walk, ``check.py`` what
``puente check`` asks it.
"""

from __future__ import annotations

from typing import Any

from puente.sources.salesforce.config import SalesforceConfig
from puente.sources.salesforce.connector import SalesforceConnector
from puente.sources.salesforce.settings import OBJECTS
from puente.sources.spec import Source


def _check(config: SalesforceConfig) -> list:
    from puente.sources.salesforce.check import check

    return check(config)


def _writer(config: SalesforceConfig, **options: Any):
    from puente.sources.salesforce.writer import SalesforceWriter

    return SalesforceWriter(config, **options)


def _simulator(base_url: str, credentials: Any) -> SalesforceConfig:
    return SalesforceConfig(url=f"{base_url}/salesforce", client_id=credentials.salesforce_client_id,
                            client_secret=credentials.salesforce_client_secret)


SOURCE = Source(name="salesforce", title="Salesforce", kind="crm", objects=OBJECTS, config=SalesforceConfig,
                connector=SalesforceConnector, simulator=_simulator, writer=_writer, check=_check,
                customer_record_kind="salesforce_contact")

__all__ = ["OBJECTS", "SOURCE", "SalesforceConfig", "SalesforceConnector"]
