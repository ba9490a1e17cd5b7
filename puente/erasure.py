"""Erase a data subject (Habeas Data, Ley 1581 de 2012, art. 8 and 15): ``puente erase`` and the
``puente_erasure`` DAG.

The operator names the person by e-mail, phone, tax id or customer id. An e-mail, phone or tax id
several customers carry (an office landline, a family's e-mail) is refused, naming how many and
their customer ids, unless the operator confirms them all (``all_matching``, ``--all-matching``):
they may be several people, or one person the matching did not merge. Puente then:

1. **Finds them**: the customers (``intermediate.int_customers_matched``) whose records carry that
   identifier, every source record of those customers, the raw records pointing at those (an
   Odoo order's or invoice's partner, a HubSpot deal's or ticket's contact, a Salesforce
   Opportunity's or Case's ContactId, a Shopify or Tienda Nube order's ``customer.id``, a
   WooCommerce order's ``customer_id``, a Mercado Libre sale's ``buyer.id``), and every identifier
   those records hold (e-mails, phones and tax ids as typed and as normalised, and the names as
   typed). Where each kind of customer record lands, what points at it and which fields are
   personal is each source's own declaration (``PersonalData`` of its objects in
   ``puente/sources/<system>/settings.py``, read through ``puente.sources.registry``); a record
   kind no source declares stops the erasure before it changes anything.
2. **Clears the CRM fields Puente wrote** on their contacts in the business's CRM, through its
   writer (HubSpot's ``puente_*`` properties, Salesforce's ``Puente_*__c`` fields, set to empty),
   **deletes the CRM tasks Puente made for them** (churn calls, service reminders: found in
   ``ops.activation_audit`` by their contact; subject and body replaced, then deleted, as HubSpot
   keeps a deleted task restorable for 90 days and Salesforce's Recycle Bin for 15), and forgets
   what the activations last sent there.
3. **Scrubs raw**: each of the person's own source records, and each record pointing at them
   (their orders and sales), keeps its key, its cursor and the fields that are not personal (an
   order's amounts and lines), the personal fields its source declares emptied (names, e-mails,
   phones, documents, addresses, consents); any other raw record that mentions one of the
   identifiers (a Mercado Pago payment's payer, a Stripe charge's description, a note with the
   cédula) has the mention replaced by ``[erased]``. Raw keeps one version per record, so this
   is every version Puente stored.
4. **Scrubs everything built from it**, in every schema of the warehouse (staging,
   intermediate, marts, the snapshot history, the activation models, ops, ml): every text, JSON
   and array column is searched for the identifiers and the mentions replaced, and the rows of
   the person's customers lose their names and cities; the snapshot's versions (history no
   rebuild replaces) of their customers, and of any customer that held one of their records (one
   merged into theirs later, under another id and with a former e-mail or phone; found by its
   ``<record type>_ids`` or a ``<field>_source`` naming one of their record keys), lose names,
   places and identifiers; free text Puente keeps in ``ops`` about
   their records (identity-review reasons, the activation work list's context) is replaced, found
   by their record keys and customer ids, never by name (other people share it), and the
   identity-review decisions in force naming their records are revoked; their churn-task
   assignments (kept for the experiment) forget the CRM contact they were made for. Then the dbt
   models are rebuilt from the scrubbed raw records (``_rebuild``; their ``_loaded_at`` is moved
   so the incremental models re-read them): names and streets leave every derived table at once,
   and no activation aims at their CRM contacts again. Should the rebuild fail, the tombstone
   stays unfinished (``pending`` in marts.audit_log) and the next successful night completes it.
5. **Keeps a tombstone** (``ops.erasures``): who asked, why, when, how the person was identified
   (the kind of identifier, never its value), how many customers, source records and rows of
   each table were touched, and the identifiers only as keyed hashes (HMAC-SHA256 under
   ``ops.erasure_key``, a key no BI role can read), which answers "was this e-mail erased?"
   without keeping it.
6. **Keeps the person out**: the keyed hash of each scrubbed source record goes to
   ``ops.erased_records`` with the erasure's time; the loader skips a record with that hash
   when the source serves it unchanged since (a full refresh, a record re-read), and lands it
   when the source changed it after the erasure (the person came back, or the business
   corrected the record): new data the business holds again is not Puente's to refuse.

Afterwards the person is **several anonymous customers**, not one: what tied their records together
(e-mails, phones, tax ids, names) is what was erased, so identity resolution finds each scrubbed
record a customer of its own, but for records an order ties without personal data (a shop order
entered in the ERP under the shop's reference). The part holding most of their records keeps
their customer id (``int_customer_ids``), the others get ids of their own; none holds a name or
an identifier. Their orders and revenue stay, spread over those customers: the customer count
grows and their history is split. On purpose: keeping them one customer would mean keeping, in
clear, which records were one person (an operator merge per pair, ``ops.customer_match_overrides``),
the very link the erasure removes, and one of their records coming back would bring the whole
history back to them: the identity-review decisions in force naming one of their records are
revoked (``_revoke_decisions``; ``revoked_by`` 'erasure <id>'). A won deal or web order of theirs
not yet in the ERP no longer finds their ERP partner (nor the deal the order that fulfilled it):
posted, it would make a partner for them again, or a second order, wherever the ERP takes a
customer without a cédula/NIT (``erp_requires_tax_id`` false). So act_won_deals_to_erp and
act_web_orders_to_erp hold a deal or order whose record an erasure scrubbed and the source has not
changed since (dbt macro ``erasure_of``, reading ``ops.erased_records``): on the work list, the
erasure named as the reason; the operator enters it in the ERP by hand if it must still be
delivered. tests/dbt/test_erasure.py pins this behaviour.

Asked again for a person already erased, ``erase`` finds nobody and says which erasure removed
the identifier (``erased_by``: the tombstones' keyed hashes). Asked again by customer id, it
finds the anonymous remainder that kept it, but every record of that customer is one an erasure
scrubbed and none landed since (``_already_erased``): ``AlreadyErased`` says which erasure and
when, and nothing is written. A record the source changed after the erasure is new data: it
landed again, and is erased again, under a tombstone of its own.

Puente does not delete the person in the ERP, the CRM or the shop: each system is the business's
own record and has its own erasure (HubSpot's GDPR delete, Shopify's customer redaction).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from puente import leases, sealed_keys
from puente.field_crypto import FieldKeys, is_sealed, sealed_needles
from puente.identity_review import revoke_where
from puente.sources import registry
from puente.sources.fields import blank, jsonpath, values_at
from puente.sources.spec import SourceObject
from puente.warehouse import raw_object

log = logging.getLogger(__name__)

ERASED = "[erased]"
# Where each source keeps a person's records and their personal fields is the source's own
# declaration (``PersonalData`` of its objects, in ``puente/sources/<system>/settings.py``), read
# through ``puente.sources.registry``: no list of sources here.
# Columns of a dbt model or snapshot row about one customer that name or place the person.
PERSONAL_COLUMNS = ("full_name", "first_name", "last_name", "city", "name_normalized", "name_compared",
                    "company_name_compared", "city_normalized")
# … and of a snapshot's version (dbt_project/snapshots), which no rebuild replaces: its identifiers
# too, as the version may hold ones no record of the person holds any more (a former e-mail)
SNAPSHOT_PERSONAL_COLUMNS = (*PERSONAL_COLUMNS, "email", "phone", "tax_id")
MIN_NEEDLE = 5  # shorter strings are not searched for (a "Cra" or a "57" is in everybody's data)


class SubjectNotFound(LookupError):
    """No customer carries the identifier given."""


class AlreadyErased(SubjectNotFound):
    """The customer named (by customer id: the anonymous remainder of an erased person keeps it)
    holds only records an erasure scrubbed, none landed again since: a request made twice. Nothing
    is done and no second tombstone is written."""


class SeveralSubjects(ValueError):
    """The identifier given is carried by more than one customer, and the operator did not confirm
    erasing them all (``all_matching``): several people may share it (an office landline, a
    family's e-mail)."""


@dataclass
class Subject:
    customer_ids: list[str]
    records: list[tuple[str, str, str]]  # (source, object, source id) of their own records
    # (source, object, source id) of the records pointing at their own ones (their orders, deals, sales)
    linked: list[tuple[str, str, str]] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)  # searched for in every table
    names: set[str] = field(default_factory=set)  # replaced in the raw records that mention them
    # (record type, source id) of their own records, as the identity models key them ("odoo_partner:42")
    record_keys: set[tuple[str, str]] = field(default_factory=set)

    @property
    def hubspot_contact_ids(self) -> list[str]:
        return [rid for source, obj, rid in self.records if (source, obj) == ("hubspot", "contacts")]

    def crm_people(self, crm: str, with_leads: bool = False) -> list[str]:
        """Their records in the CRM ``crm``: HubSpot contacts; Salesforce Contacts (and Leads)."""
        kinds = {("hubspot", "contacts"), ("salesforce", "contacts"), *([("salesforce", "leads")] if with_leads else [])}
        return [rid for source, obj, rid in self.records if source == crm and (source, obj) in kinds]


@dataclass
class ErasureResult:
    erasure_id: str
    customers: int
    source_records: int
    crm_contacts_cleared: int
    removed: dict[str, int]
    crm_tasks_erased: int = 0
    message: str | None = None  # what is left to do (pending), as the tombstone says


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def find_subject(conn: psycopg.Connection, *, email: str | None = None, phone: str | None = None,
                 tax_id: str | None = None, customer_id: str | None = None,
                 field_keys: FieldKeys | None = None, all_matching: bool = False) -> Subject:
    """The person's customers, their source records and identifiers, from the warehouse.
    ``field_keys``: the keys that sealed phones and tax ids (``puente.field_crypto``): a phone or a
    tax id is then found sealed too, through its identity keys (``puente.sealed_keys``), and the
    sealed identifiers found are opened, so that every form of them is searched for.
    An e-mail, phone or tax id several customers carry is refused (``SeveralSubjects``, naming
    how many and their customer ids only) unless ``all_matching``: people share them (an office
    landline, a family's e-mail), and one person may also be two customers the matching did not
    merge, which the operator checks."""
    given = {"email": email, "phone": phone, "tax_id": tax_id, "customer_id": customer_id}
    if sum(v is not None and str(v).strip() != "" for v in given.values()) != 1:
        raise ValueError("name the person by exactly one of: e-mail, phone, tax id, customer id")
    if email:
        where, value = "email_normalized = lower(trim(%s))", email
    elif phone:
        if len(_digits(phone)) < 7:
            raise ValueError(f"a phone needs at least 7 digits to identify a person, not {len(_digits(phone))}")
        where, value = ("right(regexp_replace(coalesce(phone_normalized, ''), '\\D', '', 'g'), 10) = right(%s, 10) "
                        "or right(regexp_replace(coalesce(other_phone_normalized, ''), '\\D', '', 'g'), 10) "
                        "= right(%s, 10)"), _digits(phone)
    elif tax_id:
        where, value = ("regexp_replace(coalesce(tax_id_normalized, tax_id, ''), '\\D', '', 'g') "
                        "in (%s, left(%s, -1))"), _digits(tax_id)
    else:
        where, value = "customer_id = %s", str(customer_id)
    params = [value] * where.count("%s")
    if field_keys is not None and (phone or tax_id):
        # the keys the models compare, sealed as the loader seals them
        keys = sealed_keys.derived(conn, [(phone.strip(), "phone") if phone else (tax_id.strip(), "tax_id")])
        columns = ("phone_normalized", "other_phone_normalized") if phone else ("tax_id_normalized", "tax_id_body")
        found = "tax_id_normalized" if tax_id else "phone_normalized"
        tokens = sorted({field_keys.seal(k[found]) for k in keys if k[found]}
                        | ({field_keys.seal(k["tax_id_body"]) for k in keys if k["tax_id_body"]} if tax_id else set()))
        where = f"({where}) or " + " or ".join(f"{c} = any(%s)" for c in columns)
        params += [tokens] * len(columns)
    customers = [r[0] for r in conn.execute(
        f"select distinct customer_id from intermediate.int_customers_matched where {where}", params)]
    if not customers:
        raise SubjectNotFound("no customer in the warehouse carries that identifier")
    if len(customers) > 1 and not all_matching and customer_id is None:
        raise SeveralSubjects(_several_message("e-mail" if email else "phone" if phone else "tax id", customers))
    rows = conn.execute(
        """
        select record_type, source_record_id, email_normalized, phone_normalized, other_phone_normalized,
               tax_id, tax_id_normalized, full_name
        from intermediate.int_customers_matched where customer_id = any(%s)
        """, (customers,)).fetchall()
    subject = Subject(customer_ids=customers, records=[])
    kinds: dict[str, set[str]] = {}
    declared = registry.record_kinds()
    for record_type, record_id, *identifiers, full_name in rows:
        if record_type not in declared:
            raise LookupError(f"no source declares where records of kind {record_type!r} land "
                              "(PersonalData.record_kinds or refers in its settings.py)")
        kinds.setdefault(record_type, set()).add(record_id)
        subject.record_keys.add((record_type, record_id))
        subject.identifiers.update(v for v in identifiers if v)
        if full_name:
            subject.names.add(full_name)
    for source, obj in registry.personal_objects():
        table = sql.Identifier("raw", raw_object(source.name, obj.name).table)
        own = sorted({i for kind in obj.personal.record_kinds for i in kinds.get(kind, ())})
        if own:
            for record_id, record in conn.execute(sql.SQL("select source_id, record from {} where source_id = any(%s)"
                                                          ).format(table), (own,)):
                subject.records.append((source.name, obj.name, record_id))
                _collect(record, obj, subject)
        for path, kind in obj.personal.refers:
            if kind not in kinds:
                continue
            for record_id, record in conn.execute(sql.SQL(
                    "select source_id, record from {} where source_id <> all(%s) and exists (select from "
                    "jsonb_path_query(record, %s::jsonpath) as v(x) where x #>> '{{}}' = any(%s))").format(table),
                    (own, jsonpath(path), sorted(kinds[kind]))):
                if (source.name, obj.name, record_id) not in subject.linked:
                    subject.linked.append((source.name, obj.name, record_id))
                    _collect(record, obj, subject)
    for value in (email, phone, tax_id):
        if value:
            subject.identifiers.add(value.strip())
    if field_keys is not None:
        subject.identifiers.update(field_keys.open(v) for v in list(subject.identifiers) if is_sealed(v))
    # phones also as the digits people type (+573001234567, 573001234567, 3001234567); tax ids
    # also without their check digit (the body the identity models compare)
    for value in list(subject.identifiers):
        digits = _digits(value)
        if "@" in value or any(c.isalpha() for c in value) or len(digits) < 8:
            continue
        subject.identifiers.update({digits, digits[-10:], digits[:-1]})
    subject.identifiers = {v for v in subject.identifiers if len(v) >= MIN_NEEDLE}
    subject.names = {v for v in subject.names if len(v) >= MIN_NEEDLE} - subject.identifiers
    return subject


def _several_message(kind: str, customers: list[str]) -> str:
    """Why an identifier several customers carry is refused, and what to do: their ids only, never
    what their records hold."""
    ids = ", ".join(sorted(customers)[:20]) + (f", … ({len(customers) - 20} more)" if len(customers) > 20 else "")
    return (f"the {kind} given is carried by {len(customers)} customers ({ids}): they may be different people "
            f"sharing it (an office landline, a family's e-mail) or one person the matching did not merge. Check "
            f"them (marts.dim_customers), then erase one by its customer id (--customer-id), or confirm erasing all "
            f"{len(customers)} with --all-matching (all_matching in the puente_erasure DAG)")


def _collect(record: Any, obj: SourceObject, subject: Subject) -> None:
    """The identifiers and names one of the person's records holds, where its source declares them."""
    for paths, found in ((obj.personal.identifiers, subject.identifiers), (obj.personal.names, subject.names)):
        for path in paths:
            found.update(v.strip() for v in _strings(values_at(record, path)) if v.strip())


def _strings(values: Iterable[Any]) -> Iterable[str]:
    """The text of every value (numbers too: a document typed as a number), inside objects too."""
    for v in values:
        if isinstance(v, dict):
            yield from _strings(v.values())
        elif isinstance(v, list):
            yield from _strings(v)
        elif isinstance(v, str | int) and not isinstance(v, bool):
            yield str(v)


def _pattern(needles: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str], obj: SourceObject | None = None) -> Any:
    """``value`` with every mention of ``pattern`` replaced, and (a record of the person's, of
    ``obj``) the personal fields its source declares emptied."""
    if obj is not None:
        value = blank(value, obj.personal.tree)
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    return value


def keyed_hash_sql(value: str = "%s") -> str:
    """HMAC-SHA256 of the text ``value`` under the erasure key (``k``: ops.erasure_key's padded halves):
    the hashes of the tombstones' identifiers and of the erased records (``ops.erased_records``,
    which the loader looks its records up in, ``puente.load``)."""
    return f"sha256(k.outer_pad || sha256(k.inner_pad || convert_to({value}, 'UTF8')))"


# A record an erasure scrubbed: ops.erased_records (``e``) holds HMAC-SHA256 of "<source>/<object>/<id>"
# under the erasure key (``k``, ops.erasure_key). Parameters: the source, the object and the prefix
# "<source>/<object>/"; ``{id}``: the SQL of the record's id. The loader and the erasure read it.
ERASED_RECORD = "e.source = %s and e.object = %s and e.record_hash = " + keyed_hash_sql("%s || {id}")

# How long an erasure waits for the run writing the warehouse (a night, a web-orders run) to end
ERASURE_LEASE_WAIT = timedelta(hours=2)
# How long its own hold lasts if it dies without releasing it (a rebuild of a large business included)
ERASURE_LEASE_TTL = timedelta(hours=2)


def erase(url: str, **request: Any) -> ErasureResult:
    """Erase the person named by one identifier (``_erase_now``'s arguments; see the module's
    docstring), holding the warehouse's writer lease (``puente.leases``) as the nightly and
    web-orders runs do: a build that read raw before the scrub would otherwise write the person
    back into the models and the snapshot after it. Waits for a run that holds it (up to
    ERASURE_LEASE_WAIT, saying so in the log)."""
    holder = f"puente_erasure {uuid.uuid4().hex}"
    leases.acquire_waiting(url, holder, ERASURE_LEASE_TTL, wait=ERASURE_LEASE_WAIT.total_seconds())
    try:
        return _erase_now(url, **request)
    finally:
        leases.release(url, holder)


def _erase_now(url: str, *, requested_by: str, reason: str | None = None, email: str | None = None,
               phone: str | None = None, tax_id: str | None = None, customer_id: str | None = None,
               crm_writer: Any = None, field_keys: FieldKeys | None = None, rebuild: bool = True,
               all_matching: bool = False) -> ErasureResult:
    """Erase the person named by one identifier (see the module's docstring); the tombstone's summary.
    ``field_keys`` (``puente.field_crypto``): the keys that sealed phones and tax ids, so their
    sealed forms are found and removed too. ``rebuild``: rebuild the dbt models from the scrubbed
    raw records (``_rebuild``); without it, or when it fails, the tombstone stays unfinished with
    what is pending in its message, and the next successful night completes it."""
    if not requested_by.strip():
        raise ValueError("say who requested the erasure (requested_by)")
    identified_by = [k for k, v in (("email", email), ("phone", phone), ("tax_id", tax_id),
                                    ("customer_id", customer_id)) if v]
    erasure_id = uuid.uuid4().hex
    with psycopg.connect(url) as conn:
        try:
            subject = find_subject(conn, email=email, phone=phone, tax_id=tax_id, customer_id=customer_id,
                                   field_keys=field_keys, all_matching=all_matching)
        except SubjectNotFound:
            given = email or phone or tax_id
            done = erased_by(conn, given) if given else []
            if done:  # a request made twice, or an erasure run again: say it was done
                raise SubjectNotFound(f"no customer in the warehouse carries that identifier: erasure "
                                      f"{', '.join(done)} removed it") from None
            raise
        # The anonymous remainder of an erased person keeps their customer id (see above), so a
        # request by customer id made twice finds "them" again: recognised by their records, every
        # one scrubbed and none landed since (a record the source changed after the erasure is new
        # data, erased again below)
        done = _already_erased(conn, subject)
        if done:
            raise AlreadyErased(f"customer {', '.join(subject.customer_ids)} was already erased: {done}; every "
                                "record of theirs is scrubbed and none landed again since, so nothing was done")
        conn.execute(
            f"insert into ops.erasures (erasure_id, requested_by, reason, identified_by, identifier_hashes) "
            f"select %s, %s, %s, %s, array(select {keyed_hash_sql('i.v')} "
            f"from unnest(%s::text[]) as i(v)) from ops.erasure_key as k",
            (erasure_id, requested_by, reason, identified_by, sorted(v.lower() for v in subject.identifiers)))
        conn.commit()
    crm = crm_writer.system if crm_writer is not None else (crm_system() or "hubspot")
    cleared = _clear_crm(url, subject, crm_writer, crm)
    made = puente_tasks(url, subject.crm_people(crm, with_leads=True), crm)
    tasks, tasks_left = _erase_crm_tasks(url, made, crm_writer)
    removed: dict[str, int] = {f"{crm}.tasks": tasks} if tasks else {}
    message = "; ".join(m for m in (
        f"confirmed for every customer carrying the identifier ({len(subject.customer_ids)}: --all-matching)"
        if all_matching and len(subject.customer_ids) > 1 else None,
        f"{tasks_left} CRM task(s) Puente made for the person were not deleted (no CRM writer): delete "
        f"them in {crm} (their ids are in ops.activation_audit)" if tasks_left else None) if m) or None
    with psycopg.connect(url) as conn, conn.transaction():
        removed.update(_scrub_raw(conn, subject, erasure_id))
        removed.update(_scrub_task_audit(conn, subject, made))
        sealed = sealed_needles(field_keys, subject.identifiers)
        removed.update(_drop_sealed_keys(conn, subject.identifiers | sealed))
        removed.update(_scrub_tables(conn, subject, sealed))
        removed.update(_scrub_ops_text(conn, subject, erasure_id))
        removed.update(_forget_assigned_contacts(conn, subject))
        conn.execute(
            "update ops.erasures set customers = %s, source_records = %s, crm_contacts_cleared = %s, "
            "crm_tasks_erased = %s, removed = %s, message = %s where erasure_id = %s",
            (len(subject.customer_ids), len(subject.records), cleared, tasks, Jsonb(removed), message, erasure_id))
    # What dbt built from raw (names, streets, task bodies in the intermediate models, the marts,
    # the activation models, the staging increments) is rebuilt from the scrubbed raw records now,
    # not the next night: the erasure is done only then.
    pending = _rebuild(url) if rebuild else "the rebuild of the models from the scrubbed raw records was skipped"
    if pending:
        message = "; ".join(m for m in (message, f"pending: {pending}; the next successful nightly build "
                                        "completes the erasure of the tables built from raw") if m)
    with psycopg.connect(url) as conn:
        conn.execute("update ops.erasures set finished_at = case when %s then now() end, message = %s "
                     "where erasure_id = %s", (not pending, message, erasure_id))
    log.info("erasure %s: %d customers, %d source records, %d CRM contacts cleared, %d CRM tasks deleted, "
             "rows touched: %s", erasure_id, len(subject.customer_ids), len(subject.records), cleared, tasks,
             json.dumps(removed))
    if message:
        log.warning("erasure %s: %s", erasure_id, message)
    return ErasureResult(erasure_id, len(subject.customer_ids), len(subject.records), cleared, removed, tasks,
                         message)


def _already_erased(conn: psycopg.Connection, subject: Subject) -> str | None:
    """Which erasures, and when, scrubbed every record of ``subject`` (their own and those pointing
    at them) when none landed again since (``ops.erased_records``' time not before its raw row's
    ``_loaded_at``, which the scrub moved to the same moment); None when one is new or changed."""
    records = {*subject.records, *subject.linked}
    by_object: dict[tuple[str, str], list[str]] = {}
    for source, obj, record_id in records:
        by_object.setdefault((source, obj), []).append(record_id)
    found: dict[str, Any] = {}  # erasure id -> when it scrubbed them
    erased: set[tuple[str, str, str]] = set()
    for (source, obj), ids in by_object.items():
        rows = conn.execute(sql.SQL(
            f"select r.source_id, e.erasure_id, e.erased_at from {{}} as r, ops.erasure_key as k, ops.erased_records as e "
            f"where r.source_id = any(%s) and {ERASED_RECORD.format(id='r.source_id')} and e.erased_at >= r._loaded_at"
        ).format(sql.Identifier("raw", raw_object(source, obj).table)), (ids, source, obj, f"{source}/{obj}/")).fetchall()
        for record_id, erasure_id, erased_at in rows:
            erased.add((source, obj, record_id))
            found[erasure_id] = min(erased_at, found.get(erasure_id, erased_at))
    if not records or erased != records:
        return None
    pending = {r[0] for r in conn.execute("select erasure_id from ops.erasures where erasure_id = any(%s) "
                                          "and finished_at is null", (sorted(found),))}
    return ", ".join(f"erasure {erasure_id} of {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                     + (" (pending: the next successful night completes it)" if erasure_id in pending else "")
                     for erasure_id, at in sorted(found.items(), key=lambda item: item[1]))


def _clear_crm(url: str, subject: Subject, writer: Any, crm: str) -> int:
    """Empty the ``puente_*`` properties Puente wrote on the person's CRM contacts; forget them."""
    contacts = subject.crm_people(crm)
    if not contacts or writer is None:
        return 0
    from puente.activation.writers import Row
    from puente.sources.hubspot.writer import PUENTE_PROPERTIES

    empty = {spec.name: "" for spec in PUENTE_PROPERTIES}
    writer.prepare("contacts")
    outcomes = writer.write("contacts", "update", [Row(cid, cid, None, empty) for cid in contacts])
    refused = [o for o in outcomes if not o.ok and "not found" not in (o.error or "").lower()
               and "ENTITY_IS_DELETED" not in (o.error or "")]
    if refused:
        raise RuntimeError(f"the CRM refused clearing Puente's fields on {len(refused)} contact(s): "
                           f"{refused[0].error}; nothing was erased in the warehouse yet, run the erasure again")
    with psycopg.connect(url) as conn:
        conn.execute("delete from ops.activation_state where row_key = any(%s) and activation in "
                     "(select distinct activation from ops.activation_audit where target = %s "
                     "and target_object = 'contacts')", (contacts, crm))
    return sum(o.ok for o in outcomes)


def puente_tasks(url: str, contact_ids: list[str], crm: str = "hubspot") -> list[tuple[str, str, str]]:
    """The CRM tasks Puente made for these contacts through the activation engine, as
    (activation, row key, task id): every task the engine created or adopted in HubSpot
    (``ops.activation_audit``) whose row named one of the contacts, as the engine's memory
    (``ops.activation_state``) or the audit's fields hold it."""
    if not contact_ids:
        return []
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            with task_rows as (
                select activation, row_key, target_id, fields_new ->> 'contact_id' as contact_id
                from ops.activation_audit
                where target = %(crm)s and target_object = 'tasks' and status in ('sent', 'adopted')
                    and target_id is not null
            )
            select distinct t.activation, t.row_key, t.target_id
            from task_rows as t
            left join ops.activation_state as s on s.activation = t.activation and s.row_key = t.row_key
            where t.contact_id = any(%(contacts)s) or s.payload ->> 'contact_id' = any(%(contacts)s)
            order by 1, 2, 3
            """, {"contacts": contact_ids, "crm": crm}).fetchall()
    return [(activation, row_key, str(task_id)) for activation, row_key, task_id in rows]


def _erase_crm_tasks(url: str, tasks: list[tuple[str, str, str]], writer: Any) -> tuple[int, int]:
    """Delete the CRM tasks Puente made for the person (``puente_tasks``; their subject and body,
    which name them, are replaced first); forget them. Returns (deleted, left undeleted for want of
    a CRM writer)."""
    if not tasks:
        return 0, 0
    if writer is None:
        return 0, len({task_id for _, _, task_id in tasks})
    task_ids = sorted({task_id for _, _, task_id in tasks})
    outcomes = writer.erase_tasks(task_ids)
    refused = [o for o in outcomes if not o.ok]
    if refused:
        raise RuntimeError(f"the CRM refused deleting {len(refused)} task(s) Puente made for the person: "
                           f"{refused[0].error}; nothing was erased in the warehouse yet, run the erasure again")
    with psycopg.connect(url) as conn:
        for activation, row_key, _ in tasks:
            conn.execute("delete from ops.activation_state where activation = %s and row_key = %s",
                         (activation, row_key))
    return len(task_ids), 0


def _scrub_task_audit(conn: psycopg.Connection, subject: Subject,
                      tasks: list[tuple[str, str, str]]) -> dict[str, int]:
    """The audit of the tasks Puente made for the person keeps that they were made and deleted,
    not what they said: their name is replaced too (a task's subject names the person; the search
    of every table that follows replaces only identifiers)."""
    if not tasks:
        return {}
    pattern = _pattern(subject.identifiers | subject.names)
    touched = 0
    for activation, row_key, _ in tasks:
        rows = conn.execute("select audit_id, fields_old, fields_new, detail from ops.activation_audit "
                            "where activation = %s and row_key = %s", (activation, row_key)).fetchall()
        for audit_id, *documents in rows:
            conn.execute("update ops.activation_audit set fields_old = %s, fields_new = %s, detail = %s "
                         "where audit_id = %s", (*(None if d is None else Jsonb(_scrub(d, pattern))
                                                   for d in documents), audit_id))
            touched += 1
    return {"ops.activation_audit (crm tasks)": touched}


def _scrub_raw(conn: psycopg.Connection, subject: Subject, erasure_id: str) -> dict[str, int]:
    """Raw: the person's own records and the records pointing at them (``find_subject``) lose
    their personal fields; any other record that mentions one of their identifiers has the
    mentions replaced (a payment's payer, a charge's description, a ticket's subject)."""
    pattern = _pattern(subject.identifiers | subject.names)
    mentions = [f"%{n}%" for n in subject.identifiers | subject.names]
    theirs: dict[tuple[str, str], set[str]] = {}
    for source, obj, record_id in (*subject.records, *subject.linked):
        theirs.setdefault((source, obj), set()).add(record_id)
    from puente.warehouse import RAW_OBJECTS

    removed: dict[str, int] = {}
    for raw in RAW_OBJECTS:
        table = sql.Identifier("raw", raw.table)
        obj = registry.source_object(raw.source, raw.object)
        ids = sorted(theirs.get((raw.source, raw.object), ()))
        rows = conn.execute(sql.SQL(
            "select source_id, record from {} where source_id = any(%s) or record::text ilike any(%s)").format(table),
            (ids, mentions)).fetchall()
        rows = [(source_id, record) for source_id, record in rows
                if source_id in ids or _mentions_identifier(record, subject)]
        for source_id, record in rows:
            scrubbed = _scrub(record, pattern, obj if source_id in ids else None)
            conn.execute(sql.SQL("update {} set record = %s, _loaded_at = now() where source_id = %s").format(table),
                         (Jsonb(scrubbed), source_id))
            conn.execute(
                f"insert into ops.erased_records (source, object, record_hash, erased_at, erasure_id) "
                f"select %s, %s, {keyed_hash_sql()}, now(), %s from ops.erasure_key as k "
                f"on conflict (source, object, record_hash) do update set erased_at = excluded.erased_at, "
                f"erasure_id = excluded.erasure_id",
                (raw.source, raw.object, f"{raw.source}/{raw.object}/{source_id}", erasure_id))
        if rows:
            removed[f"raw.{raw.table}"] = len(rows)
    return removed


def _mentions_identifier(record: Any, subject: Subject) -> bool:
    text = json.dumps(record, ensure_ascii=False).lower()
    return any(n.lower() in text for n in subject.identifiers)


def _drop_sealed_keys(conn: psycopg.Connection, needles: Iterable[str]) -> dict[str, int]:
    """The identity keys derived from the person's sealed phones and tax ids (``ops.sealed_keys``)."""
    count = conn.execute("delete from ops.sealed_keys where sealed = any(%s)", (sorted(needles),)).rowcount
    return {"ops.sealed_keys": count} if count else {}


def _scrub_tables(conn: psycopg.Connection, subject: Subject, sealed: Iterable[str] = ()) -> dict[str, int]:
    """Every other table of the warehouse: mentions of the identifiers (and their ``sealed``
    forms, ``puente.field_crypto``) replaced in every text, JSON and array column; the person's
    customer rows without names and places."""
    columns = conn.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type, c.udt_name
        from information_schema.columns as c
        join information_schema.tables as t
            on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
        where c.table_schema not in ('pg_catalog', 'information_schema', 'raw')
          and c.table_schema not like 'pg\\_%%'
          and not (c.table_schema = 'ops' and c.table_name in ('erasures', 'erased_records', 'erasure_key'))
          and (c.data_type in ('text', 'character varying', 'json', 'jsonb') or c.udt_name in ('_text', '_varchar'))
        order by 1, 2, 3
        """).fetchall()
    needles = sorted({*subject.identifiers, *sealed}, key=len, reverse=True)
    regex = "|".join(re.escape(n) for n in needles)
    mentions = [f"%{n}%" for n in needles]
    removed: dict[str, int] = {}
    by_table: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for schema, table, column, data_type, udt in columns:
        by_table.setdefault((schema, table), []).append((column, data_type, udt))
    for (schema, table), cols in by_table.items():
        relation = sql.Identifier(schema, table)
        touched = 0
        for column, data_type, udt in cols:
            col = sql.Identifier(column)
            if data_type in ("json", "jsonb"):
                new = sql.SQL("regexp_replace({}::text, %(regex)s, %(erased)s, 'gi')::" + data_type).format(col)
            elif udt in ("_text", "_varchar"):
                new = sql.SQL("array(select regexp_replace(x, %(regex)s, %(erased)s, 'gi') from unnest({}) as x)"
                              ).format(col)
            else:
                new = sql.SQL("regexp_replace({}, %(regex)s, %(erased)s, 'gi')").format(col)
            touched += conn.execute(
                sql.SQL("update {} set {} = {} where {}::text ilike any(%(mentions)s)").format(relation, col, new, col),
                {"regex": regex, "erased": ERASED, "mentions": mentions}).rowcount
        names = [c for c, _, _ in cols if c in PERSONAL_COLUMNS]
        if "dbt_scd_id" in {c for c, _, _ in cols}:  # a snapshot: no rebuild replaces its history
            touched += _scrub_snapshot(conn, schema, table, subject)
        elif names and "customer_id" in {c for c, _, _ in cols}:
            touched += conn.execute(
                sql.SQL("update {} set {} where customer_id::text = any(%s)").format(
                    relation, sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in names)),
                (subject.customer_ids,)).rowcount
        if touched:
            removed[f"{schema}.{table}"] = touched
    return removed


def _scrub_snapshot(conn: psycopg.Connection, schema: str, table: str, subject: Subject) -> int:
    """A snapshot's versions of the person's customers lose their names, places and identifiers:
    the versions of their customer ids, and those of any customer that held one of their records
    (its ``<record type>_ids`` columns, as dim_customers lists them, or a ``<field>_source`` column
    naming one of their record keys, e.g. ``full_name_source`` = 'woocommerce_guest_order:1307':
    guest-checkout orders have no id column): a customer merged into theirs later, whose closed
    versions keep the name and a former e-mail or phone under another id."""
    columns = {r[0]: r[1] for r in conn.execute(
        "select column_name, udt_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table))}
    personal = [c for c in SNAPSHOT_PERSONAL_COLUMNS if c in columns]
    if not personal or "customer_id" not in columns:
        return 0
    ids: dict[str, list[str]] = {}
    for record_type, record_id in subject.record_keys:
        ids.setdefault(f"{record_type}_ids", []).append(record_id)
    theirs = [sql.SQL("customer_id::text = any(%s)")]
    params: list[Any] = [subject.customer_ids]
    for column, record_ids in sorted(ids.items()):
        if columns.get(column) in ("_text", "_varchar"):
            theirs.append(sql.SQL("{} && %s::text[]").format(sql.Identifier(column)))
            params.append(sorted(record_ids))
    keys = sorted(f"{record_type}:{record_id}" for record_type, record_id in subject.record_keys)
    for column in sorted(c for c, udt in columns.items() if keys and c.endswith("_source") and udt in ("text", "varchar")):
        theirs.append(sql.SQL("{} = any(%s::text[])").format(sql.Identifier(column)))
        params.append(keys)
    return conn.execute(sql.SQL("update {} set {} where ({}) and ({})").format(
        sql.Identifier(schema, table),
        sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in personal),
        sql.SQL(" or ").join(theirs),
        sql.SQL(" or ").join(sql.SQL("{} is not null").format(sql.Identifier(c)) for c in personal)),
        params).rowcount


ERASED_TEXT = "(erased)"


def _scrub_ops_text(conn: psycopg.Connection, subject: Subject, erasure_id: str | None = None) -> dict[str, int]:
    """Free text Puente keeps in ``ops`` about the person's own records, found by their record
    keys and customer ids (never by name: other people share it): the reasons of identity-review
    decisions on their records (kept forever, shown in marts.audit_log), and what the activation
    work list says about their rows (a task's body names them). The identity-review decisions in
    force that name one of their records are revoked (``_revoke_decisions``)."""
    keys = sorted(f"{kind}:{rid}" for kind, rid in subject.record_keys)
    removed: dict[str, int] = {}
    if conn.execute("select to_regclass('ops.customer_match_overrides') is not null").fetchone()[0]:
        columns = {r[0] for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'ops' and table_name = 'customer_match_overrides'")}
        texts = [c for c in ("reason", "revoke_reason") if c in columns]
        if texts and keys:
            count = conn.execute(sql.SQL(
                "update ops.customer_match_overrides set {} where (record_key = any(%(keys)s) "
                "or other_record_key = any(%(keys)s)) and ({})").format(
                sql.SQL(", ").join(sql.SQL("{0} = case when {0} is null then null else %(erased)s end").format(
                    sql.Identifier(c)) for c in texts),
                sql.SQL(" or ").join(sql.SQL("{} is not null").format(sql.Identifier(c)) for c in texts)),
                {"keys": keys, "erased": ERASED_TEXT}).rowcount
            if count:
                removed["ops.customer_match_overrides (reasons)"] = count
        if keys:
            removed.update(_revoke_decisions(conn, keys, erasure_id))
    if subject.customer_ids and conn.execute("select to_regclass('ops.activation_issues') is not null").fetchone()[0]:
        pattern = _pattern(subject.identifiers | subject.names) if subject.identifiers | subject.names else None
        rows = conn.execute("select activation, row_key, reason, target_error, context from ops.activation_issues "
                            "where customer_id = any(%s)", (subject.customer_ids,)).fetchall()
        for activation, row_key, reason, target_error, context in rows:
            conn.execute(
                "update ops.activation_issues set reason = %s, target_error = %s, context = %s "
                "where activation = %s and row_key = %s",
                (_scrub(reason, pattern) if pattern else reason,
                 _scrub(target_error, pattern) if pattern and target_error else target_error,
                 None if context is None else Jsonb(_erase_strings(context)), activation, row_key))
        if rows:
            removed["ops.activation_issues (context)"] = len(rows)
    return removed


def _revoke_decisions(conn: psycopg.Connection, keys: list[str], erasure_id: str | None) -> dict[str, int]:
    """Revoke the identity-review decisions in force (ops.customer_match_overrides, not revoked)
    that name one of the person's record keys: a 'merge' would keep their records linked as one
    customer after the erasure (the link it removes, see the module's docstring), a 'distinct' or
    'split' would keep deciding about records that are no one's any more. Revoked as
    ``puente.identity_review`` revokes (the row stays, ``is_revoked``), by ``erasure <id>``;
    marts.audit_log shows it."""
    count = revoke_where(conn, "record_key = any(%(keys)s) or other_record_key = any(%(keys)s)", {"keys": keys},
                         f"erasure {erasure_id}" if erasure_id else "erasure",
                         "the person of this record was erased (Habeas Data)")
    return {"ops.customer_match_overrides (revoked)": count} if count else {}


def _forget_assigned_contacts(conn: psycopg.Connection, subject: Subject) -> dict[str, int]:
    """The churn-task assignments of the person's customers (intermediate.int_churn_task_assignments:
    kept for the experiment, never rebuilt) forget the CRM contact they were made for: rebuilt from
    them, act_churn_risk_tasks would otherwise task that contact again, as the erasure deleted the
    task Puente made there. The assignment itself (its arm) stays in the experiment."""
    if not subject.customer_ids or not conn.execute(
            "select to_regclass('intermediate.int_churn_task_assignments') is not null").fetchone()[0]:
        return {}
    count = conn.execute("update intermediate.int_churn_task_assignments set hubspot_contact_id = null "
                         "where customer_id = any(%s) and hubspot_contact_id is not null",
                         (subject.customer_ids,)).rowcount
    return {"intermediate.int_churn_task_assignments (crm contact)": count} if count else {}


def _erase_strings(value: Any) -> Any:
    """``value`` (a JSON document about one of the person's rows) with every text replaced: its
    structure and numbers stay."""
    if isinstance(value, dict):
        return {k: _erase_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_erase_strings(v) for v in value]
    if isinstance(value, str):
        return ERASED_TEXT
    return value


def _rebuild(url: str) -> str | None:
    """Rebuild the dbt models from the scrubbed raw records: the nightly main build's seeds and
    models (no tests or snapshots: a failing data test is not the erasure's to judge), then
    the activation models the warehouse holds, the intermediate ones tagged with them included
    (they read the night's ML scores, which exist only once a night ran; left as they were, the
    service reminders would still aim at the person's customer and CRM contact of before). The
    scrubbed raw records' ``_loaded_at`` was moved, so the incremental models (the staging
    ``base_*``, ``fct_orders``…) re-read and merge them by key like any changed record.
    The day the models measure from is the last successful night's (``ops.dag_runs``), so the
    rebuilt tables match what the night built. None when done, else what is pending."""
    from puente.dbt import DbtFailed, run_dbt, side_target

    with psycopg.connect(url) as conn:
        day = conn.execute(
            "select max(logical_date) from ops.dag_runs where dag_id = 'puente_nightly' and outcome = 'success'"
        ).fetchone()[0] if conn.execute("select to_regclass('ops.dag_runs') is not null").fetchone()[0] else None
        # the activation models, and the intermediate ones built with them (int_service_reminders_due:
        # the service tasks' customers and CRM contacts), that the warehouse holds
        activations = [r[0] for r in conn.execute(
            "select distinct table_name from information_schema.tables where table_schema = 'activations' "
            "or table_schema = 'intermediate' and exists (select from information_schema.tables "
            "where table_schema = 'activations') order by 1")]
        # the keys int_customer_record_keys derived stay cached while a record's inputs do not change:
        # the scrub above may have changed a cached key in place (a mention replaced), which only a
        # derivation from the raw records sets right; and int_customer_pair_inputs keeps the values
        # the pairs were last scored from (with it empty, every pair is scored again)
        for cached in ("int_customer_record_keys", "int_customer_pair_inputs"):
            if conn.execute("select to_regclass(%s) is not null", (f"intermediate.{cached}",)).fetchone()[0]:
                conn.execute(f"truncate intermediate.{cached}")
    env = {"PUENTE_AS_OF_DATE": day.isoformat()} if day else None
    target = ["--target-path", str(side_target("erasure"))]
    try:
        models = ["--resource-type", "seed", "--resource-type", "model"]  # seeds: the models' settings tables
        run_dbt(["build", *models, "--exclude", "tag:activation", *target], url, env=env)
        if activations:
            run_dbt(["build", *models, "--select", *(f"tag:activation,{name}" for name in activations), *target],
                    url, env=env)
    except Exception as exc:  # noqa: BLE001 - a failed rebuild leaves the erasure pending, not undone
        log.warning("erasure: rebuilding the models from the scrubbed raw records failed: %s", exc)
        # the tombstone names the failed nodes only: dbt's messages may quote a row's values
        failed = ", ".join(f.split(" ")[0] for f in exc.failures[:5]) if isinstance(exc, DbtFailed) \
            else type(exc).__name__
        return f"the models were not rebuilt from the scrubbed raw records (failed: {failed})"
    return None


def erased_by(conn: psycopg.Connection, value: str) -> list[str]:
    """The erasures whose tombstone holds this identifier (an e-mail in any case, a phone or tax id
    as typed or as its digits), by its keyed hash: whether a person was erased, without keeping who."""
    candidates = {value.strip().lower()}
    digits = _digits(value)
    if "@" not in value and len(digits) >= 8:
        candidates |= {digits, digits[-10:]}
    return [r[0] for r in conn.execute(
        f"select e.erasure_id from ops.erasures as e, ops.erasure_key as k, unnest(%s::text[]) as i(v) "
        f"where {keyed_hash_sql('i.v')} = any(e.identifier_hashes) group by e.erasure_id "
        f"order by min(e.requested_at)", (sorted(candidates),))]


def crm_system() -> str | None:
    """The CRM the business runs (HubSpot or Salesforce), where Puente wrote fields and tasks the
    erasure clears; None when it runs none."""
    from puente.sources import registry

    return registry.system_of_kind("crm")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "erase", help="erase a data subject (Habeas Data): their personal data out of the whole warehouse",
        description="Erase a person from the warehouse (see puente/erasure.py): name them by exactly one "
                    "identifier. Puente's fields on their CRM contacts are cleared (the CRM's PUENTE_* settings), "
                    "their personal data is removed from raw and from every table built from it, and a "
                    "tombstone (ops.erasures) keeps who asked, when and what was removed, without the data.")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--phone")
    who.add_argument("--tax-id")
    who.add_argument("--customer-id")
    parser.add_argument("--requested-by", required=True, help="who asked (kept in the tombstone)")
    parser.add_argument("--reason", help="the request's reference, kept in the tombstone")
    parser.add_argument("--no-crm", action="store_true", help="do not clear the CRM fields (no CRM reachable)")
    parser.add_argument("--all-matching", action="store_true",
                        help="erase every customer carrying the e-mail, phone or tax id given: without it, one "
                             "several customers carry (an office landline, a family's e-mail) is refused, with "
                             "their customer ids to check")


def main(args: Any) -> int:
    from puente.config import MissingSetting
    from puente.sources import registry
    from puente.warehouse import warehouse_url

    writer = None
    crm = crm_system()
    if not args.no_crm and crm:
        try:
            config = registry.source(crm).config.from_env()
        except MissingSetting as exc:
            raise MissingSetting(f"{exc} The erasure clears the person's fields in the CRM ({crm}) too: set it, or give "
                                 "--no-crm to erase without clearing the CRM's fields.") from None
        writer = registry.build_writer(crm, config)
    try:
        result = erase(warehouse_url(), requested_by=args.requested_by, reason=args.reason, email=args.email,
                       phone=args.phone, tax_id=args.tax_id, customer_id=args.customer_id, crm_writer=writer,
                       field_keys=FieldKeys.from_env(), all_matching=getattr(args, "all_matching", False))
    except (SubjectNotFound, ValueError) as exc:
        print(f"Nothing erased: {exc}", file=sys.stderr)
        return 1
    print(f"Erasure {result.erasure_id}: {result.customers} customer(s), {result.source_records} source record(s), "
          f"{result.crm_contacts_cleared} CRM contact(s) cleared, {result.crm_tasks_erased} CRM task(s) deleted; "
          "rows touched per table:")
    for table, rows in sorted(result.removed.items()):
        print(f"   {table}: {rows}")
    if result.message:
        print(f"Not finished: {result.message}", file=sys.stderr)
    return 0
