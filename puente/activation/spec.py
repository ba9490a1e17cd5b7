"""Activation declarations, read from the dbt manifest (``config.meta.activation`` of a model).

A declaration sits in the activation model's YAML, beside its columns::

    - name: act_crm_contact_scores
      config:
        meta:
          activation:
            target: crm              # a system of the source registry, or the kind ``crm``/``erp``
            object: contacts         # the object written there
            mode: update             # create | update | upsert
            owns: [puente_churn_score, puente_churn_risk]
            purposes: [analytics]    # Habeas Data: what the customer must have authorised
            batch_size: 100
            order: 10                # activations of one target run in this order
            summary: Churn score fields on CRM contacts

Every activation model has the same columns (``MODEL_COLUMNS``), so one engine serves them all:

- ``row_key``: the row's identity across nights (a shop order id, a contact id, a SKU);
- ``target_id``: the target record's id when Puente already knows it (updates);
- ``external_key``: what identifies the record in the target before Puente knows its id (the
  shop order's name in the ERP's ``client_order_ref``): creates look it up first;
- ``payload``: the fields to write (only fields the activation owns);
- ``compare``: what counts as a change (defaults to the payload): the engine sends a row only when
  ``compare`` differs from what the target last accepted. It holds no sealed value
  (``puente.field_crypto``): a key rotation gives those new forms, which would send every such row
  again (tests/dbt/test_field_key_rotation.py);
- ``observed_at``: when the target's current state was last read, for activations that converge
  the target on a state (stock): a row accepted before the target was observed again and still
  emitted is sent again;
- ``invalid_reason``: why the row cannot be sent, in words a shop owner understands (the work list);
- ``customer_id``: whose data the row carries, for the authorisation and the work list;
- ``context``: what a person needs to act on the row by hand (order name, SKU, customer name).

``target`` names a system (``odoo``, ``shopify``), or a kind a business runs exactly one of
(``crm``, ``erp``): such an activation goes to the business's configured system of that kind
(``registry.system_of_kind``, from ``PUENTE_SYSTEMS`` or ``puente.yml``), so the CRM activations
work to HubSpot or Salesforce alike. The models speak Puente's CRM vocabulary (the HubSpot
property names of the ``puente_*`` fields and tasks); each CRM's writer maps it to its own API.

``purposes`` names what the activation processes the customer's data for, among ``PURPOSES``
(the dbt var ``authorisation_purposes``); the engine sends a row only when its customer
authorised every one of them in ``marts.customer_authorisations`` (a row without a customer is
not authorised). An activation that carries no personal data beyond what a contract needs (an
order into the ERP, stock into the shop) declares none.

The declaration is parsed strictly: an unknown key or mode is an error naming the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from puente.config import dbt_project_dir
from puente.sources import registry
from puente.sources.spec import SINGLE_KINDS

MODES = ("create", "update", "upsert")
# The purposes a customer authorises one by one (Habeas Data); dbt's var `authorisation_purposes`.
PURPOSES = ("marketing", "sales_follow_up", "analytics")
# Each column and its PostgreSQL type (what a stand-in model table in a test or a bench is made of).
MODEL_COLUMNS = {"row_key": "text", "target_id": "text", "external_key": "text", "payload": "jsonb",
                 "compare": "jsonb", "observed_at": "timestamptz", "invalid_reason": "text", "customer_id": "text",
                 "context": "jsonb"}
MODEL_TABLE_COLUMNS = ", ".join(f"{name} {sqltype}" for name, sqltype in MODEL_COLUMNS.items())
_KEYS = {"target", "object", "mode", "owns", "purposes", "batch_size", "order", "summary"}


class DeclarationError(ValueError):
    """An activation's declaration in the dbt YAML is not valid."""


@dataclass(frozen=True)
class Activation:
    name: str            # the dbt model's name without ``act_`` (``crm_contact_scores``)
    model: str           # the dbt model (``act_crm_contact_scores``)
    relation: str        # where dbt builds it (``activations.act_crm_contact_scores``)
    target: str
    object: str
    mode: str
    owns: tuple[str, ...]
    purposes: tuple[str, ...] = ()
    batch_size: int = 100
    order: int = 100
    summary: str = ""

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> Activation:
        model = node["name"]
        meta = dict((node.get("config") or {}).get("meta", {}).get("activation") or {})
        unknown = set(meta) - _KEYS
        if unknown:
            raise DeclarationError(f"{model}: unknown activation key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
        for required in ("target", "object", "mode", "owns"):
            if not meta.get(required):
                raise DeclarationError(f"{model}: the activation declaration needs '{required}'")
        if meta["mode"] not in MODES:
            raise DeclarationError(f"{model}: mode must be one of {MODES}, not {meta['mode']!r}")
        purposes = meta.get("purposes") or []
        if not isinstance(purposes, list) or any(p not in PURPOSES for p in purposes):
            raise DeclarationError(f"{model}: purposes must be a list of {PURPOSES}, not {purposes!r}")
        batch_size = int(meta.get("batch_size", 100))
        if batch_size < 1:
            raise DeclarationError(f"{model}: batch_size must be at least 1")
        target = meta["target"]
        if target in SINGLE_KINDS:  # the business's one CRM (or ERP); the kind itself when it runs none
            target = registry.system_of_kind(target) or target
        return cls(
            name=model.removeprefix("act_"), model=model, relation=f"{node['schema']}.{node.get('alias') or model}",
            target=target, object=meta["object"], mode=meta["mode"], owns=tuple(meta["owns"]),
            purposes=tuple(dict.fromkeys(purposes)), batch_size=batch_size, order=int(meta.get("order", 100)),
            summary=str(meta.get("summary") or node.get("description") or "").strip(),
        )


def load_activations(manifest: Path | None = None) -> list[Activation]:
    """Every declared activation of the dbt project, ordered by target and ``order``."""
    path = manifest or dbt_project_dir() / "target" / "manifest.json"
    if not path.is_file():
        raise DeclarationError(f"no dbt manifest at {path}: the activations are declared in the dbt project; "
                               "parse it first (`make manifest`, or `.venv/bin/puente dbt-parse`)")
    nodes = json.loads(path.read_text())["nodes"]
    found = [Activation.from_node(node) for node in nodes.values()
             if node.get("resource_type") == "model"
             and (node.get("config") or {}).get("meta", {}).get("activation")]
    return sorted(found, key=lambda a: (a.target, a.order, a.name))


def activation_named(name: str, manifest: Path | None = None) -> Activation:
    activations = {a.name: a for a in load_activations(manifest)}
    if name not in activations:
        raise KeyError(f"no activation {name!r}; declared: {', '.join(sorted(activations)) or 'none'}")
    return activations[name]
