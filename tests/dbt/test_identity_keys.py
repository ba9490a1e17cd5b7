"""The identity-key macros (macros/identity_keys.sql), evaluated by PostgreSQL through dbt."""

from __future__ import annotations

import pytest

from puente.dbt import run_dbt

CASES = {
    "normalize_email": {
        " Juan.Perez@Example.COM ": "juan.perez@example.com",
        "ana@sub.example.co": "ana@sub.example.co",
        "": None,
        "juan@": None,
        "sin correo": None,
        "juan perez@example.com": None,
    },
    "normalize_phone": {
        "(300) 123-4567": "+573001234567",
        "+57 300 123 4567": "+573001234567",
        "573001234567": "+573001234567",
        "3001234567": "+573001234567",
        "0057 300 123 4567": "+573001234567",
        "601 345 6789": "+576013456789",
        "+1 (415) 555-0100": "+14155550100",
        "555-0100": None,
        "": None,
    },
    "normalize_tax_id": {
        "900.123.456-8": "900123456",
        "NIT 900123456-8": "900123456",
        "9001234568": "900123456",  # 8 is the DIAN check digit of 900123456
        "9001234567": "9001234567",  # 7 is not: the ten digits stay whole
        "800197268-4": "800197268",
        "8001972684": "800197268",
        "CC 1020304050": "1020304050",
        "1020304050": "1020304050",  # a ten-digit cédula starts with 1
        "C.C. 79.111.222": "79111222",
        "79.111.222-3": "79111222",
        "222222222222": None,  # DIAN's generic final consumer
        "123": None,
        "": None,
    },
    "normalize_name": {
        "  LUCÍA   GÓMEZ ": "lucia gomez",
        "José Ñúñez": "jose nunez",
        "   ": None,
    },
}


@pytest.fixture(scope="module")
def normalized(module_db) -> dict[tuple[str, str], str | None]:
    """Every case through its macro, in one `dbt show --inline` query."""
    selects = [
        f"select '{macro}' as macro, typed, {{{{ {macro}('typed') }}}} as normalized "
        f"from (values {', '.join(_literal(typed) for typed in cases)}) as cases (typed)"
        for macro, cases in CASES.items()
    ]
    result = run_dbt(["show", "--inline", " union all ".join(selects), "--limit", "-1", "--quiet"], module_db)
    table = result.result.results[0].agate_table
    return {(row["macro"], row["typed"]): row["normalized"] for row in table.rows}


def _literal(text: str) -> str:
    return "('" + text.replace("'", "''") + "')"


@pytest.mark.parametrize(
    ("macro", "typed", "expected"),
    [(macro, typed, expected) for macro, cases in CASES.items() for typed, expected in cases.items()],
)
def test_identity_key(normalized, macro, typed, expected):
    assert normalized[(macro, typed)] == expected
