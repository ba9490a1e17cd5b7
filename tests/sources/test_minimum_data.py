"""Minimum data: what every source lands is what Puente reads, no more and no less.

The staging models are read as text: every key they take out of a raw record (``field_value`` and
the macros around it, ``record ->> 'x'``, ``record #> '{a,b}'``, ``record ? 'x'``, HubSpot's
``hubspot_property``, the elements of a list walked with ``jsonb_array_elements``) must be declared
in the source's ``settings.py`` (``SourceObject.landed_fields``), or it would read a field that
never lands; and every declared field must be read somewhere, or Puente would store what it does
not use. A macro that reads raw and that the reader does not know fails the test, so a new one
cannot slip past it.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from puente.sources import registry
from puente.sources.fields import (
    BEGIN,
    DOCS,
    END,
    field_tree,
    markdown,
    project,
    top_level,
    with_section,
    wordpress_fields,
)
from puente.sources.hubspot import HubSpotConfig, HubSpotConnector
from puente.sources.shopify import ShopifyConfig, ShopifyConnector

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
STAGING = DBT / "models" / "staging"
SOURCES = tuple(s.name for s in registry.SOURCES)
# Declared though no staging model reads it: the chaos bench nests deep JSON in products' tags
# (bench/chaos.py NESTED_FIELD), which must land to prove the landing copes with it.
READ_ELSEWHERE = {("shopify", "products"): {"tags"}}
# What Python code reads of these raw records: the erasure follows the fields that point at a
# customer record (an order's customer id: ``PersonalData.refers``).
PYTHON_READS = {(s.name, o.name): {path for path, _ in o.personal.refers} for s, o in registry.personal_objects()}

_SET_VALUE = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*(field_value\([^)]*\))\s*-?%\}")
_SCOPE = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*typed_fields\((?:'([^']*)'(?:\s*,\s*'\w+')?)?\)")
# Macros that read a key of the typed fields (``fields, 'key'``) through field_value.
_FIELD_MACROS = ("field_value", "odoo_raw", "odoo_number", "odoo_boolean", "odoo_many2one_id", "odoo_datetime",
                 "odoo_date")
_FIELD = re.compile(r"\b(?:" + "|".join(_FIELD_MACROS) + r")\(\s*(\w+)\s*,\s*'(\w+)'(\s*,\s*json=true)?[^)]*\)"
                    r"(?:\s*(?:\}\}|~\s*\")\s*->>?\s*'(\w+)')?")
# Macros that read a path of the record itself, ``{}`` being the call's argument.
_PATH_MACROS = {"hubspot_property": "properties.{}", "odoo_text": "{}", "odoo_many2one_name": "{}"}
_PATH_CALL = re.compile(r"\b(" + "|".join(_PATH_MACROS) + r")\(\s*'(\w+)'\s*\)")
_RECORD = re.compile(r"\brecord\s*(?:->>?|\?)\s*'(\w+)'")
_RECORD_PATH = re.compile(r"\brecord\s*#>>?\s*'\{([\w,]+)\}'")
_ELEMENTS = re.compile(r"\bas\s+(\w+)\s*\(\s*(\w+)\s*[,)]")
_SOURCE = re.compile(r"source\('(\w+)',\s*'(\w+)'\)")
_MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\(([^)]*)\)\s*-?%\}(.*?)\{%-?\s*endmacro\s*-?%\}", re.S)
_READS_RAW = re.compile(r"\brecord\s*(?:->|#>|\?)")


def _macros() -> dict[str, tuple[str, str]]:
    """The project's macros: name -> (parameters, body)."""
    return {name: (params.strip(), body) for path in sorted((DBT / "macros").glob("*.sql"))
            for name, params, body in _MACRO.findall(path.read_text())}


MACROS = _macros()
# Macros without parameters are read in place of their call (odoo_dian_message).
_INLINED = {name: body for name, (params, body) in MACROS.items() if not params}


def raw_reading_macros() -> set[str]:
    """The macros that read a raw record, directly or through another macro."""
    reading = {name for name, (_, body) in MACROS.items() if _READS_RAW.search(body)} | {"field_value"}
    while more := {name for name, (_, body) in MACROS.items() if name not in reading
                   and any(re.search(rf"\b{r}\(", body) for r in reading)}:
        reading |= more
    return reading


def _array_of(text: str, at: int, scopes: dict[str, str]) -> str | None:
    """The path of the list a ``jsonb_array_elements(...) ... as alias (element`` at ``at`` walks
    (None for a list inside an element of another)."""
    start = text.rfind("jsonb_array_elements(", 0, at)
    argument = text[start:at]
    if found := _FIELD.search(argument):
        return scopes[found.group(1)] + found.group(2)
    if found := _RECORD_PATH.search(argument):
        return found.group(1).replace(",", ".")
    found = _RECORD.search(argument)
    return found.group(1) if found else None


def staging_reads(text: str) -> set[str]:
    """The record paths (``a``, ``a.b``, ``a[].b``) one staging model's SQL reads."""
    for name, body in _INLINED.items():
        text = re.sub(r"\{\{\s*" + name + r"\(\)\s*\}\}", lambda _, body=body: body, text)
    for name, expression in _SET_VALUE.findall(text):
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", "{{ " + expression + " }}", text)
    roots = {var: "" for var, column in _SCOPE.findall(text) if column in ("", "record", "source.record")}
    lists = {}  # alias of the elements of a list -> (element's name, the list's path)
    for found in _ELEMENTS.finditer(text):
        if "jsonb_array_elements(" in text[:found.start()]:
            array = _array_of(text, found.start(), roots)
            if array is not None:
                lists[found.group(1)] = found.group(2), array
    scopes = {var: "" if var in roots else f"{lists[column.split('.')[0]][1]}[]." for var, column in _SCOPE.findall(text)}
    reads = set(_RECORD.findall(text)) | {path.replace(",", ".") for path in _RECORD_PATH.findall(text)}
    reads.update(_PATH_MACROS[macro].format(key) for macro, key in _PATH_CALL.findall(text))
    for var, key, _, sub in _FIELD.findall(text):
        reads.add(scopes[var] + key + (f".{sub}" if sub else ""))
    for element, array in lists.values():  # elements read directly: line ->> 'price'
        reads.update(f"{array}[].{key}" for key in re.findall(rf"\b{element}\s*->>?\s*'(\w+)'", text))
    return reads


def _covered(tree, path: str) -> bool:
    node = tree
    for part in path.replace("[]", "").split("."):
        if node is None:
            return True
        if part not in node:
            return False
        node = node[part]
    return True


def _reads_by_object(source: str) -> dict[str, set[str]]:
    objects = {o.name.replace(".", "_"): o.name for o in registry.source(source).objects}  # dbt's table names
    reads: dict[str, set[str]] = {}
    for path in sorted((STAGING / source).glob("*.sql")):
        text = path.read_text()
        for src, table in set(_SOURCE.findall(text)):
            if src == "ops":  # Puente's own tables (a sealed note's tax id: ops.sealed_keys), not a landing
                continue
            assert src == source, path
            reads.setdefault(objects[table], set()).update(staging_reads(text))
    for obj in registry.source(source).objects:  # the conditions reconciliation runs on raw
        reads.setdefault(obj.name, set()).update(_RECORD.findall(obj.live_in_raw))
        reads[obj.name] |= PYTHON_READS.get((source, obj.name), set())
    return reads


def test_the_reader_finds_nested_and_list_reads():
    reads = _reads_by_object("shopify")
    assert {"default_address.city", "email_marketing_consent.consent_updated_at", "note"} <= reads["customers"]
    assert {"line_items[].sku", "shipping_lines[].price", "customer.id", "currency"} <= reads["orders"]
    assert {"variants[].inventory_item_id", "status", "title"} <= reads["products"]
    hubspot = _reads_by_object("hubspot")
    assert {"properties.address", "properties.tax_id", "createdAt", "archived"} <= hubspot["contacts"]
    assert "associations.contacts.results[].id" in hubspot["deals"]
    odoo = _reads_by_object("odoo")
    assert {"street", "vat", "country_id", "customer_rank", "is_blacklisted"} <= odoo["res.partner"]
    assert {"l10n_co_dian_state", "l10n_co_dian_document_ids[].message_json",
            "l10n_co_dian_document_ids[].datetime", "l10n_co_dian_document_ids[].id"} <= odoo["account.move"]
    sql = """{%- set fields = typed_fields() -%}
        select {{ field_value(fields, 'birthday') }}, {{ field_value(fields, 'meta', json=true) }} ->> 'dni'"""
    assert staging_reads(sql) == {"birthday", "meta.dni"}


def test_the_reader_knows_every_macro_staging_calls_that_reads_raw():
    reading = raw_reading_macros()
    assert {"hubspot_property", "odoo_text", "odoo_number", "odoo_dian_message"} <= reading
    known = set(_FIELD_MACROS) | set(_PATH_MACROS) | set(_INLINED)
    for path in sorted(STAGING.glob("*/*.sql")):
        called = set(re.findall(r"\b(\w+)\(", path.read_text())) & reading
        assert called <= known, f"{path.name} calls {sorted(called - known)}, which read raw: teach the reader"


@pytest.mark.parametrize("source", SOURCES)
def test_every_field_staging_reads_is_declared_and_every_declared_field_is_read(source):
    for obj, reads in _reads_by_object(source).items():
        spec = registry.source_object(source, obj)
        tree = spec.landed_tree
        assert tree, f"{source} {obj} declares no landed fields"
        missing = sorted(p for p in reads if not _covered(tree, p))
        assert not missing, f"{source} {obj}: staging reads {missing}, which settings.py does not declare"
        unread = [p for p in spec.landed_fields if p not in (spec.key, spec.cursor)
                  and p.replace("[]", "") not in {r.replace("[]", "") for r in reads}
                  and p not in READ_ELSEWHERE.get((source, obj), set())]
        assert not unread, f"{source} {obj}: {unread} are declared but nothing reads them (minimum data)"


def test_the_projection_keeps_declared_paths_only():
    tree = field_tree(["id", "tags", "customer.id", "line_items[].sku", "default_address.city"])
    record = {"id": 1, "note": "CC 123", "tags": {"deep": [1, {"x": 2}]}, "customer": {"id": 7, "phone": "300"},
              "line_items": [{"sku": "A", "tax_lines": []}, "not an object"], "default_address": None}
    assert project(record, tree) == {"id": 1, "tags": {"deep": [1, {"x": 2}]}, "customer": {"id": 7},
                                     "line_items": [{"sku": "A"}, "not an object"], "default_address": None}
    assert project("malformed", tree) == "malformed"
    assert field_tree(["a.b", "a"]) == field_tree(["a", "a.b"]) == {"a": None}
    with pytest.raises(ValueError, match="not a path"):
        field_tree(["a..b"])


def test_crm_and_erp_records_keep_their_declared_fields_only():
    contact = registry.source_object("hubspot", "contacts")
    stamp = "2026-11-10T13:00:00.000Z"
    assert contact.landed({
        "id": "501", "createdAt": stamp, "updatedAt": stamp, "archived": True, "archivedAt": stamp,
        "url": "https://app.hubspot.com/contacts/1/record/0-1/501",
        "properties": {"email": "ana@casa.co", "address": "Cl 10 # 5-20", "hs_object_id": "501",
                       "fecha_de_nacimiento": "1990-04-12", "puente_churn_risk": "high"},
        "propertiesWithHistory": {"email": [{"value": "ana@casa.co", "timestamp": stamp}]},
    }) == {"id": "501", "createdAt": stamp, "updatedAt": stamp, "archived": True,
           "properties": {"email": "ana@casa.co", "address": "Cl 10 # 5-20"}}
    deal = registry.source_object("hubspot", "deals")
    assert deal.landed({"id": "9", "associations": {
        "contacts": {"results": [{"id": "501", "type": "deal_to_contact"}]},
        "companies": {"results": [{"id": "77", "type": "deal_to_company"}]}}}) == {
        "id": "9", "associations": {"contacts": {"results": [{"id": "501"}]}}}
    invoice = registry.source_object("odoo", "account.move")
    assert invoice.landed({
        "id": 7, "write_date": "2026-11-10 13:00:00", "name": "INV/2026/00007", "x_fecha_nacimiento": "1990-04-12",
        "narration": "Cliente con cédula 1020304050", "l10n_co_dian_state": "invoice_rejected",
        "l10n_co_dian_document_ids": [{"id": 3, "state": "invoice_rejected", "datetime": "2026-11-10 08:00:00",
                                       "message_json": {"status": "Rechazada"}, "attachment_id": [4, "fv.xml"]}],
    }) == {"id": 7, "write_date": "2026-11-10 13:00:00", "name": "INV/2026/00007",
           "l10n_co_dian_state": "invoice_rejected",
           "l10n_co_dian_document_ids": [{"id": 3, "datetime": "2026-11-10 08:00:00",
                                          "message_json": {"status": "Rechazada"}}]}


def test_what_each_api_is_asked_for():
    paths = ["id", "billing.email", "billing.phone", "line_items[].sku", "line_items[].id", "meta"]
    assert top_level(paths) == ["id", "billing", "line_items", "meta"]
    assert wordpress_fields(paths) == ["id", "billing.email", "billing.phone", "line_items", "meta"]
    assert wordpress_fields(["billing", "billing.email"]) == ["billing"]


def test_the_docs_list_the_declared_fields():
    text = DOCS.read_text()
    assert with_section(text, markdown(registry.SOURCES)) == text, (
        "docs/contracts.md is out of date with the declared fields: run python -m puente.sources.fields")
    section = text[text.index(BEGIN):text.index(END)]
    assert "`line_items[].sku`" in section and "`billing.email`" in section
    assert "`properties.address`" in section and "`l10n_co_dian_document_ids[].message_json`" in section


def test_the_connector_asks_for_the_declared_fields_and_projects_what_comes_anyway():
    seen = []

    def shop(request: httpx.Request) -> httpx.Response:  # a shop that ignores ``fields``
        seen.append(request.url.params)
        return httpx.Response(200, json={"customers": [{
            "id": 1, "updated_at": "2026-11-10T08:00:00-05:00", "note": "NIT 900123456-7", "sms_marketing_consent": None,
            "addresses": [{"address1": "Calle 1"}], "default_address": {"city": "Cali", "address1": "Calle 1", "zip": "760001"}}]})

    connector = ShopifyConnector(ShopifyConfig("https://casa.myshopify.com/admin/api/2026-10", "shpat_x"),
                                 transport=httpx.MockTransport(shop), sleep=lambda s: None)
    [page] = list(connector.extract("customers", None))
    assert seen[0]["fields"] == ",".join(top_level(registry.source_object("shopify", "customers").landed_fields))
    assert page.records[0].payload == {"id": 1, "updated_at": "2026-11-10T08:00:00-05:00", "note": "NIT 900123456-7",
                                       "default_address": {"city": "Cali", "address1": "Calle 1"}}


def test_the_crm_connector_asks_for_the_declared_properties_reports_a_missing_one_and_lands_no_other(caplog):
    asked = []

    def portal(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/crm/v3/properties/contacts":  # the business has a custom birth date, no tax_id
            return httpx.Response(200, json={"results": [
                {"name": p, "hubspotDefined": True} for p in registry.source_object("hubspot", "contacts").properties
                if p != "tax_id"] + [{"name": "fecha_de_nacimiento", "hubspotDefined": False}]})
        asked.append(request.url.params)
        archived = request.url.params["archived"] == "true"
        return httpx.Response(200, json={"results": [] if archived else [{
            "id": "501", "createdAt": "2026-11-10T13:00:00Z", "updatedAt": "2026-11-10T13:00:00Z", "archived": False,
            "properties": {"email": "ana@casa.co", "hs_object_id": "501", "fecha_de_nacimiento": "1990-04-12"}}]})

    connector = HubSpotConnector(HubSpotConfig("https://api.hubapi.com", "pat-x"),
                                 transport=httpx.MockTransport(portal), sleep=lambda s: None)
    with caplog.at_level("WARNING"):
        records = [r.payload for page in connector.extract("contacts", None) for r in page.records]
    assert asked[0]["properties"] == ",".join(registry.source_object("hubspot", "contacts").properties)
    assert "fecha_de_nacimiento" not in asked[0]["properties"]
    assert records == [{"id": "501", "createdAt": "2026-11-10T13:00:00Z", "updatedAt": "2026-11-10T13:00:00Z",
                        "archived": False, "properties": {"email": "ana@casa.co"}}]
    assert "HubSpot contacts has no property ['tax_id']" in caplog.text
