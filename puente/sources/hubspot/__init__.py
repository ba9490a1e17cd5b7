"""HubSpot, the CRM: contacts, companies and deals, and what Puente writes there (``writer.py``).

The CRM owns contact details, consent and preferences. The connector (``connector.py``) reads
and writes it through the CRM v3 API; ``settings.py`` lists the objects and their properties,
``config.py`` where the CRM is and its token.
"""

from __future__ import annotations

from typing import Any

from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.connector import HubSpotConnector
from puente.sources.hubspot.settings import BATCH_LIMIT, OBJECTS, PROPERTIES
from puente.sources.spec import Source


def _check(config: HubSpotConfig) -> list:
    from puente.sources.hubspot.check import check

    return check(config)


def _writer(config: HubSpotConfig, **options: Any):
    from puente.sources.hubspot.writer import HubSpotWriter

    return HubSpotWriter(config, **options)


def _simulator(base_url: str, credentials: Any) -> HubSpotConfig:
    return HubSpotConfig(url=f"{base_url}/hubspot", token=credentials.hubspot_token)


SOURCE = Source(name="hubspot", title="HubSpot", kind="crm", objects=OBJECTS, config=HubSpotConfig,
                connector=HubSpotConnector, simulator=_simulator, writer=_writer, check=_check,
                customer_record_kind="hubspot_contact")

__all__ = ["BATCH_LIMIT", "OBJECTS", "PROPERTIES", "SOURCE", "HubSpotConfig", "HubSpotConnector"]
