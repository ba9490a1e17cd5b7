"""What each source's staging hands the shared dbt models, and the one file that tells dbt.

A *contract* is a shape the shared models read from every source that has it: the customer
records identity resolution merges, a CRM's people, a shop's web orders and their lines, a CRM's
service tickets. A source provides a contract by a naming convention, in its own staging folder:
the model ``dbt_project/models/staging/<system>/stg_<system>__<contract>.sql`` (for example
``stg_woocommerce__web_orders``), with the contract's columns (the model that unions them,
``CONTRACTS``, documents them). The shared model loops over the providers instead of naming them.

The staging models whose records staging could not type (``data_issues`` column, macros/casting.sql)
say so in their own ``_<system>__models.yml``: ``config: {meta: {data_issues: {object: <raw object>,
id: <id column>, position: <item position column, for the items of an array>}}}``; the mart
``data_issues`` reads every one.

dbt cannot import Python, and a ``ref`` must be known when dbt parses the project (so the DAG,
which cosmos renders from the manifest, shows the dependency). So the lists derive here, from the
registry (``puente.sources.registry.SOURCES``, in its order) and the staging folders, and are
written once into ``dbt_project/macros/generated/sources.sql``:

    python -m puente.sources.contracts          # write it
    python -m puente.sources.contracts --check  # exit 1 when it is out of date

``tests/sources/test_contracts.py`` fails when the file is out of date with the registry.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from puente.config import PROJECT_ROOT
from puente.sources.spec import KINDS, Source

STAGING = PROJECT_ROOT / "dbt_project" / "models" / "staging"
GENERATED = PROJECT_ROOT / "dbt_project" / "macros" / "generated" / "sources.sql"

# Each contract and the shared model that unions its providers (where its columns are documented).
CONTRACTS = {
    "customer_records": "int_customer_record_keys",
    "crm_people": "int_crm_contacts",
    "web_orders": "int_web_orders_unioned",
    "web_order_lines": "int_web_order_lines_unioned",
    "service_tickets": "int_service_tickets_unioned",
    "crm_deals": "int_crm_deals",
    "crm_deal_lines": "int_crm_deal_lines",
    "provider_payments": "fct_payments",
}


def _sources(sources: Sequence[Source] | None) -> Sequence[Source]:
    if sources is None:
        from puente.sources.registry import SOURCES

        return SOURCES
    return sources


def contract_model(source: Source, contract: str) -> str:
    return f"stg_{source.name}__{contract}"


def providers(sources: Sequence[Source] | None = None, staging: Path = STAGING) -> dict[str, tuple[str, ...]]:
    """Each contract and the staging models that provide it, in registry order:
    ``{"web_orders": ("stg_shopify__web_orders", …), …}``."""
    return {contract: tuple(contract_model(s, contract) for s in _sources(sources)
                            if (staging / s.name / f"{contract_model(s, contract)}.sql").is_file())
            for contract in CONTRACTS}


def systems(sources: Sequence[Source] | None = None, staging: Path = STAGING) -> dict[str, tuple[str, ...]]:
    """Each contract and the systems that provide it (what a ``source_system`` column may hold)."""
    return {contract: tuple(model.removeprefix("stg_").split("__")[0] for model in models)
            for contract, models in providers(sources, staging).items()}


def systems_of_kind(sources: Sequence[Source] | None = None) -> dict[str, tuple[str, ...]]:
    """Each kind of system (``spec.KINDS``) and the registry's systems of that kind."""
    return {kind: tuple(s.name for s in _sources(sources) if s.kind == kind) for kind in KINDS}


def customer_record_types(sources: Sequence[Source] | None = None) -> dict[str, str]:
    """The kind of customer record of each system that has one (``Source.customer_record_kind``):
    dim_customers keeps an id array of each."""
    return {s.name: s.customer_record_kind for s in _sources(sources) if s.customer_record_kind}


def record_types(sources: Sequence[Source] | None = None) -> tuple[str, ...]:
    """Every ``record_type`` of int_customer_records_unioned: each system's kind, and the kinds its
    objects declare (``PersonalData``: a guest order is keyed by the order)."""
    kinds: dict[str, None] = {}
    for s in _sources(sources):
        if s.customer_record_kind:
            kinds[s.customer_record_kind] = None
        for obj in s.objects:
            kinds.update(dict.fromkeys((*obj.personal.record_kinds, *(kind for _, kind in obj.personal.refers))))
    return tuple(kinds)


def customer_tax_id_fields(sources: Sequence[Source] | None = None) -> dict[str, dict[str, str]]:
    """Each system's objects that hold a customer record's tax id (``PersonalData.tax_id``) and the
    field a person finds it in: ``{"salesforce": {"contacts": "Tax_Id__c", "leads": "Tax_Id__c"}, …}``,
    keyed as ``int_customer_records_unioned`` names a record's own (``source_system``,
    ``source_object``); what ``marts.data_issues`` names for a doubtful tax id."""
    return {s.name: fields for s in _sources(sources)
            if (fields := {o.name: o.personal.tax_id for o in s.objects if o.personal.tax_id})}


def data_issue_models(sources: Sequence[Source] | None = None,
                      staging: Path = STAGING) -> tuple[tuple[str, str, str, str, str | None], ...]:
    """(model, system, raw object, id column, item position column or None) of each staging model
    that declares ``meta.data_issues`` in its system's ``_<system>__models.yml``."""
    found = []
    for s in _sources(sources):
        path = staging / s.name / f"_{s.name}__models.yml"
        models = (yaml.safe_load(path.read_text()) or {}).get("models", []) if path.is_file() else []
        for model in models:
            declared = ((model.get("config") or {}).get("meta") or {}).get("data_issues")
            if declared:
                obj = declared["object"]
                s.object(obj)  # a KeyError names an object the source does not declare
                found.append((model["name"], s.name, obj, declared["id"], declared.get("position")))
    return tuple(found)


def _jinja(value: object) -> str:
    """A Python literal that Jinja reads back as the same value (strings, None, lists, dicts)."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_jinja(k)}: {_jinja(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jinja(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} for Jinja")


def _macro(name: str, doc: str, value: object, args: str = "") -> str:
    if isinstance(value, dict) and value and all(isinstance(v, (list, tuple, dict)) for v in value.values()):
        body = "{\n" + ",\n".join(f"        {_jinja(k)}: {_jinja(v)}" for k, v in value.items()) + "\n    }"
    elif isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        body = "[\n" + ",\n".join(f"        {_jinja(v)}" for v in value) + "\n    ]"
    else:
        body = _jinja(value)
    lookup = f"[{args}]" if args else ""
    return (f"{{# {doc} #}}\n{{% macro {name}({args}) -%}}\n"
            f"    {{{{ return({body}{lookup}) }}}}\n{{%- endmacro %}}\n")


def render(sources: Sequence[Source] | None = None, staging: Path = STAGING) -> str:
    """The text of ``dbt_project/macros/generated/sources.sql``."""
    sources = _sources(sources)
    return "\n".join([
        "{# Written by `python -m puente.sources.contracts` from the registry (puente/sources/registry.py)\n"
        "   and the staging folders: do not edit, run it again. #}\n",
        _macro("source_contract_models", "The staging models that provide each contract (stg_<system>__<contract>), "
               "in registry order.", providers(sources, staging), "contract"),
        _macro("source_contract_systems", "The systems that provide each contract: what its source_system holds.",
               systems(sources, staging), "contract"),
        _macro("source_systems_of_kind", "The registry's systems of each kind (erp, crm, shop, marketplace, payments).",
               systems_of_kind(sources), "kind"),
        _macro("customer_record_types", "Each system's kind of customer record (record_type of "
               "int_customer_records_unioned): dim_customers keeps an id array of each.",
               customer_record_types(sources)),
        _macro("customer_record_kinds", "Every record_type of int_customer_records_unioned (the systems' kinds, and "
               "the guest orders keyed by the order).", list(record_types(sources))),
        _macro("customer_tax_id_fields", "Each system's objects that hold a customer record's tax id and the field "
               "a person finds it in (PersonalData.tax_id in puente/sources/<system>/settings.py): what "
               "data_issues names for a doubtful tax id.", customer_tax_id_fields(sources)),
        _macro("data_issue_models", "(model, system, raw object, id column, item position column) of each staging "
               "model that reports data issues (meta.data_issues in its _<system>__models.yml).",
               [list(row) for row in data_issue_models(sources, staging)]),
    ])


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    text = render()
    if "--check" in argv:
        if not GENERATED.is_file() or GENERATED.read_text() != text:
            print(f"{GENERATED.relative_to(PROJECT_ROOT)} is out of date with the registry: "
                  "run python -m puente.sources.contracts", file=sys.stderr)
            return 1
        return 0
    GENERATED.parent.mkdir(parents=True, exist_ok=True)
    GENERATED.write_text(text)
    print(f"wrote {GENERATED.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
