"""HubSpot, the CRM: contacts, companies and deals, and the contact fields Puente writes back.

The CRM owns contact details, consent and preferences. The connector (``connector.py``) reads
and writes it through the CRM v3 API; ``settings.py`` lists the objects and their properties,
``config.py`` where the CRM is and its token.
"""

from __future__ import annotations

from typing import Any

from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.connector import HubSpotConnector, PropertySpec, parse_batch_response
from puente.sources.hubspot.settings import BATCH_LIMIT, OBJECTS, PROPERTIES
from puente.sources.spec import Source


def _simulator(base_url: str, credentials: Any) -> HubSpotConfig:
    return HubSpotConfig(url=f"{base_url}/hubspot", token=credentials.hubspot_token)


SOURCE = Source(name="hubspot", title="HubSpot", kind="crm", objects=OBJECTS, config=HubSpotConfig,
                connector=HubSpotConnector, simulator=_simulator)

__all__ = ["BATCH_LIMIT", "OBJECTS", "PROPERTIES", "SOURCE", "HubSpotConfig", "HubSpotConnector", "PropertySpec",
           "parse_batch_response"]
