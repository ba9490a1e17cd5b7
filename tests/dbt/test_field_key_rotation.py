"""A field key rotation (puente.field_crypto: `puente field-key reseal` under a new first key, then a
night with `rebuild_marts`, dbt --full-refresh) gives every sealed phone and tax id a new sealed
form, in raw and in every model built from it, the activation models' payloads included. The
activation engine must send nothing again for it: no second ERP sale order or partner, no CRM
write, since nothing changed in clear. What each activation compares (its `compare` column, hashed
into ops.activation_state.compare_hash) is a key of the record (an order's name, a deal, a task)
or figures a salesperson reads, never a sealed value; this test holds the whole chain to it with
the real loader, the real dbt models, the real reseal and the real engine (recording writers for
the targets). A change in clear after the rotation (a new web order of a customer the ERP does
not know, with a sealed phone) is still sent, once, opened under the new key.

The people are the scenario's and those of every channel of the erasure test (test_erasure:
EVERY_CHANNEL), landed through the loader with a field key, as a night lands them."""

from __future__ import annotations

import copy
import re
from collections import Counter

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from test_erasure import AS_OF, DAY, EVERY_CHANNEL, RecordingWriter, _cursor

from puente.activation.engine import pending_rows, run_activation
from puente.activation.spec import load_activations
from puente.dbt import ACTIVATION_BUILD_ARGS, MAIN_BUILD_ARGS, run_dbt
from puente.field_crypto import FieldKeys, holds_sealed, new_key, reseal_quarantine
from puente.load import load_page
from puente.sealed_keys import reseal_raw
from puente.sources.base import Record
from puente.warehouse import raw_object

OLD = new_key()
NEW = new_key()
BEFORE = FieldKeys.parse(OLD)
AFTER = FieldKeys.parse(f"{NEW},{OLD}")  # the rotation: the new key first, the old one kept after it
SEALED_FORM = re.compile(r"enc:v1:([0-9a-f]{8}):")


def land(url: str, sources: dict, keys: FieldKeys, batch: str) -> None:
    with psycopg.connect(url) as conn:
        for source, objects in sources.items():
            for obj, records in objects.items():
                page = [Record(r, str(r["id"] if "id" in r else r["Id"]), _cursor(source, obj, r)) for r in records]
                load_page(conn, raw_object(source, obj), page, batch, field_keys=keys)
        conn.commit()


def query(url: str, text, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(text, params).fetchall()


# a new customer's order may reach the ERP without a cédula/NIT (a WooCommerce checkout asks for none)
VARS = ("--vars", "{erp_requires_tax_id: false}")


def night(url: str, *extra: str) -> None:
    run_dbt([*MAIN_BUILD_ARGS, *VARS, *extra], url, env=AS_OF)
    run_dbt([*ACTIVATION_BUILD_ARGS, *VARS, *extra], url, env=AS_OF)


def send_all(url: str, keys: FieldKeys) -> tuple[dict[str, RecordingWriter], dict[str, int]]:
    """Every declared activation run once, each target through its recording writer; the rows
    each activation sent."""
    writers: dict[str, RecordingWriter] = {}
    sent = {}
    for activation in load_activations():
        writer = writers.setdefault(activation.target, RecordingWriter(activation.target))
        sent[activation.name] = run_activation(url, activation, writer, logical_date=DAY, field_keys=keys).sent
    return writers, sent


def pending(url: str) -> dict[str, set[str]]:
    return {a.name: {r["row_key"] for r in pending_rows(url, a)} for a in load_activations()}


def key_ids(url: str, text) -> Counter:
    """The key ids of the sealed forms in the rows of ``text``."""
    return Counter(kid for r in query(url, text) for kid in SEALED_FORM.findall(str(r)))


def sealed_keys_of(url: str) -> Counter:
    found: Counter = Counter()
    for r in query(url, "select table_name from information_schema.tables where table_schema = 'activations'"):
        found += key_ids(url, sql.SQL("select payload, context from activations.{}").format(
            sql.Identifier(r["table_name"])))
    return found


# A web order of a customer neither the ERP nor any other system knows, with a phone the loader
# seals (a WooCommerce checkout asks for no cédula): the ERP gets a new partner for it
NEW_BUYER = {"email": "valentina.rios@example.com", "first_name": "Valentina", "last_name": "Ríos",
             "phone": "311 765 4321", "company": "", "address_1": "Cl 10 # 5-51", "city": "Medellín", "country": "CO"}


def sources() -> dict:
    """EVERY_CHANNEL, with what lets each activation send: every CRM contact authorises processing
    and marketing and has an owner, and the ERP sells the products the shops sold."""
    every = copy.deepcopy(EVERY_CHANNEL)
    for contact in every["hubspot"]["contacts"]:
        contact["properties"].update({"hs_legal_basis": "Freely given consent from contact",
                                      "hs_marketable_status": "true", "hubspot_owner_id": "77"})
    every["odoo"]["product.product"] = [*every["odoo"].get("product.product", []), *(
        {"id": 12 + n, "name": name, "default_code": sku, "list_price": price, "standard_price": price / 2,
         "qty_available": 20.0, "active": True, "create_date": "2026-01-01 00:00:00",
         "write_date": "2026-11-01 00:00:00"}
        for n, (sku, name, price) in enumerate((("COC-0009", "Tabla de picar en bambú mediana", 31400.0),
                                                ("COC-0010", "Tabla de picar en bambú grande", 54500.0),
                                                ("ENVIO", "Envío", 12000.0))))]
    return every


def new_order() -> dict:
    woo = copy.deepcopy(EVERY_CHANNEL["woocommerce"]["orders"][0])
    woo["line_items"] = [{**line, "id": 10900 + n} for n, line in enumerate(woo["line_items"])]
    woo.update({"id": 1090, "number": "1090", "customer_id": 0, "billing": {**woo["billing"], **NEW_BUYER},
                "shipping": {**woo.get("shipping", {}), "first_name": "Valentina", "last_name": "Ríos"},
                "date_created_gmt": "2026-11-20T15:00:00", "date_modified_gmt": "2026-11-20T15:30:00"})
    return woo


@pytest.fixture(scope="module")
def rotated(module_db):
    """A night sealed under the old key and its activations sent; then the rotation (reseal under
    the new key, a night with --full-refresh) and the activations run again."""
    url = module_db
    land(url, sources(), BEFORE, "rotation-night-1")
    with psycopg.connect(url) as conn:
        conn.execute("insert into ops.dag_runs (dag_id, run_id, run_type, triggered_by, logical_date, started_at, "
                     "finished_at, outcome) values ('puente_nightly', 'scheduled__2026-11-21', 'scheduled', "
                     "'scheduler', %s, '2026-11-22 03:00+00', '2026-11-22 04:00+00', 'success')", (DAY,))
    run_dbt([*MAIN_BUILD_ARGS, *VARS], url, env=AS_OF)
    with psycopg.connect(url) as conn:  # the night's churn scores: every customer, so the CRM activations have rows
        conn.execute("insert into ml.model_runs (model_run_id, model_name, as_of_date, features, metrics, baselines, "
                     "artifact_path, library_versions) values ('run-1', 'churn', %s, '[]', '{}', '{}', "
                     "'artifacts/churn/run-1', '{}')", (DAY,))
        conn.execute("insert into ml.churn_scores (customer_id, scored_for_date, churn_probability, risk_band, "
                     "model_run_id, scored_at, reasons) select customer_id, %s, 0.81, 'high', 'run-1', "
                     "'2026-11-22 03:00+00', 'no order in 40 days' from marts.dim_customers", (DAY,))
    run_dbt([*ACTIVATION_BUILD_ARGS, *VARS], url, env=AS_OF)
    first_models = sealed_keys_of(url)
    first_writers, first_sent = send_all(url, BEFORE)
    first_pending = pending(url)
    state = query(url, "select activation, row_key, target_id, compare_hash, payload from ops.activation_state "
                       "order by 1, 2")

    count = reseal_quarantine(url, AFTER) + reseal_raw(url, AFTER)
    night(url, "--full-refresh")
    rotated_models = sealed_keys_of(url)
    writers, sent = send_all(url, AFTER)
    yield {"url": url, "first_sent": first_sent, "first_writers": first_writers, "first_pending": first_pending,
           "first_models": first_models, "state": state, "resealed": count, "rotated_models": rotated_models,
           "writers": writers, "sent": sent}


def test_the_first_night_sends_sealed_values_opened(rotated):
    """The ground the rotation stands on: the first night sent rows of every kind, ERP sale orders
    with new partners among them, whose tax ids and phones the warehouse holds sealed and the
    writer got in clear."""
    sent = rotated["first_sent"]
    assert sent["web_orders_to_erp"] > 0 and sent["crm_contact_scores"] > 0, sent
    assert sum(sent.values()) == len(rotated["state"]) > 0
    assert rotated["first_models"] and set(rotated["first_models"]) == {BEFORE.ids[0]}
    erp = rotated["first_writers"]["odoo"].written
    partners = [row.payload["partner"]["new"] for _, _, row in erp if "new" in row.payload.get("partner", {})]
    assert any(p.get("vat") for p in partners) and any(p.get("phone") for p in partners), partners
    assert not holds_sealed([row.payload for _, _, row in erp])
    assert holds_sealed([r["payload"] for r in rotated["state"]])  # the engine's books keep them sealed


def test_the_rotation_gives_the_activation_models_new_sealed_forms(rotated):
    """The rotation did reach the activation models: their payloads hold the new key's forms
    only, so a diff on them would see every such row changed."""
    assert rotated["resealed"] > 0
    assert set(rotated["rotated_models"]) == {AFTER.ids[0]} != set(rotated["first_models"])


def test_a_rotation_sends_nothing_again(rotated):
    """No activation sends a row again: no second ERP sale order or partner, no CRM write. The
    rows still pending are the ones pending before (never accepted: held on the work list)."""
    assert rotated["sent"] == dict.fromkeys(rotated["sent"], 0), rotated["sent"]
    assert [(t, obj, row.row_key) for t, w in rotated["writers"].items() for obj, _, row in w.written] == []
    assert pending(rotated["url"]) == rotated["first_pending"]
    state = query(rotated["url"], "select activation, row_key, target_id, compare_hash, payload "
                                  "from ops.activation_state order by 1, 2")
    assert state == rotated["state"]  # the books untouched: the old forms, opened by the old key kept after the new


def test_no_activation_compares_a_sealed_value(rotated):
    """Why the rotation sends nothing: what each activation model's rows are compared on (`compare`,
    else the payload: the engine's md5(coalesce(compare, payload))) holds no sealed value, though
    the payloads of the ERP activations do (a new partner's tax id and phone). A model that compared
    a sealed value would send every such row again at each rotation: this fails first."""
    url = rotated["url"]
    for activation in load_activations():
        compared = query(url, sql.SQL("select row_key from {} where coalesce(compare, payload)::text like "
                                      "'%%enc:v1:%%'").format(sql.SQL(activation.relation)))
        assert compared == [], (activation.name, compared)
    assert rotated["rotated_models"][AFTER.ids[0]] > 0


def test_a_change_in_clear_after_the_rotation_is_sent_once_under_the_new_key(rotated):
    """A new web order of a new customer (a sealed phone, under the new key now) is posted to the ERP,
    with a new partner whose phone reaches the ERP in clear; the next run sends nothing."""
    url = rotated["url"]
    order = new_order()
    land(url, {"woocommerce": {"orders": [order]}}, AFTER, "rotation-night-2")
    night(url)
    writers, sent = send_all(url, AFTER)
    assert sum(sent.values()) == sent["web_orders_to_erp"] == 1, sent
    ((obj, mode, row),) = writers["odoo"].written
    assert row.row_key == "woocommerce_order:1090" and mode == "create"
    partner = row.payload["partner"]["new"]
    assert partner["email"] == "valentina.rios@example.com" and partner["phone"] == "+573117654321", partner
    assert not holds_sealed(row.payload)
    (state,) = query(url, "select payload from ops.activation_state where row_key = 'woocommerce_order:1090'")
    assert SEALED_FORM.findall(str(state["payload"])) and set(SEALED_FORM.findall(str(state["payload"]))) == {
        AFTER.ids[0]}
    _, again = send_all(url, AFTER)
    assert sum(again.values()) == 0, again
