"""load_page on a real PostgreSQL: counts, quarantine, dedupe within a page, the deleted flag."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from puente import cli, sealed_keys
from puente.config import ShopifyConfig
from puente.field_crypto import FieldKeyError, FieldKeys, is_sealed, new_key
from puente.load import load_page
from puente.sources.base import Record
from puente.sources.shopify import ShopifyConnector
from puente.warehouse import raw_object

PARTNERS = raw_object("odoo", "res.partner")
SHOP_CUSTOMERS = raw_object("shopify", "customers")


def _partner(pid: int, name: str, write_date: str = "2026-11-16 10:00:00", active: bool = True) -> Record:
    payload = {"id": pid, "name": name, "active": active, "write_date": write_date}
    return Record(payload, str(pid), write_date, deleted=not active)


@pytest.fixture
def conn(fresh_db):
    with psycopg.connect(fresh_db) as conn:
        yield conn


def _load(conn, records, batch="b1"):
    with conn.transaction():
        return load_page(conn, PARTNERS, records, batch)


def test_insert_then_unchanged_then_update(conn):
    first = _load(conn, [_partner(1, "Juan"), _partner(2, "Ana")])
    assert (first.received, first.inserted, first.updated, first.unchanged) == (2, 2, 0, 0)

    again = _load(conn, [_partner(1, "Juan"), _partner(2, "Ana")], batch="b2")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)

    changed = _load(conn, [_partner(1, "Juan Pérez", "2026-11-17 08:00:00"), _partner(2, "Ana"),
                           _partner(3, "Luis")], batch="b3")
    assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, 1)

    rows = dict(conn.execute("select source_id, _batch_id from raw.odoo_res_partner").fetchall())
    assert rows == {"1": "b3", "2": "b1", "3": "b3"}  # an unchanged row keeps the batch that landed it
    record, updated_at = conn.execute(
        "select record, source_updated_at from raw.odoo_res_partner where source_id = '1'").fetchone()
    assert record["name"] == "Juan Pérez"
    assert updated_at.isoformat() == "2026-11-17T08:00:00+00:00"


def test_malformed_records_are_quarantined_and_the_rest_loads(conn):
    records = [
        _partner(1, "Juan"),
        Record(["not", "an", "object"], None, None),
        Record({"name": "no id", "write_date": "2026-11-16 10:00:00"}, None, "2026-11-16 10:00:00"),
        Record({"id": 4, "write_date": False}, "4", None),
        Record({"id": 5, "write_date": "yesterday"}, "5", "yesterday"),
        Record({"id": 6, "name": "nul\x00byte", "write_date": "2026-11-16 10:00:00"}, "6", "2026-11-16 10:00:00"),
        Record({"id": 7, "score": float("nan"), "write_date": "2026-11-16 10:00:00"}, "7", "2026-11-16 10:00:00"),
        _partner(8, "Ana"),
    ]
    counts = _load(conn, records)
    assert (counts.received, counts.inserted, counts.quarantined) == (8, 2, 6)
    assert [r[0] for r in conn.execute("select source_id from raw.odoo_res_partner order by 1")] == ["1", "8"]
    quarantined = conn.execute(
        "select source, object, source_id, payload, reason, batch_id from ops.quarantine order by quarantine_id"
    ).fetchall()
    assert [q[2] for q in quarantined] == [None, None, "4", "5", "6", "7"]
    assert all(q[0] == "odoo" and q[1] == "res.partner" and q[5] == "b1" for q in quarantined)
    reasons = [q[4] for q in quarantined]
    assert reasons[0] == "not a JSON object but list"
    assert reasons[1] == "no id"
    assert "is not a timestamp" in reasons[2] and "is not a timestamp" in reasons[3]
    assert "NUL" in reasons[4]
    assert "not representable as JSON" in reasons[5]
    assert json.loads(quarantined[4][3])["name"] == "nul\x00byte"  # the payload is kept as it came


def test_with_a_field_key_a_quarantined_record_keeps_its_phones_and_tax_id_sealed(conn):
    """Sealed as its source declares them (PersonalData.sensitive: Odoo's phone, mobile, vat);
    the rest as it came, and without a key everything as it came."""
    keys = FieldKeys.parse(new_key())
    partner = {"id": 9, "name": "Juan Pérez", "email": "juan@example.com", "phone": "300 123 4567",
               "mobile": "+57 310 555 0101", "vat": "900.123.456-8", "write_date": "yesterday"}
    with conn.transaction():
        load_page(conn, PARTNERS, [Record(partner, "9", "yesterday")], "sealed", field_keys=keys)
        load_page(conn, PARTNERS, [Record(partner, "9", "yesterday")], "clear")
    sealed, clear = (json.loads(conn.execute("select payload from ops.quarantine where batch_id = %s",
                                             (batch,)).fetchone()[0]) for batch in ("sealed", "clear"))
    assert clear == partner
    assert {k: v for k, v in sealed.items() if k not in ("phone", "mobile", "vat")} == {
        k: v for k, v in partner.items() if k not in ("phone", "mobile", "vat")}
    assert all(is_sealed(sealed[k]) for k in ("phone", "mobile", "vat"))
    assert not [v for v in ("300 123 4567", "310 555 0101", "900.123.456") if v in json.dumps(sealed)]
    assert keys.open_record(sealed) == partner


def test_with_a_field_key_raw_lands_phones_and_tax_ids_sealed_with_their_identity_keys(conn):
    """Landed records too (puente.sealed_keys): raw holds the sealed forms, and ops.sealed_keys the
    keys identity resolution compares, derived from the clear values and sealed under the same key."""
    keys = FieldKeys.parse(new_key())
    partner = {"id": 9, "name": "Juan Pérez", "phone": "(300) 123-4567", "vat": "900.123.456-7",
               "write_date": "2026-11-16 10:00:00"}
    with conn.transaction():
        load_page(conn, PARTNERS, [Record(partner, "9", partner["write_date"])], "sealed", field_keys=keys)
    (record,) = conn.execute("select record from raw.odoo_res_partner").fetchone()
    assert is_sealed(record["phone"]) and is_sealed(record["vat"]) and record["name"] == "Juan Pérez"
    assert keys.open_record(record) == partner
    phone = conn.execute("select phone_normalized, phone_tail, phone_is_landline from ops.sealed_keys "
                         "where sealed = %s and country_code = 'CO'", (record["phone"],)).fetchone()
    assert (keys.open(phone[0]), keys.open(phone[1]), phone[2]) == ("+573001234567", "1234567", False)
    vat = conn.execute("select tax_id_is_valid, tax_id_normalized, tax_id_corrected, tax_id_body from ops.sealed_keys "
                       "where sealed = %s and country_code = 'CO'", (record["vat"],)).fetchone()
    assert (vat[0], vat[1], keys.open(vat[2]), keys.open(vat[3])) == (False, None, "900123456-8", "900123456")
    # a country the macros do not know reads as any other ('ZZ'): every value has its row
    assert conn.execute("select count(distinct country_code) from ops.sealed_keys").fetchone()[0] == 6
    # the same values again (a returning customer, a rerun) are not derived again
    with conn.transaction():
        assert sealed_keys.derive(conn, [("(300) 123-4567", "phone"), ("310 555 0101", "phone")], keys) == 6
    assert conn.execute("select count(*) from ops.sealed_keys").fetchone()[0] == 18


def test_a_new_field_key_reseals_what_quarantine_and_raw_keep(conn, fresh_db, capsys, monkeypatch):
    """Rotation: `puente field-key reseal` with the new key first; the old one opens nothing after.
    What raw holds in clear (landed before a key was configured) is sealed too."""
    old, new = new_key(), new_key()
    partner = {"id": 9, "name": "Juan", "vat": "900.123.456-8", "write_date": "yesterday"}
    landed = [{"id": n, "name": "Ana", "phone": f"310 555 010{n}", "write_date": "2026-11-16 10:00:00"} for n in (10, 11)]
    with conn.transaction():
        load_page(conn, PARTNERS, [Record(partner, "9", "yesterday"), Record(landed[0], "10", landed[0]["write_date"])],
                  "b1", field_keys=FieldKeys.parse(old))
        load_page(conn, PARTNERS, [Record(landed[1], "11", landed[1]["write_date"])], "b2")
    monkeypatch.setenv("PUENTE_WAREHOUSE_URL", fresh_db)
    monkeypatch.setenv("PUENTE_FIELD_KEY", f"{new},{old}")
    assert cli.main(["field-key", "reseal"]) == 0
    assert "Resealed 1 quarantined record(s) and 2 raw record(s)" in capsys.readouterr().out
    (payload,) = conn.execute("select payload from ops.quarantine").fetchone()
    assert FieldKeys.parse(new).open_record(json.loads(payload)) == partner
    with pytest.raises(FieldKeyError, match="not among the configured keys"):
        FieldKeys.parse(old).open_record(json.loads(payload))
    raw = [r[0] for r in conn.execute("select record from raw.odoo_res_partner order by source_id")]
    assert [r["phone"].split(":")[2] for r in raw] == [FieldKeys.parse(new).ids[0]] * 2
    assert [FieldKeys.parse(new).open_record(r) for r in raw] == landed
    key_ids = {r[0].split(":")[2] for r in conn.execute("select sealed from ops.sealed_keys")}
    assert key_ids == {FieldKeys.parse(new).ids[0]}
    assert conn.execute("select count(distinct sealed) from ops.sealed_keys").fetchone()[0] == 2
    assert cli.main(["field-key", "new"]) == 0
    assert len(FieldKeys.parse(capsys.readouterr().out.strip()).ids) == 1


def test_a_literal_backslash_u0000_is_not_mistaken_for_nul(conn):
    counts = _load(conn, [Record({"id": 1, "note": "C:\\u0000", "write_date": "2026-11-16 10:00:00"},
                                 "1", "2026-11-16 10:00:00")])
    assert counts.inserted == 1


def test_dedupe_within_a_page_keeps_the_latest_version(conn):
    counts = _load(conn, [
        _partner(1, "newest", "2026-11-16 12:00:00"),
        _partner(1, "older", "2026-11-16 09:00:00"),
        _partner(2, "first", "2026-11-16 09:00:00"),
        _partner(2, "second, same time", "2026-11-16 09:00:00"),
    ])
    assert (counts.received, counts.inserted, counts.unchanged) == (4, 2, 2)
    names = dict(conn.execute("select source_id, record->>'name' from raw.odoo_res_partner").fetchall())
    assert names == {"1": "newest", "2": "second, same time"}


def test_archived_records_are_flagged_deleted_and_a_flag_change_is_an_update(conn):
    _load(conn, [_partner(1, "Juan")])
    counts = _load(conn, [_partner(1, "Juan", active=False)])
    assert counts.updated == 1
    assert conn.execute("select _deleted from raw.odoo_res_partner").fetchone()[0] is True


def test_hubspot_and_shopify_timestamps_parse_to_utc(conn):
    contacts = raw_object("hubspot", "contacts")
    orders = raw_object("shopify", "orders")
    with conn.transaction():
        load_page(conn, contacts, [Record({"id": "51"}, "51", "2026-11-16T10:31:02.123Z")], "b")
        load_page(conn, orders, [Record({"id": 9}, "9", "2026-11-16T10:31:02-05:00")], "b")
    assert conn.execute("select source_updated_at from raw.hubspot_contacts").fetchone()[0].isoformat() \
        == "2026-11-16T10:31:02.123000+00:00"
    assert conn.execute("select source_updated_at from raw.shopify_orders").fetchone()[0].isoformat() \
        == "2026-11-16T15:31:02+00:00"


def test_two_pages_in_one_transaction(conn):
    with conn.transaction():
        first = load_page(conn, PARTNERS, [_partner(1, "a")], "b")
        second = load_page(conn, PARTNERS, [_partner(2, "b")], "b")
    assert first.inserted == second.inserted == 1


def test_a_stale_version_never_replaces_a_newer_one(conn):
    _load(conn, [_partner(1, "Juan Pérez", "2026-11-17 08:00:00")])
    stale = _load(conn, [_partner(1, "Juan", "2026-11-16 10:00:00")], batch="b2")
    assert (stale.inserted, stale.updated, stale.unchanged) == (0, 0, 1)
    assert conn.execute("select record->>'name' from raw.odoo_res_partner").fetchone()[0] == "Juan Pérez"


def test_a_lone_surrogate_is_quarantined_not_a_failed_page(conn):
    broken = Record({"id": 2, "name": "Ana \ud83d", "write_date": "2026-11-16 10:00:00"}, "2", "2026-11-16 10:00:00")
    counts = _load(conn, [_partner(1, "Juan"), broken])
    assert (counts.inserted, counts.quarantined) == (1, 1)
    reason, payload = conn.execute("select reason, payload from ops.quarantine").fetchone()
    assert "not valid Unicode" in reason and "\\ud83d" in payload


@pytest.mark.parametrize("stamp", ["2026-11-16 10:00:00", "2026-11-16T10:31:02.123Z", "2026-11-16T10:31:02-05:00",
                                   "2026-11-16", 1763287862, None, "16/11/2026", ""])
def test_the_loader_reads_timestamps_exactly_as_parse_timestamp(stamp):
    """load.py parses updated-at inline (it runs once per row); it must agree with parse_timestamp."""
    from puente.load import Malformed, _validate
    from puente.sources.base import parse_timestamp

    record = Record({"id": 1}, "1", stamp)
    try:
        want = parse_timestamp(stamp)
    except ValueError:
        with pytest.raises(Malformed, match="is not a timestamp"):
            _validate(record)
    else:
        assert _validate(record)[2] == want and want.utcoffset().total_seconds() == 0


def test_a_block_of_pages_keeps_each_ids_latest_version_across_pages(conn):
    """extract.py lands several API pages as one block: an id on two pages lands once, newest wins."""
    page_1 = [_partner(1, "v1", "2026-11-16 09:00:00"), _partner(2, "Ana")]
    page_2 = [_partner(3, "Luis"), _partner(1, "v2", "2026-11-16 11:00:00")]
    counts = _load(conn, page_1 + page_2)
    assert (counts.received, counts.inserted, counts.updated, counts.unchanged) == (4, 3, 0, 1)
    assert conn.execute("select record->>'name' from raw.odoo_res_partner where source_id = '1'").fetchone()[0] == "v2"


def _nested(levels: int) -> object:
    value: object = "core"
    for _ in range(levels):
        value = {"child": value}
    return value


@pytest.mark.parametrize(("record", "reason", "stored_id"), [
    # an Odoo answer is parsed without recursion (XML-RPC), so the depth reaches the loader whole
    (Record({"id": 2, "properties": _nested(5000), "write_date": "2026-11-16 10:00:00"}, "2", "2026-11-16 10:00:00"),
     "nested 5,001 levels deep, deeper than the JSON encoder goes", "2"),
    # deeper than Puente lands, although the JSON encoder and jsonb would take it (the chaos bench's 400)
    (Record({"id": 2, "x_nested": _nested(400), "write_date": "2026-11-16 10:00:00"}, "2", "2026-11-16 10:00:00"),
     "nested 401 levels deep, deeper than Puente lands (256); no real record nests so deep", "2"),
    # the quarantine keeps an id PostgreSQL cannot store as text, escaped
    (Record({"id": "2\x00", "write_date": "2026-11-16 10:00:00"}, "2\x00", "2026-11-16 10:00:00"),
     "contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store", "2\\u0000"),
    (Record({"id": "2\udce9", "write_date": "2026-11-16 10:00:00"}, "2\udce9", "2026-11-16 10:00:00"),
     "text is not valid UTF-8: byte 0xe9 at character 8 (the source sent text in another encoding, or cut a "
     "character in two)", "2\\udce9"),
])
def test_a_record_postgresql_cannot_store_is_quarantined_with_its_reason(conn, record, reason, stored_id):
    counts = _load(conn, [_partner(1, "Juan"), record])
    assert (counts.inserted, counts.quarantined) == (1, 1)
    (row,) = conn.execute("select source_id, reason, payload from ops.quarantine").fetchall()
    assert row[:2] == (stored_id, reason)
    assert json.loads(row[2])  # the payload is kept (cut 64 levels down when deeper)


def _shopify_customers(body: bytes) -> list[Record]:
    """The records Puente's Shopify connector reads from a customers page answering ``body``."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    connector = ShopifyConnector(ShopifyConfig("https://shop.example/admin/api/2025-01", "token"), transport=transport)
    (page,) = connector.extract("customers", None)
    return page.records


def _customer(customer_id: str, name: str, extra: str = "") -> str:
    return f'{{"id": {customer_id}, "first_name": "{name}", "updated_at": "2026-11-16T10:00:00-05:00"{extra}}}'


def test_one_shop_record_with_bytes_not_utf8_or_nested_5000_deep_is_quarantined_not_the_page(conn):
    deep = ', "tags": ' + "[" * 5000 + "1" + "]" * 5000  # in a field Puente lands (minimum data)
    body = (b'{"customers": [' + _customer("1", "Juan").encode() + b", "
            + _customer("2", "Jos\xe9").encode("latin-1") + b", "  # é as Latin-1, not UTF-8
            + _customer("3", "Ana", deep).encode() + b", " + _customer("4", "Luis").encode() + b"]}")
    with conn.transaction():
        counts = load_page(conn, SHOP_CUSTOMERS, _shopify_customers(body), "b1")
    assert (counts.received, counts.inserted, counts.quarantined) == (4, 2, 2)
    reasons = dict(conn.execute("select source_id, reason from ops.quarantine").fetchall())
    assert reasons == {"2": "text is not valid UTF-8: byte 0xe9 at character 66 (the source sent text in another "
                            "encoding, or cut a character in two)",  # of the record as it lands, declared keys first
                       "3": "nested deeper than 256 levels (the source's JSON was cut there)"}


def test_float_and_graphql_ids_land_as_the_number(conn):
    body = ('{"customers": [' + _customer("11.0", "Juan") + ", " + _customer('"gid://shopify/Customer/12"', "Ana")
            + "]}").encode()
    with conn.transaction():
        counts = load_page(conn, SHOP_CUSTOMERS, _shopify_customers(body), "b1")
    assert (counts.inserted, counts.quarantined) == (2, 0)
    assert [r[0] for r in conn.execute("select source_id from raw.shopify_customers order by 1")] == ["11", "12"]
