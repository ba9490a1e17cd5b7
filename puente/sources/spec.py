"""What a source declares about itself: its kind, its objects, its configuration and its connector.

Each source is one folder, ``puente/sources/<system>/`` (the shape of dlt's verified sources):

- ``__init__.py`` declares the source: one ``Source`` named ``SOURCE``, which the registry lists;
- ``settings.py`` holds what the API documents: endpoints, API version, page sizes and limits,
  and the objects (each a ``SourceObject`` with the field that is its key and the field that is
  its cursor, plus what the connector needs to ask for it and the fields that land:
  ``landed_fields``, minimum data, ``puente.sources.fields``), and where people's data sits in
  them (``personal``, a ``PersonalData``: what an erasure follows and empties);
- ``config.py`` the frozen configuration, read from an Airflow connection or from
  ``PUENTE_<SYSTEM>_*`` environment variables;
- ``connector.py`` the code that talks to the API;
- ``writer.py`` (where Puente writes into the system) the activation writer: what the activation
  engine (``puente.activation``) calls to create and update records there;
- ``check.py`` what ``puente check`` asks the system: reachable, credentials accepted, scopes or
  access rights present, API version supported (``puente.sources.checks``).

``puente.sources.registry`` lists the sources; the DAG's extract tasks, the raw tables, the
reconciliation and the local runtime's simulator settings all derive from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from puente.sources.base import Connector
from puente.sources.fields import FieldTree, field_tree, project


@dataclass(frozen=True, kw_only=True)
class PersonalData:
    """Where an object holds people's data, for the erasure of a data subject (``puente.erasure``).

    ``record_kinds``: the kinds of customer record (``int_customer_records_unioned.record_type``,
    the dbt macro ``customer_record_types()``) whose ``source_record_id`` is this object's key (a
    Shopify guest order is keyed by the order). ``refers``: (path, record kind) for each field that
    points at such a record (an order's customer, an Odoo many2one ``[id, name]``, a HubSpot
    association): a record pointing at the person's record is the person's too (their order, with
    the billing details they typed). The paths, as in ``landed_fields``, of the fields that hold
    personal data: ``identifiers`` (e-mails, phones, tax ids: their values are searched for in every
    table), ``names`` (names as typed: replaced in the raw records that mention them) and ``other``
    (addresses, notes, consents). In the person's own records and the records pointing at them, all
    three are emptied; every other record that mentions an identifier or a name has the mention
    replaced. ``tests/sources/test_personal_data.py`` checks the declarations against the dbt
    record kinds and the landed fields.

    ``tax_id``: the one of those fields where a person finds the tax id of the customer record
    this object is or points at (Odoo's ``vat``, the Shopify customer's ``note`` it is written
    in), as the system's own screens and API name it: ``marts.data_issues`` tells the operator to
    fix a doubtful tax id there (macro ``customer_tax_id_fields()``, ``puente.sources.contracts``).
    """

    record_kinds: tuple[str, ...] = ()
    refers: tuple[tuple[str, str], ...] = ()
    identifiers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    tax_id: str | None = None

    def __post_init__(self) -> None:
        if self.tax_id is not None and self.tax_id not in self.fields:
            raise ValueError(f"tax_id {self.tax_id!r} is none of the personal fields {self.fields}")

    @property
    def fields(self) -> tuple[str, ...]:
        """Every personal field: what erasure empties in the person's records."""
        return (*self.identifiers, *self.names, *self.other)

    @cached_property
    def tree(self) -> FieldTree:
        return field_tree(self.fields)

    @property
    def sensitive(self) -> tuple[str, ...]:
        """The identifiers that are phones and tax ids (every one but the e-mail addresses), and the
        field a tax id is typed into when it has none of its own (``tax_id``: a Shopify customer's
        note): what is sealed when a field key is configured (``puente.field_crypto``)."""
        identifiers = tuple(p for p in self.identifiers if "email" not in p.rsplit(".", 1)[-1].lower())
        return identifiers + ((self.tax_id,) if self.tax_id and self.tax_id not in identifiers else ())


NO_PERSONAL_DATA = PersonalData()

KINDS = ("erp", "crm", "shop", "marketplace", "payments")
# A business runs one ERP and one CRM; it may sell and be paid through any number of the others.
SINGLE_KINDS = ("erp", "crm")


@dataclass(frozen=True, kw_only=True)
class SourceObject:
    """One object of a source (an Odoo model, a HubSpot object, a Shopify resource).

    ``key`` and ``cursor`` name the fields of a record holding its id and its updated-at; the
    loader lands a record under the first and the incremental walk moves on the second.
    ``live_in_raw`` is the SQL condition on a raw row that the source's own count counts, and
    ``live_in_quarantine`` the condition on a quarantined payload (``q.payload``, JSON text) for a
    record the source counts as live: reconciliation compares the two sides with them.

    ``landed_fields`` (minimum data, ``puente.sources.fields``): the paths of a record that land in
    raw; the key and the cursor always land. Every object of the registry declares them
    (``tests/sources/test_minimum_data.py``); a subclass may derive them from the way its API
    names fields (HubSpot's properties, Odoo's fields). ``personal``: which of them hold people's
    data and which point at a customer record (``PersonalData``, for the erasure).
    """

    name: str
    key: str
    cursor: str
    live_in_raw: str = "not _deleted"
    live_in_quarantine: str = "true"
    landed_fields: tuple[str, ...] = ()
    personal: PersonalData = NO_PERSONAL_DATA  # what the erasure empties and follows (``PersonalData``)

    def __post_init__(self) -> None:
        if self.landed_fields:  # the key and the cursor first, then the declaration
            object.__setattr__(self, "landed_fields",
                               tuple(dict.fromkeys((self.key, self.cursor, *self.landed_fields))))
            self.landed_tree  # noqa: B018 - a malformed path fails when the source is declared

    @cached_property
    def landed_tree(self) -> FieldTree | None:
        """The declaration as a tree, None when the object declares none."""
        return field_tree(self.landed_fields) if self.landed_fields else None

    def landed(self, record: Any) -> Any:
        """``record`` as it may land: only its declared fields (itself when none are declared)."""
        return project(record, self.landed_tree)


class SourceConfig(Protocol):
    """What every source's configuration offers (see ``puente/sources/<system>/config.py``)."""

    url: str
    origin: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SourceConfig: ...

    @classmethod
    def from_connection(cls, conn: Any) -> SourceConfig: ...

    def to_env(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Source:
    """A system Puente extracts from, as the registry lists it."""

    name: str  # lower case, as in raw table names and ``puente_<name>`` connections: "odoo"
    title: str  # as people write it: "Odoo"
    kind: str  # one of KINDS
    objects: tuple[SourceObject, ...]
    config: type[SourceConfig]
    connector: Callable[..., Connector]  # connector(config, **options)
    # Where the local simulators serve this system, below their base URL, and how the simulator's
    # credentials (a ``puente.simulators.Credentials``) become this source's configuration.
    simulator: Callable[[str, Any], SourceConfig]
    # What writes into this system for the activations (``puente.activation``):
    # writer(config, **options), or None where Puente only reads.
    writer: Callable[..., Any] | None = None
    # check(config) -> list of ``puente.sources.checks.Finding``: what ``puente check`` asks it.
    check: Callable[[Any], list] | None = None
    # A shop's web orders and their buyers: the objects the frequent ``puente_web_orders`` DAG
    # extracts between the nights to post new orders into the ERP; () for a system without any.
    web_order_objects: tuple[str, ...] = ()
    # Whether the connector keeps rotating OAuth tokens in the warehouse (``ops.oauth_tokens``,
    # Mercado Libre's single-use refresh tokens): the extraction hands it ``warehouse_url``, and
    # ``check(config, warehouse_url)`` takes it too.
    keeps_tokens: bool = False
    # The kind of customer record this system holds its buyers in (``odoo_partner``,
    # ``shopify_customer``: ``record_type`` of the dbt model int_customer_records_unioned),
    # None for a system without customers of its own (a payment provider). dim_customers keeps
    # an id array of each (``puente.sources.contracts``).
    customer_record_kind: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source {self.name}: kind {self.kind!r} is not one of {KINDS}")
        names = [o.name for o in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"source {self.name}: an object is declared twice in {names}")
        unknown = [o for o in self.web_order_objects if o not in names]
        if unknown:
            raise ValueError(f"source {self.name}: web_order_objects names undeclared object(s) {unknown}")

    @property
    def conn_id(self) -> str:
        """The Airflow connection that configures it."""
        return f"puente_{self.name}"

    @property
    def object_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.objects)

    def object(self, name: str) -> SourceObject:
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(f"{self.name} has no object {name!r}; known: {list(self.object_names)}")
