"""A simulated business landed in raw.* straight from its stores, one ``COPY`` per object, as the
connectors would land what its APIs serve: each record reduced to its declared fields, with
``source_updated_at`` and ``_deleted``; upserted by id, so that a day's changes land on the night
before's. Faster than extracting through the simulators' HTTP APIs, for the identity bench
(bench/identity.py) and the tests that run a business through several nights."""

from __future__ import annotations

import json
import re
from collections import defaultdict

import psycopg

from puente import sealed_keys, warehouse
from puente.field_crypto import FieldKeys
from puente.simulators.business import Business
from puente.simulators.business.simulation import CRMS
from puente.sources import registry
from puente.sources.base import parse_timestamp
from puente.sources.hubspot import settings as hubspot
from puente.sources.mercadolibre import connector as meli

LANDED = {(raw.source, raw.object) for raw in warehouse.RAW_OBJECTS}  # what the connectors extract


def _updated_at(declared, record: dict) -> str | None:
    """The record's updated-at as the connector stores it (a stamp without an offset is UTC)."""
    stamp = record.get(declared.cursor)
    if not stamp:
        return None
    return str(stamp) if re.search(r"(Z|[+-]\d\d:?\d\d)$", str(stamp)) else f"{stamp}+00"


def landed_objects(business: Business, system: str) -> list[str]:
    """The objects of ``system`` a connector extracts from the business (none: it runs another CRM)."""
    if system in CRMS and business.crm_system != system:
        return []
    # a Salesforce org shows the sales team's book as its sObjects (salesforce.py)
    objects = ([spec.name for spec in registry.source(system).objects] if system == "salesforce"
               else list(getattr(business, system, None) or {}))
    return [obj for obj in objects if (system, obj) in LANDED]  # not a simulated object no connector extracts


def landed_sale(business: Business, sale: dict) -> dict:
    """A Mercado Libre sale as the connector lands it: its billing data and its shipment beside it."""
    shipment = business.table("mercadolibre", "shipments").get(sale["shipping"]["id"])
    return {**sale, "billing_info": meli.billing_info(business.meli.billing_info(sale["id"])),
            "shipment": meli.shipment(shipment)}


def _rows(business: Business, system: str, obj: str, ids: set | None = None):
    declared = registry.source_object(system, obj)  # what a connector lands of a record (minimum data)
    if system == "salesforce":  # queryAll: deleted records (the Recycle Bin) land as deleted
        for record in business.salesforce.table(declared.sobject):
            if ids is None or record["Id"] in ids:
                yield (record["Id"], json.dumps(declared.landed(record), default=str), _updated_at(declared, record),
                       record["IsDeleted"])
        return
    table = business.table(system, obj)
    for rid in (ids if ids is not None else table):
        if business.is_deleted(system, obj, rid):
            continue
        record = landed_sale(business, table[rid]) if system == "mercadolibre" else table[rid]
        if system == "hubspot" and obj in hubspot.ASSOCIATIONS:
            record = _with_associations(business, obj, rid, record)
        deleted = bool(record.get("archived", False)) if system == "hubspot" else False
        yield (str(record["id"]), json.dumps(declared.landed(record), default=str), _updated_at(declared, record),
               deleted)


def _with_associations(business: Business, obj: str, rid: int, record: dict) -> dict:
    """A HubSpot record with the ids of the associations its connector asks for, where the v3
    list puts them (``associations.<object>.results[].id``, all of them the connector lands)."""
    target = hubspot.ASSOCIATIONS[obj]
    ids = business.hubspot_associations.get((obj, rid), {}).get(target)
    if not ids:
        return record
    return {**record, "associations": {target: {"results": [{"id": str(i)} for i in ids]}}}


def changed_since(business: Business, since) -> dict[tuple[str, str], set]:
    """Per object, the ids of the records the last simulated day created or changed. A Salesforce
    org's records are the sales team's book as the org shows it: those whose SystemModstamp (the
    connector's cursor) is ``since`` or later."""
    changed: dict[tuple[str, str], set] = defaultdict(set)
    for system, obj, rid in business.changed_today():
        changed[(system, obj)].add(rid)
    for obj in landed_objects(business, "salesforce"):
        changed[("salesforce", obj)] = {
            record["Id"] for record in business.salesforce.table(registry.source_object("salesforce", obj).sobject)
            if parse_timestamp(record["SystemModstamp"]) >= since}
    return changed


def land(url: str, business: Business, batch_id: str, only: dict[tuple[str, str], set] | None = None,
         field_keys: FieldKeys | None = None) -> int:
    """COPY the business's records (all, or `only` those ids per object) into raw.*; upsert by id.
    With ``field_keys``, their phones and tax ids sealed and their identity keys derived first, as
    the loader does (``puente.load``, ``puente.sealed_keys``)."""
    landed = 0
    with psycopg.connect(url) as conn:
        for system in registry.names():
            for obj in landed_objects(business, system):
                ids = None if only is None else only.get((system, obj), set())
                if ids is not None and not ids:
                    continue
                table = warehouse.raw_object(system, obj).qualified_table
                rows = list(_rows(business, system, obj, ids))
                personal = registry.source_object(system, obj).personal
                paths = personal.sensitive
                if field_keys is not None and paths:
                    clear, sealed = [], []
                    for source_id, document, updated_at, deleted in rows:
                        record = json.loads(document)
                        clear.extend(sealed_keys.clear_kinds(record, personal.sensitive_kinds))
                        sealed.append((source_id, json.dumps(field_keys.seal_record(record, paths)), updated_at,
                                       deleted))
                    sealed_keys.derive(conn, clear, field_keys)
                    rows = sealed
                conn.execute("create temp table landing (source_id text, record jsonb, source_updated_at timestamptz,"
                             " _deleted boolean) on commit drop")
                with conn.cursor().copy("copy landing from stdin") as copy:
                    for row in rows:
                        copy.write_row(row)
                        landed += 1
                conn.execute(
                    f"insert into {table} (source_id, record, source_updated_at, _batch_id, _deleted) "
                    "select source_id, record, source_updated_at, %s, _deleted from landing "
                    "on conflict (source_id) do update set record = excluded.record, "
                    "source_updated_at = excluded.source_updated_at, _batch_id = excluded._batch_id, "
                    "_deleted = excluded._deleted, _loaded_at = now()", (batch_id,))
                conn.execute(f"analyze {table}")
                conn.commit()
    return landed
