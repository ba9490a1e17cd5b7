"""Writing to HubSpot: Puente's contact properties (and, with them, what a salesperson sees).

- ``contacts`` (update): ``POST /crm/v3/objects/contacts/batch/update``, at most 100 inputs a
  call; a 207 names the refused ids, each of which becomes its own failed row. Before the first
  batch of a run the Puente properties are created where missing (``PUENTE_PROPERTIES``).
- Requests are paced at the private app's burst limit (100 per rolling 10 s by default;
  ``PUENTE_HUBSPOT_REQUESTS_PER_10S`` for portals with a higher tier), and a 429's
  ``Retry-After`` is honoured by the shared HTTP layer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from puente.activation.pacing import Pacer
from puente.activation.writers import Outcome, Row
from puente.sources.hubspot.config import HubSpotConfig
from puente.sources.hubspot.connector import HubSpotConnector, PropertySpec

PROPERTY_GROUP = "puente"
DEFAULT_REQUESTS_PER_10S = 100

# The contact properties Puente owns in HubSpot (contracts.md): the one place they are defined.
PUENTE_PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("puente_churn_score", "Churn score (Puente)", "number", "number",
                 "Probability, 0 to 1, that this customer stops buying; computed nightly by Puente, "
                 "updated here when it moves by 0.05 or more, or when the risk band changes."),
    PropertySpec("puente_churn_risk", "Churn risk (Puente)", "enumeration", "select",
                 "Churn risk band computed nightly by Puente; empty when the customer is no longer scored.",
                 options=("low", "medium", "high")),
    PropertySpec("puente_churn_reasons", "Churn reasons (Puente)", "string", "textarea",
                 "The two or three reasons behind the churn score, in plain words."),
    PropertySpec("puente_next_action", "Next best action (Puente)", "enumeration", "select",
                 "What to do next with this customer; respects stock, margin and marketing consent.",
                 options=("offer_product", "retention_call", "win_back_offer", "none")),
    PropertySpec("puente_next_action_product", "Product to offer (Puente)", "string", "text",
                 "SKU and name of the product to offer, when the next action is an offer."),
    PropertySpec("puente_next_action_reason", "Why this action (Puente)", "string", "textarea",
                 "Why Puente suggests this action."),
    PropertySpec("puente_scored_at", "Scored at (Puente)", "datetime", "date",
                 "When Puente scored the values shown here."),
)


def requests_per_10s(env: dict[str, str] | None = None) -> int:
    value = (os.environ if env is None else env).get("PUENTE_HUBSPOT_REQUESTS_PER_10S")
    try:
        limit = int(value) if value else DEFAULT_REQUESTS_PER_10S
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(f"PUENTE_HUBSPOT_REQUESTS_PER_10S must be a whole number of at least 1, got {value!r}")
    return limit


class HubSpotWriter:
    system = "hubspot"

    def __init__(self, config: HubSpotConfig, *, connector: HubSpotConnector | None = None,
                 pacer: Pacer | None = None, **http_options: Any):
        pacer = pacer or Pacer(requests_per_10s(), 10.0)
        self.connector = connector or HubSpotConnector(config, pacer=pacer, **http_options)

    @property
    def requests_made(self) -> int:
        return self.connector.requests_made

    def close(self) -> None:
        self.connector.close()

    def prepare(self, obj: str) -> None:
        if obj == "contacts":
            self.connector.ensure_contact_properties(PUENTE_PROPERTIES, group=PROPERTY_GROUP)

    def lookup(self, obj: str, external_keys: Sequence[str]) -> dict[str, str]:
        return {}

    def write(self, obj: str, mode: str, rows: Sequence[Row]) -> list[Outcome]:
        if obj != "contacts" or mode != "update":
            raise ValueError(f"the HubSpot writer cannot {mode} {obj}")
        answers = self.connector.batch_update_contacts([(r.target_id, r.payload) for r in rows])
        return [Outcome(r.row_key, answers.get(r.target_id, "no answer") is None, r.target_id, "update",
                        answers.get(r.target_id, "HubSpot reported no outcome for this contact"))
                for r in rows]
