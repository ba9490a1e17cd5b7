"""Minimum data: the fields of a record that Puente lands, and the projection that keeps only them.

Ley 1581 de 2012 (Habeas Data) and its neighbours (Ley 25.326, LFPDPPP, LGPD) ask that personal
data be collected only for what it is used for. Every source object declares in its source's
``settings.py`` the paths of a record Puente reads (``SourceObject.landed_fields``): its staging
models, the engine's conditions on raw and the erasure read nothing else, and
``tests/sources/test_minimum_data.py`` checks that they read all of it and nothing more. The
connector asks the API for those fields only (Shopify's ``fields`` and WordPress's ``_fields``,
HubSpot's ``properties``, Odoo's ``fields`` of ``search_read``) and projects every record to the
declaration before it lands, because an API may ignore the parameter, add what it always serves
(HubSpot's ``hs_object_id``, ``archivedAt``) and cannot filter inside lists. A field the source
gains (an Odoo ``x_`` field, a HubSpot custom property) is not declared, so it never lands.

A path names a key, a key inside an object (``default_address.city``) or a key inside every
element of a list (``line_items[].sku``). A path that ends at a key keeps its whole value
(``tags``, whatever it holds). The record's key and cursor are always kept.

The same declaration documents itself: ``python -m puente.sources.fields`` rewrites the
generated section of docs/contracts.md, and a test fails when that section is out of date.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# A node of the declaration: name -> the node below it, or None to keep the whole value.
FieldTree = dict[str, "FieldTree | None"]
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*$")


def field_tree(paths: Iterable[str]) -> FieldTree:
    """The declaration as a tree. ``[]`` marks a list (for documentation and for the APIs that
    cannot filter inside one); the projection treats any list it meets element by element."""
    tree: FieldTree = {}
    for path in paths:
        if not _PATH.match(path):
            raise ValueError(f"declared field {path!r} is not a path such as a, a.b or a[].b")
        node = tree
        parts = path.replace("[]", "").split(".")
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if last:
                node[part] = None  # the whole value, even where deeper paths were declared too
            elif node.get(part, {}) is None:
                break  # a parent kept whole already keeps this
            else:
                node = node.setdefault(part, {})  # type: ignore[assignment]
    return tree


def project(value: Any, tree: FieldTree | None) -> Any:
    """``value`` with only the declared keys: objects lose every other key, lists are projected
    element by element, and any other value is kept as it is (a malformed value reaches staging,
    which quarantines it with the reason)."""
    if tree is None:
        return value
    if isinstance(value, dict):
        return {k: project(value[k], sub) for k, sub in tree.items() if k in value}
    if isinstance(value, list):
        return [project(v, tree) for v in value]
    return value


def values_at(value: Any, path: str) -> list[Any]:
    """The values a record holds at ``path`` (a declared path), every list met on the way, and
    the list found at its end, read element by element."""
    found = [value]
    for part in path.replace("[]", "").split("."):
        found = [v.get(part) for v in _flat(found) if isinstance(v, dict)]
    return [v for v in _flat(found) if v is not None]


def _flat(values: list[Any]) -> Iterable[Any]:
    for v in values:
        if isinstance(v, list):
            yield from _flat(v)
        else:
            yield v


def replace_at(value: Any, tree: FieldTree, replace: Callable[[Any], Any]) -> Any:
    """``value`` with what it holds at every declared field of ``tree`` passed through ``replace``
    (the others kept as they are; lists met on the way are followed element by element)."""
    if isinstance(value, list):
        return [replace_at(v, tree, replace) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: (v if k not in tree else replace(v) if tree[k] is None else replace_at(v, tree[k], replace))  # type: ignore[arg-type]
            for k, v in value.items()}


def blank(value: Any, tree: FieldTree) -> Any:
    """``value`` with every declared field of ``tree`` set to None (the others kept as they are)."""
    return replace_at(value, tree, lambda _: None)


def jsonpath(path: str) -> str:
    """The declared ``path`` as a PostgreSQL SQL/JSON path reaching every value there (lax mode:
    the trailing ``[*]`` reads a list element by element and a single value as itself)."""
    return "$" + "".join(f'."{part.removesuffix("[]")}"' + ("[*]" if part.endswith("[]") else "")
                         for part in path.split(".")) + "[*]"


def top_level(paths: Iterable[str]) -> list[str]:
    """The top-level names of the paths, in order (Shopify's ``fields``)."""
    return list(dict.fromkeys(p.split(".")[0].removesuffix("[]") for p in paths))


def wordpress_fields(paths: Iterable[str]) -> list[str]:
    """The paths as WordPress's ``_fields`` takes them (WordPress 5.3+ filters nested objects with
    dots, ``billing.email``, but not inside lists: a path is cut at its first list)."""
    cut = list(dict.fromkeys(p.split("[]")[0] for p in paths))
    return [p for p in cut if not any(p.startswith(q + ".") for q in cut if q != p)]


# ------------------------------------------------------------------------------------ the docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"
BEGIN = "<!-- landed fields: generated by `python -m puente.sources.fields`, do not edit by hand -->"
END = "<!-- end of landed fields -->"


def markdown(sources: Iterable[Any]) -> str:
    """The table of what lands of every object that declares its fields (``landed_fields``)."""
    lines = ["| source | object | key, cursor | fields landed (everything else is never stored) |",
             "| --- | --- | --- | --- |"]
    for source in sources:
        for obj in source.objects:
            if obj.landed_fields:
                fields = ", ".join(f"`{p}`" for p in obj.landed_fields if p not in (obj.key, obj.cursor))
                lines.append(f"| {source.title} | {obj.name} | `{obj.key}`, `{obj.cursor}` | {fields} |")
    return "\n".join(lines)


def with_section(text: str, table: str) -> str:
    """``text`` (docs/contracts.md) with its generated section replaced by ``table``."""
    head, found, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise ValueError(f"{DOCS} has no generated section ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main() -> int:
    from puente.sources.registry import SOURCES

    DOCS.write_text(with_section(DOCS.read_text(), markdown(SOURCES)))
    print(f"wrote the landed fields of {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
