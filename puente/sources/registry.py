"""The one list of the systems Puente extracts from, and which of them this business runs.

Everything that depends on the list of sources reads it here: the DAG's extract tasks and the
``sources`` param (``configured()``), the raw tables (``puente.warehouse.RAW_OBJECTS``), the
reconciliation conditions (``source_object``), the choice of connector (``build_connector``),
the local runtime's simulator settings and the configuration lookup (``source(name).config``).
Adding a source means adding its folder (``puente/sources/<system>/``, see ``spec.py``), its
staging models, and one line to ``SOURCES``; ``tests/sources/test_registry.py`` checks that the
DAG, the raw tables and the dbt sources agree with this list.

Which systems a business runs is set once, read in this order:

1. ``PUENTE_SYSTEMS``: names separated by commas (``odoo,hubspot,shopify``);
2. the ``systems:`` list of the settings file, ``PUENTE_CONFIG`` or ``puente.yml`` at the
   project's root;
3. otherwise the three systems the local simulators serve: Odoo, HubSpot and Shopify.

A business runs at most one ERP and one CRM, and any number of shops, marketplaces and payment
providers. The DAG shows an extract task for each configured system only. The list is read when
the DAG file is parsed, so it is a file or a variable, never a lookup of Airflow connections
(Airflow advises against reaching the metadata database or a secrets backend at parse time);
whether a configured system's settings come from its connection or from ``PUENTE_<SYSTEM>_*``
is decided when its task runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from puente.config import PROJECT_ROOT, MissingSetting
from puente.sources import (
    hubspot,
    mercadolibre,
    mercadopago,
    odoo,
    salesforce,
    shopify,
    stripe,
    tiendanube,
    woocommerce,
)
from puente.sources.base import Connector
from puente.sources.spec import SINGLE_KINDS, Source, SourceConfig, SourceObject

SOURCES: tuple[Source, ...] = (odoo.SOURCE, hubspot.SOURCE, salesforce.SOURCE, shopify.SOURCE, woocommerce.SOURCE,
                               tiendanube.SOURCE, mercadopago.SOURCE, mercadolibre.SOURCE, stripe.SOURCE)
DEFAULT_SYSTEMS = ("odoo", "hubspot", "shopify")  # what the local simulators serve
_BY_NAME = {s.name: s for s in SOURCES}


class UnknownSource(ValueError):
    """A name that is not in the registry."""


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def source(name: str) -> Source:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSource(f"unknown source {name!r}; Puente knows {', '.join(_BY_NAME)}") from None


def source_object(source_name: str, obj: str) -> SourceObject:
    return source(source_name).object(obj)


def build_connector(name: str, config: SourceConfig, **options: Any) -> Connector:
    """The connector of source ``name`` over ``config``; ``options`` go to it and its HTTP client."""
    return source(name).connector(config, **options)


def build_writer(name: str, config: SourceConfig, **options: Any) -> Any:
    """The activation writer of source ``name`` over ``config`` (``puente.activation.writers.Writer``)."""
    spec = source(name)
    if spec.writer is None:
        raise UnknownSource(f"Puente does not write into {spec.title}")
    return spec.writer(config, **options)


def personal_objects() -> tuple[tuple[Source, SourceObject], ...]:
    """Every object that holds people's data or points at a customer record (``PersonalData``):
    what the erasure (``puente.erasure``) reads, in registry order."""
    return tuple((s, o) for s in SOURCES for o in s.objects
                 if o.personal.record_kinds or o.personal.refers or o.personal.fields)


def record_kinds() -> dict[str, tuple[tuple[Source, SourceObject], ...]]:
    """Each kind of customer record (``int_customer_records_unioned.record_type``) and the objects
    that hold it: keyed by it (``PersonalData.record_kinds``) or pointing at it (``refers``)."""
    kinds: dict[str, list[tuple[Source, SourceObject]]] = {}
    for s, o in personal_objects():
        for kind in (*o.personal.record_kinds, *(kind for _, kind in o.personal.refers)):
            if (s, o) not in kinds.setdefault(kind, []):
                kinds[kind].append((s, o))
    return {kind: tuple(objects) for kind, objects in kinds.items()}


def simulator_configs(base_url: str, credentials: Any) -> dict[str, SourceConfig]:
    """Every registered source's configuration pointing at the local simulators at ``base_url``."""
    return {s.name: s.simulator(base_url, credentials) for s in SOURCES}


def config_file(env: Mapping[str, str] | None = None) -> Path:
    """The business's settings file: ``PUENTE_CONFIG``, or ``puente.yml`` at the project's root."""
    env = os.environ if env is None else env
    return Path(env.get("PUENTE_CONFIG") or PROJECT_ROOT / "puente.yml")


def configured(env: Mapping[str, str] | None = None) -> tuple[Source, ...]:
    """The systems this business runs, in registry order (see the module's docstring)."""
    env = os.environ if env is None else env
    if env.get("PUENTE_SYSTEMS", "").strip():
        chosen, where = [n.strip() for n in env["PUENTE_SYSTEMS"].split(",") if n.strip()], "PUENTE_SYSTEMS"
    else:
        path = config_file(env)
        if not path.exists():
            if env.get("PUENTE_CONFIG"):
                raise MissingSetting(f"PUENTE_CONFIG names {path}, which does not exist")
            return tuple(source(n) for n in DEFAULT_SYSTEMS)
        chosen, where = _systems_in_file(path), str(path)
    return _validated(chosen, where)


def system_of_kind(kind: str, env: Mapping[str, str] | None = None) -> str | None:
    """The configured system of a kind a business runs one of (``crm``: ``hubspot`` or ``salesforce``),
    None when it runs none. Activations declared for a kind (``target: crm``) go to it."""
    if kind not in SINGLE_KINDS:
        raise ValueError(f"a business may run several systems of kind {kind!r}; only {SINGLE_KINDS} name one")
    return next((s.name for s in configured(env) if s.kind == kind), None)


def _systems_in_file(path: Path) -> list[str]:
    import yaml

    try:
        settings = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise MissingSetting(f"{path} is not valid YAML: {exc}") from None
    systems = settings.get("systems") if isinstance(settings, dict) else None
    if not isinstance(systems, list) or not all(isinstance(n, str) for n in systems):
        raise MissingSetting(f"{path} must hold a list of system names under 'systems:', e.g. "
                             f"systems: [{', '.join(DEFAULT_SYSTEMS)}]")
    return systems


def _validated(chosen: list[str], where: str) -> tuple[Source, ...]:
    unknown = [n for n in chosen if n not in _BY_NAME]
    if unknown:
        raise MissingSetting(f"{where} names unknown system(s) {unknown}; Puente knows {', '.join(_BY_NAME)}")
    if not chosen:
        raise MissingSetting(f"{where} names no system at all")
    for kind in SINGLE_KINDS:
        same = [n for n in dict.fromkeys(chosen) if _BY_NAME[n].kind == kind]
        if len(same) > 1:
            raise MissingSetting(f"{where} names {len(same)} systems of kind {kind} ({', '.join(same)}); "
                                 f"a business runs one {kind.upper()}")
    wanted = set(chosen)
    return tuple(s for s in SOURCES if s.name in wanted)

