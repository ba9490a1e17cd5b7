"""Write the churn scores back to HubSpot contacts, with one audit row per contact.

Reads ``marts.crm_contact_scores_sync`` (built by dbt after scoring: one row per contact whose
Puente properties differ from the last values HubSpot accepted), makes sure the custom
properties exist, sends batches of at most 100 (HubSpot's batch limit) and records every
contact's outcome in ``ops.crm_writeback``: ``sent``, or ``failed`` with HubSpot's error. A
contact that failed stays different from its last ``sent`` row, so the sync model offers it
again the next night; nothing is lost.

If a whole batch fails (HubSpot down after retries, token revoked), that batch and every batch
not yet sent are recorded as failed and the error is raised, so the task fails visibly.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from puente.config import HubSpotConfig
from puente.sources.http import SourceError
from puente.sources.hubspot import BATCH_LIMIT, HubSpotConnector, PropertySpec
from puente.warehouse import connect

log = logging.getLogger(__name__)

SYNC_TABLE = "marts.crm_contact_scores_sync"
PROPERTY_GROUP = "puente"

# The contact properties Puente owns in HubSpot (contracts.md): the one place they are defined.
PUENTE_PROPERTIES: tuple[PropertySpec, ...] = (
    PropertySpec("puente_churn_score", "Churn score (Puente)", "number", "number",
                 "Probability, 0 to 1, that this customer stops buying; computed nightly by Puente."),
    PropertySpec("puente_churn_risk", "Churn risk (Puente)", "enumeration", "select",
                 "Churn risk band computed nightly by Puente.", options=("low", "medium", "high")),
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
                 "When Puente last scored this customer."),
)


class WritebackError(RuntimeError):
    """The write-back cannot start; the message says what to run first."""


def write_back_scores(url: str, hubspot_config: HubSpotConfig, batch_size: int = BATCH_LIMIT, *,
                      client: HubSpotConnector | None = None) -> dict[str, Any]:
    """Send ``marts.crm_contact_scores_sync`` to HubSpot; returns counts and the batch id."""
    if not 1 <= batch_size <= BATCH_LIMIT:
        raise ValueError(f"batch_size must be between 1 and {BATCH_LIMIT} (HubSpot's batch limit)")
    with connect(url) as conn:
        if conn.execute("select to_regclass(%s)", (SYNC_TABLE,)).fetchone()[0] is None:
            raise WritebackError(
                f"{SYNC_TABLE} does not exist: build it first (dbt build --select tag:crm_sync, after "
                "scoring), or run the whole puente_nightly DAG")
        rows = [(str(cid), props) for cid, props in conn.execute(
            f"select hubspot_contact_id, properties from {SYNC_TABLE} order by hubspot_contact_id")]
    batch_id = f"hubspot.writeback.{datetime.now(UTC):%Y-%m-%dT%H%M%S}.{uuid.uuid4().hex[:8]}"
    result: dict[str, Any] = {"batch_id": batch_id, "contacts": len(rows), "sent": 0, "failed": 0,
                              "properties_created": [], "requests": 0}
    if not rows:
        log.info("write-back: no contact has changed scores; nothing to send")
        return result
    client = client or HubSpotConnector(hubspot_config)
    done = 0  # rows whose outcome is recorded
    try:
        result["properties_created"] = client.ensure_contact_properties(PUENTE_PROPERTIES, group=PROPERTY_GROUP)
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            outcome = client.batch_update_contacts(chunk)
            _record(url, batch_id, chunk, outcome)
            done += len(chunk)
            failed = sum(1 for cid, _ in chunk if outcome.get(cid, "") is not None)
            result["sent"] += len(chunk) - failed
            result["failed"] += failed
            log.info("write-back batch %d: %d sent, %d failed", start // batch_size + 1, len(chunk) - failed, failed)
    except SourceError as exc:
        unsent = rows[done:]
        _record(url, batch_id, unsent, {cid: f"not sent: {exc}" for cid, _ in unsent})
        result["failed"] += len(unsent)
        raise
    finally:
        client.close()
    result["requests"] = client.requests_made
    return result


def _record(url: str, batch_id: str, rows: list[tuple[str, dict[str, Any]]],
            outcome: dict[str, str | None]) -> None:
    with connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into ops.crm_writeback (batch_id, hubspot_contact_id, properties, status, error) "
            "values (%s, %s, %s::jsonb, %s, %s)",
            [(batch_id, cid, json.dumps(props), "sent" if error is None else "failed", error)
             for cid, props in rows
             for error in [outcome.get(cid, "HubSpot reported no outcome for this contact")]])
