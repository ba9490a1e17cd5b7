"""Minimum data: what the shop sources land is what Puente reads, no more and no less.

The staging models are read as text: every key they take out of a raw record (``field_value``,
``record ->> 'x'``, the elements of a list walked with ``jsonb_array_elements``) must be declared in
the source's ``settings.py`` (``SourceObject.landed_fields``), or it would read a field that never
lands; and every declared field must be read somewhere, or Puente would store what it does not use.
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
from puente.sources.shopify import ShopifyConfig, ShopifyConnector

STAGING = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
SHOPS = ("shopify", "woocommerce", "tiendanube")
# Declared though no staging model reads it: the chaos bench nests deep JSON in products' tags
# (bench/chaos.py NESTED_FIELD), which must land to prove the landing copes with it.
READ_ELSEWHERE = {("shopify", "products"): {"tags"}}
# What Python code reads of these raw records: the erasure finds a shop order's customer by its id.
PYTHON_READS = {("shopify", "orders"): {"customer.id"}}

_SET_VALUE = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*(field_value\([^)]*\))\s*-?%\}")
_SCOPE = re.compile(r"\{%-?\s*set\s+(\w+)\s*=\s*typed_fields\((?:'([^']*)'(?:\s*,\s*'\w+')?)?\)")
_FIELD = re.compile(r"field_value\(\s*(\w+)\s*,\s*'(\w+)'(\s*,\s*json=true)?\s*\)"
                    r"(?:\s*(?:\}\}|~\s*\")\s*->>?\s*'(\w+)')?")
_RECORD = re.compile(r"\brecord\s*->>?\s*'(\w+)'")
_ELEMENTS = re.compile(r"\bas\s+(\w+)\s*\(\s*(\w+)\s*[,)]")
_SOURCE = re.compile(r"source\('(\w+)',\s*'(\w+)'\)")


def _array_of(text: str, at: int, scopes: dict[str, str]) -> str:
    """The path of the list a ``jsonb_array_elements(...) ... as alias (element`` at ``at`` walks."""
    start = text.rfind("jsonb_array_elements(", 0, at)
    argument = text[start:at]
    found = _FIELD.search(argument)
    if found:
        return scopes[found.group(1)] + found.group(2)
    return _RECORD.search(argument).group(1)


def staging_reads(text: str) -> set[str]:
    """The record paths (``a``, ``a.b``, ``a[].b``) one staging model's SQL reads."""
    for name, expression in _SET_VALUE.findall(text):
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", "{{ " + expression + " }}", text)
    roots = {var: "" for var, column in _SCOPE.findall(text) if column in ("", "record", "source.record")}
    lists = {}  # alias of the elements of a list -> (element's name, the list's path)
    for found in _ELEMENTS.finditer(text):
        if "jsonb_array_elements(" in text[:found.start()]:
            lists[found.group(1)] = found.group(2), _array_of(text, found.start(), roots)
    scopes = {var: "" if var in roots else f"{lists[column.split('.')[0]][1]}[]." for var, column in _SCOPE.findall(text)}
    reads = set(_RECORD.findall(text))
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
    reads: dict[str, set[str]] = {}
    for path in sorted((STAGING / source).glob("*.sql")):
        text = path.read_text()
        for src, obj in set(_SOURCE.findall(text)):
            assert src == source, path
            reads.setdefault(obj, set()).update(staging_reads(text))
    for obj in registry.source(source).objects:  # the conditions reconciliation runs on raw
        reads.setdefault(obj.name, set()).update(_RECORD.findall(obj.live_in_raw))
        reads[obj.name] |= PYTHON_READS.get((source, obj.name), set())
    return reads


def test_the_reader_finds_nested_and_list_reads():
    reads = _reads_by_object("shopify")
    assert {"default_address.city", "email_marketing_consent.consent_updated_at", "note"} <= reads["customers"]
    assert {"line_items[].sku", "shipping_lines[].price", "customer.id", "currency"} <= reads["orders"]
    assert {"variants[].inventory_item_id", "status", "title"} <= reads["products"]
    sql = """{%- set fields = typed_fields() -%}
        select {{ field_value(fields, 'birthday') }}, {{ field_value(fields, 'meta', json=true) }} ->> 'dni'"""
    assert staging_reads(sql) == {"birthday", "meta.dni"}


@pytest.mark.parametrize("source", SHOPS)
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
