"""A night scores again only the pairs its changes can reach (int_customer_pairs_scored, reading
int_customer_pair_inputs), and ends with the very table a build from scratch makes.

A simulated business of 600 customers over three nights, landed by COPY as the identity bench
lands it. Night 2 adds to the simulated day a partner who leaves a family's mailbox for another
partner's, with its phones, door and city (the relatives it leaves behind are a family no more:
their pairs change though their records did not), a namesake of one of the only two records of
their city with their name (their pair is no rare name's any more), a CRM contact deleted at
the source, a service ticket that cited an order deleted too, and a new one citing an ERP order
(a pair that only the ticket makes: no record of either changed). Night 3 finds the record of the inputs stale (a night stopped between the two models)
and scores every pair. After each night the pairs and the records' inputs are compared, row for
row, with a full refresh of the two models.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from puente.dbt import run_dbt
from puente.simulators import Business
from puente.simulators.landing import changed_since, land

CHAIN = ["build", "--resource-type", "seed", "--resource-type", "model", "--select", "+int_customer_pair_inputs",
         "--exclude", "tag:activation",
         "--vars", '{"incremental_lookback_hours": 0}']
PAIR_MODELS = ["int_customer_pairs_scored", "int_customer_pair_inputs"]
# every column but the build that wrote it
COLUMNS = """pair_id, record_key, other_record_key, email_level, phone_level, tax_id_level, name_level,
    city_level, address_level, web_order_level, name_rarity_level, match_weight, match_probability, decision,
    conflict, strongest_comparison, matched_on, explanation, web_order, scoring_hash"""
INPUT_COLUMNS = "record_key, input_hash, pairing_keys, holder"


def rows(url: str, sql: str, *params, **named) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, named or params).fetchall()


def night(url: str) -> str:
    """The chain built as a night builds it; the pairs model's compiled SQL."""
    result = run_dbt(CHAIN, url)
    (pairs,) = [r.node for r in result.result.results if r.node.name == "int_customer_pairs_scored"]
    return pairs.compiled_code


def differences_from_a_full_build(url: str) -> dict[str, int]:
    """The pairs, and the records' inputs, the night's tables and a full refresh disagree on, each
    way; and the pairs."""
    with psycopg.connect(url) as conn:
        conn.execute("drop table if exists public.night_pairs, public.night_inputs")
        conn.execute(f"create table public.night_pairs as select {COLUMNS} from intermediate.int_customer_pairs_scored")
        conn.execute(f"create table public.night_inputs as select {INPUT_COLUMNS} from intermediate.int_customer_pair_inputs")
    run_dbt(["run", "--select", *PAIR_MODELS, "--full-refresh"], url)
    (counts,) = rows(url, f"""
        select
            (select count(*) from (select * from public.night_pairs
                                   except all select {COLUMNS} from intermediate.int_customer_pairs_scored) as n) as night_only,
            (select count(*) from (select {COLUMNS} from intermediate.int_customer_pairs_scored
                                   except all select * from public.night_pairs) as f) as full_only,
            (select count(*) from (select * from public.night_inputs
                                   except all select {INPUT_COLUMNS} from intermediate.int_customer_pair_inputs) as n)
                as night_only_inputs,
            (select count(*) from (select {INPUT_COLUMNS} from intermediate.int_customer_pair_inputs
                                   except all select * from public.night_inputs) as f) as full_only_inputs,
            (select count(*) from public.night_pairs) as pairs""")
    return counts


def _relative_who_makes_the_family(url: str) -> dict:
    """An ERP partner in a family's mailbox of three records or more whose every conflicting pair
    (names or tax ids that say two people) is one of the partner's: when the partner leaves the
    mailbox, the others' pairs in it are no family's any more, though none of them changed."""
    mailboxes: dict[str, list[dict]] = {}
    for pair in rows(url, """
            select pairs.record_key, pairs.other_record_key, records.email_canonical as email,
                   pairs.name_level in ('different_given_name', 'different_surname', 'different')
                   or pairs.tax_id_level = 'different' as conflicts
            from intermediate.int_customer_pairs_scored as pairs
            inner join intermediate.int_customer_records_unioned as records on pairs.record_key = records.record_key
            where pairs.email_level in ('family', 'family_ambiguous')"""):
        mailboxes.setdefault(pair["email"], []).append(pair)
    for email, pairs in sorted(mailboxes.items()):
        holders = {key for pair in pairs for key in (pair["record_key"], pair["other_record_key"])}
        conflicts = [{pair["record_key"], pair["other_record_key"]} for pair in pairs if pair["conflicts"]]
        for key in sorted(holders):
            if key.startswith("odoo_partner:") and len(holders) >= 3 and all(key in c for c in conflicts):
                return {"record_key": key, "email": email}
    raise AssertionError("the business has no family mailbox of one relative's making")


@pytest.fixture(scope="module")
def nights(module_db):
    business = Business(seed=11, customers=600, history_days=300)
    land(module_db, business, "night-1")
    seen = {1: {"sql": night(module_db)}}

    since = business.now()
    business.advance_day()
    land(module_db, business, "night-2", changed_since(business, since))
    taker = _relative_who_makes_the_family(module_db)
    with psycopg.connect(module_db, row_factory=dict_row) as conn:
        # ...moves in with another partner: its mailbox, phones, door and city
        (owner,) = conn.execute("""
            select source_id from raw.odoo_res_partner
            where record ->> 'email' is not null and record ->> 'email' <> 'false' and record ->> 'email' <> %s
            order by source_id limit 1""", (taker["email"],)).fetchall()
        conn.execute("""
            update raw.odoo_res_partner as taker
            set record = taker.record || jsonb_build_object('email', owner.record -> 'email', 'phone', owner.record -> 'phone',
                    'mobile', owner.record -> 'mobile', 'street', owner.record -> 'street', 'city', owner.record -> 'city'),
                _batch_id = 'night-2-by-hand', _loaded_at = now()
            from raw.odoo_res_partner as owner
            where owner.source_id = %s and taker.source_id = %s""",
                     (owner["source_id"], taker["record_key"].split(":")[1]))
        # a namesake of one of the only two records of their city with their name: no longer a rare name
        # (a pair that shares a mailbox, a phone or a door too, so that it stays a candidate pair)
        (rare,) = conn.execute("""
            select record_key, other_record_key from intermediate.int_customer_pairs_scored
            where name_rarity_level = 'only_pair_in_city' and record_key like 'odoo_partner:%%'
                and (email_level in ('exact', 'variant') or phone_level in ('exact', 'exact_landline')
                     or address_level = 'exact')
            order by record_key desc limit 1""").fetchall()
        # (named by the given name and the words the two share alone: it holds their keys and no other)
        (one, other) = conn.execute("""
            select name_words from intermediate.int_customer_records_unioned where record_key in (%s, %s)""",
                                    (rare["record_key"], rare["other_record_key"])).fetchall()
        shared = [word for word in one["name_words"][1:] if word in other["name_words"][1:]]
        conn.execute("""
            insert into raw.odoo_res_partner (source_id, record, source_updated_at, _batch_id, _deleted)
            select '990001', record || jsonb_build_object('id', 990001, 'name', %s::text, 'email', false, 'phone', false,
                                                          'mobile', false, 'vat', false, 'street', false),
                   source_updated_at, 'night-2-by-hand', false
            from raw.odoo_res_partner where source_id = %s""",
                     (" ".join(one["name_words"][:1] + shared).title(), rare["record_key"].split(":")[1]))
        # a CRM contact in a pair, deleted at the source
        (gone,) = conn.execute("""
            select record_key from intermediate.int_customer_pairs_scored
            where record_key like 'hubspot_contact:%%' order by record_key limit 1""").fetchall()
        conn.execute("update raw.hubspot_contacts set _deleted = true, _loaded_at = now() where source_id = %s",
                     (gone["record_key"].split(":")[1],))
        # a ticket that cited an order, deleted at the source (its two records lose that link)...
        (untied,) = conn.execute("""
            select ticket_id, ticket_record_key, order_record_key from intermediate.int_customer_ticket_orders
            where ticket_record_key <> %s order by ticket_id limit 1""", (gone["record_key"],)).fetchall()
        conn.execute("update raw.hubspot_tickets set _deleted = true, _loaded_at = now() where source_id = %s",
                     (untied["ticket_id"],))
        # ...and a new one on a contact, about an ERP order of a partner it was not paired with
        (tied,) = conn.execute("""
            select contacts.record_key as ticket_record_key, 'odoo_partner:' || orders.partner_id as order_record_key,
                   orders.sale_order_name, orders.ordered_at
            from intermediate.int_customer_records_unioned as contacts
            cross join lateral (select partner_id, sale_order_name, ordered_at from staging.stg_odoo__sale_orders
                                where not is_deleted order by sale_order_id desc limit 1) as orders
            where contacts.record_key like 'hubspot_contact:%%' and contacts.record_key <> %s
                and not exists (select 1 from intermediate.int_customer_pairs_scored as pairs
                                where contacts.record_key in (pairs.record_key, pairs.other_record_key)
                                    and 'odoo_partner:' || orders.partner_id in (pairs.record_key, pairs.other_record_key))
            order by contacts.record_key limit 1""", (gone["record_key"],)).fetchall()
        opened = (tied["ordered_at"] + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        conn.execute("""
            insert into raw.hubspot_tickets (source_id, record, source_updated_at, _batch_id, _deleted)
            values ('990002', %s, %s, 'night-2-by-hand', false)""", (Jsonb({
                "id": "990002", "createdAt": opened, "updatedAt": opened, "archived": False,
                "properties": {"subject": f"Pedido {tied['sale_order_name']} retrasado", "hs_pipeline": "0",
                               "hs_pipeline_stage": "1", "createdate": opened, "hs_lastmodifieddate": opened},
                "associations": {"contacts": {"results": [{"id": tied["ticket_record_key"].split(":")[1]}]}}}),
                opened))
    seen[2] = {"sql": night(module_db), "taker": taker["record_key"], "family": taker["email"], "rare": rare,
               "gone": gone["record_key"], "untied": untied, "tied": tied,
               "differences": differences_from_a_full_build(module_db)}

    since = business.now()
    business.advance_day()
    land(module_db, business, "night-3", changed_since(business, since))
    with psycopg.connect(module_db) as conn:
        conn.execute("comment on table intermediate.int_customer_pair_inputs is 'scoring_run=a night stopped before it'")
    seen[3] = {"sql": night(module_db), "differences": differences_from_a_full_build(module_db)}
    return seen


def test_the_first_night_scores_every_pair(nights):
    assert "rescored_records" not in nights[1]["sql"]


def test_a_night_scores_again_only_what_its_changes_reach_and_ends_as_a_full_build(nights, module_db):
    assert "rescored_records" in nights[2]["sql"]
    differences = nights[2]["differences"]
    assert differences["pairs"] > 500, differences
    assert {k: v for k, v in differences.items() if k != "pairs"} == {
        "night_only": 0, "full_only": 0, "night_only_inputs": 0, "full_only_inputs": 0}, differences


def test_the_changes_of_the_night_are_in_its_pairs(nights, module_db):
    """The partner who moved is paired in its new mailbox, and the family's mailbox it left is no
    family's any more; the rare name is not; the deleted contact is no record any more, and in no
    pair; the deleted ticket cites no order, and the new one pairs its contact with the partner
    whose order it cites."""
    taker, gone = nights[2]["taker"], nights[2]["gone"]
    assert rows(module_db, "select name_rarity_level from intermediate.int_customer_pairs_scored "
                           "where record_key = %(record_key)s and other_record_key = %(other_record_key)s",
                **nights[2]["rare"]) == [{"name_rarity_level": "none"}]
    assert not rows(module_db, """
        select 1 from intermediate.int_customer_pairs_scored as pairs
        inner join intermediate.int_customer_records_unioned as records on pairs.record_key = records.record_key
        where records.email_canonical = %s and pairs.email_level like 'family%%'""", nights[2]["family"])
    assert not rows(module_db, "select 1 from intermediate.int_customer_records_unioned where record_key = %s", gone)
    shared = rows(module_db, """
        select email_level from intermediate.int_customer_pairs_scored
        where %s in (record_key, other_record_key) and email_level not in ('different', 'missing')""", taker)
    assert shared, taker
    assert not rows(module_db, "select 1 from intermediate.int_customer_pairs_scored "
                               "where %s in (record_key, other_record_key)", gone)
    # the deleted ticket cites nothing any more; the new one pairs its contact with the order's partner
    untied, tied = nights[2]["untied"], nights[2]["tied"]
    assert not rows(module_db, "select 1 from intermediate.int_customer_ticket_orders where ticket_id = %s",
                    untied["ticket_id"])
    assert rows(module_db, """
        select web_order from intermediate.int_customer_pairs_scored
        where record_key = least(%(ticket_record_key)s, %(order_record_key)s)
            and other_record_key = greatest(%(ticket_record_key)s, %(order_record_key)s)""", **tied) == [
        {"web_order": f"ticket about {tied['sale_order_name']}"}]


def test_a_stale_record_of_the_inputs_scores_every_pair_again(nights):
    assert "rescored_records" not in nights[3]["sql"]
    differences = nights[3]["differences"]
    assert {k: v for k, v in differences.items() if k != "pairs"} == {
        "night_only": 0, "full_only": 0, "night_only_inputs": 0, "full_only_inputs": 0}, differences
