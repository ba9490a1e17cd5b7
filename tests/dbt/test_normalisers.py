"""The regional normalisers (macros/tax_ids.sql, macros/identity_keys.sql), evaluated by
PostgreSQL through dbt: valid and invalid check digits, odd formats, each country."""

from __future__ import annotations

import pytest

from puente.dbt import run_dbt

# (value, country) -> expected, per macro
CASES: dict[str, dict[tuple[str, str | None], object]] = {
    "tax_id_kind": {
        ("900.123.456-8", "CO"): "nit",
        ("9001234568", "CO"): "nit",
        ("NIT 900123456-8", "CO"): "nit",
        ("CC 1020304050", "CO"): "cedula",
        ("79.111.222", "CO"): "cedula",
        ("20-12345678-6", "AR"): "cuit",
        ("12.345.678-5", "CL"): "rut",
        ("GODE561231GR8", "MX"): "rfc",
        ("529.982.247-25", "BR"): "cpf",
        ("11.222.333/0001-81", "BR"): "cnpj",
        ("hola", "CO"): None,
        ("12345", "PE"): None,
    },
    "tax_id_is_valid": {
        ("900.123.456-8", "CO"): True,  # DIAN digit of 900123456 is 8
        ("900.123.456-7", "CO"): False,
        ("9001234568", "CO"): True,
        ("9001234567", "CO"): False,
        ("800197268-4", "CO"): True,
        ("79.123.456-0", "CO"): True,  # a person's NIT: the cédula with its DV
        ("79.123.456-1", "CO"): False,
        ("900123456", "CO"): True,  # no DV written: nothing to check
        ("CC 1020304050", "CO"): True,
        ("222222222222", "CO"): None,  # DIAN's generic final consumer: no id of any kind
        ("1111111111", "CO"): False,  # repeated digits
        ("20-12345678-6", "AR"): True,
        ("20123456786", "AR"): True,
        ("20-12345678-5", "AR"): False,
        ("99-12345678-6", "AR"): False,  # unknown CUIT prefix
        ("12.345.678-5", "CL"): True,
        ("12.345.678-4", "CL"): False,
        ("10.000.013-K", "CL"): True,
        ("10000013-k", "CL"): True,
        ("5.126.663-3", "CL"): True,
        ("GODE561231GR8", "MX"): True,
        ("ABC010101AB1", "MX"): True,  # a company: three letters
        ("GODE561331GR8", "MX"): False,  # month 13
        ("GODE561231GR7", "MX"): False,  # the SAT check character of GODE561231GR is 8
        ("XAXX010101000", "MX"): None,  # the SAT's generic RFC of the general public: nobody's
        ("529.982.247-25", "BR"): True,
        ("529.982.247-24", "BR"): False,
        ("111.111.111-11", "BR"): False,
        ("11.222.333/0001-81", "BR"): True,
        ("11.222.333/0001-82", "BR"): False,
        ("12345", "PE"): None,
    },
    "tax_id_corrected": {  # the value a doubtful tax id's body calls for
        ("900.123.456-7", "CO"): "900123456-8",
        ("9001234567", "CO"): "900123456-8",
        ("79.123.456-1", "CO"): "79123456-0",
        ("900.123.456-8", "CO"): None,  # valid: nothing to correct
        ("CC 1020304050", "CO"): None,  # a cédula has no check digit
        ("20-12345678-5", "AR"): "20-12345678-6",
        ("12.345.678-4", "CL"): "12345678-5",
        ("529.982.247-24", "BR"): "52998224725",
        ("11.222.333/0001-82", "BR"): "11222333000181",
        ("GODE561231GR7", "MX"): "GODE561231GR8",
        ("ABC010101AB5", "MX"): "ABC010101AB1",  # a company: 12 characters, padded for the check
    },
    "tax_id_transpositions": {  # a doubtful id: its bodies one swap of neighbours away whose check digits are the typed
        ("75128394-9", "CO"): "{75123894,75128349}",  # 75123894-9 with its fifth and sixth digits swapped
        ("967756305-5", "CO"): "{697756305,967753605}",
        ("9677563055", "CO"): "{697756305,967753605}",  # its DV typed without the dash
        ("900123456-7", "CO"): None,  # a slip in the verification digit itself: no swap gives a 7
        ("20-21345678-6", "AR"): "{2012345678}",  # CUIT 20-12345678-6, its third and fourth digits swapped
        ("20-12345678-4", "AR"): None,
        ("12.354.678-5", "CL"): "{12345678}",
        ("12.345.678-K", "CL"): "{13245678}",
        ("529.928.247-25", "BR"): "{529982247}",  # CPF: both check digits typed are the swapped body's
        ("529.982.247-24", "BR"): None,
        ("11.223.233/0001-81", "BR"): "{112223330001}",  # CNPJ
        ("11.222.333/0001-82", "BR"): None,
        # of its swaps whose SAT character is 8, GDOE562131GR has no month 21: no RFC
        ("GODE562131GR8", "MX"): "{GODE561231GR}",
        ("ABC010101AB5", "MX"): None,
    },
    "normalize_tax_id_for_country": {
        ("900.123.456-8", "CO"): "900123456",
        ("900.123.456-8", None): "900123456",  # var default_country_code
        ("20-12345678-6", "AR"): "20123456786",
        ("20-12345678-5", "AR"): None,  # a failed check digit links nobody
        ("12.345.678-5", "CL"): "12345678-5",
        ("10.000.013-k", "CL"): "10000013-K",
        ("gode 561231 gr8", "MX"): "GODE561231GR8",
        ("GODE561231GR7", "MX"): None,
        ("XEXX010101000", "MX"): None,  # the SAT's generic RFC of foreigners: every foreign buyer's
        ("529.982.247-25", "BR"): "52998224725",
        ("529.982.247-24", "BR"): None,
        ("11.222.333/0001-81", "BR"): "11222333000181",
    },
    "normalize_phone": {
        ("(300) 123-4567", None): "+573001234567",
        ("(300) 123-4567", "CO"): "+573001234567",
        ("55 1234 5678", "MX"): "+525512345678",
        ("+52 55 1234 5678", "CO"): "+525512345678",  # international wins over the country
        ("9 8765 4321", "CL"): "+56987654321",
        ("011 4321-5678", "AR"): "+541143215678",
        ("(11) 98765-4321", "BR"): "+5511987654321",
        ("555-0100", "MX"): None,
    },
    "normalize_person_name": {
        ("Juan P.", None): "juan p",
        ("  LUCÍA   GÓMEZ-ÑÚÑEZ ", None): "lucia gomez nunez",
    },
    "normalize_company_name": {
        ("Distribuciones Andinas S.A.S.", None): "distribuciones andinas",
        ("DISTRIBUCIONES ANDINAS SAS", None): "distribuciones andinas",
        ("Textiles del Sur Ltda.", None): "textiles del sur",
        ("Comercial Norte S.A.", None): "comercial norte",
        ("Viña Andes SpA", None): "vina andes",
        ("Ferretería Pampa S.R.L.", None): "ferreteria pampa",
        ("Abarrotes Lupita S.A. de C.V.", None): "abarrotes lupita",
        ("Sastrería Moderna", None): "sastreria moderna",
    },
    "name_initial_key": {
        ("Juan Pérez", None): "j perez",
        ("J. Perez", None): "j perez",
        ("Juan Carlos Pérez", None): "j perez",
        ("Madonna", None): None,
    },
    "normalize_city": {
        ("Bogotá D.C.", None): "bogota",
        ("BOGOTA, DC", None): "bogota",
        ("Santiago de Cali", None): "cali",
        ("Medellín", None): "medellin",
    },
}


def _literal(text: str | None) -> str:
    return "null::text" if text is None else "'" + text.replace("'", "''") + "'::text"


@pytest.fixture(scope="module")
def normalized(module_db) -> dict[tuple[str, str, str | None], object]:
    """Every case through its macro, in one `dbt show --inline` query."""
    selects = []
    for macro, cases in CASES.items():
        two_args = (macro.startswith("tax_id") or macro.endswith("_for_country")
                    or macro == "normalize_phone")
        call = f"{macro}('typed', 'country')" if two_args else f"{macro}('typed')"
        values = ", ".join(f"({_literal(typed)}, {_literal(country)})" for typed, country in cases)
        selects.append(
            f"select '{macro}' as macro, typed, country, ({{{{ {call} }}}})::text as normalized "
            f"from (values {values}) as cases (typed, country)"
        )
    result = run_dbt(["show", "--inline", " union all ".join(selects), "--limit", "-1", "--quiet"], module_db)
    table = result.result.results[0].agate_table
    return {(row["macro"], row["typed"], row["country"]): row["normalized"] for row in table.rows}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize(
    ("macro", "typed", "country", "expected"),
    [(macro, typed, country, expected) for macro, cases in CASES.items() for (typed, country), expected in cases.items()],
)
def test_normaliser(normalized, macro, typed, country, expected):
    assert normalized[(macro, typed, country)] == _text(expected)
