"""Colombian compliance through the real dbt build and the marts gate: DIAN electronic invoices
(only accepted ones are issued; pending and rejected ones are listed and warned about) and the
fields the ERP needs to invoice a customer. A company outside Colombia gets neither.

The scenario (scenario.py) with Odoo's l10n_co_dian fields on its invoices:

- 401 (S00042, Juan, paid): accepted by the DIAN, with its CUFE;
- 402 (S00043, Distribuciones Andinas): sent on 2026-11-19, still pending;
- 403 (S00045, Carlos): rejected by the DIAN;
- 404, a credit note for Juan posted on 2026-11-20, never sent.

And customers missing fields: Carlos's partner has no tax id and no phone; Lucía's phone is
neither in the ERP nor in her CRM contact.
"""

from __future__ import annotations

import copy

import psycopg
import pytest
from psycopg.rows import dict_row
from scenario import SOURCES, load_raw

from expectations.gates import run_marts_gate
from puente.dbt import MAIN_BUILD_ARGS, run_dbt

AS_OF = "2026-11-21"
ON_AS_OF = {"PUENTE_AS_OF_DATE": AS_OF}  # the day the models measure from, as the nightly DAG gives it
CUFE = "a" * 96
REJECTION = "Regla: FAK24, Rechazo: El NIT del adquiriente no está inscrito en el RUT."
# The marts whose content depends on the company's country, rebuilt for a company elsewhere.
COUNTRY_MARTS = ["fct_order_to_cash", "order_to_cash_gaps", "einvoice_issues", "customer_required_fields_missing"]


def colombian_sources() -> dict:
    sources = copy.deepcopy(SOURCES)
    moves = {move["id"]: move for move in sources["odoo"]["account.move"]}
    moves[401].update(l10n_co_dian_state="invoice_accepted", l10n_co_edi_cufe_cude_ref=CUFE,
                      l10n_co_dian_document_ids=[{"id": 1, "state": "invoice_accepted", "datetime": "2026-11-02 10:01:00",
                                                  "message_json": {"status": "Procesado Correctamente.", "errors": []}}])
    moves[402].update(l10n_co_dian_state="invoice_pending", l10n_co_edi_cufe_cude_ref=False,
                      l10n_co_dian_document_ids=[{"id": 2, "state": "invoice_pending", "datetime": "2026-11-19 09:00:00",
                                                  "message_json": {"status": "Invoice is being processed by the DIAN."}}])
    sources["odoo"]["account.move"].append({
        **moves[402], "id": 403, "name": "INV/2026/00044", "partner_id": [102, "Carlos Gómez"],
        "invoice_origin": "S00045", "invoice_date": "2026-11-03", "invoice_date_due": "2026-12-03",
        "amount_total": 80000.0, "amount_residual": 80000.0, "l10n_co_dian_state": "invoice_rejected",
        # the DIAN's latest answer first (Odoo's order); an older, failed sending after it
        "l10n_co_dian_document_ids": [
            {"id": 4, "state": "invoice_rejected", "datetime": "2026-11-03 10:04:00", "message_json": {
                "status": "Documento con errores en campos mandatorios.",
                "errors": [REJECTION, "Regla: FAK51, Rechazo: El código de municipio no existe en DIVIPOLA."]}},
            {"id": 3, "state": "invoice_sending_failed", "datetime": "2026-11-03 10:01:00",
             "message_json": {"status": "The DIAN server did not respond."}}],
        "create_date": "2026-11-03 10:00:00", "write_date": "2026-11-03 10:05:00"})
    sources["odoo"]["account.move"].append({
        **moves[401], "id": 404, "name": "RINV/2026/00001", "move_type": "out_refund", "invoice_origin": False,
        "invoice_date": "2026-11-20", "amount_total": 10000.0, "amount_residual": 0.0,
        "l10n_co_dian_state": False, "l10n_co_edi_cufe_cude_ref": False, "l10n_co_dian_document_ids": [],
        "create_date": "2026-11-20 18:00:00", "write_date": "2026-11-20 18:00:00"})
    partners = {partner["id"]: partner for partner in sources["odoo"]["res.partner"]}
    partners[102].update(vat=False, phone=False)
    partners[103].update(mobile=False)
    (lucia,) = [c for c in sources["hubspot"]["contacts"] if c["id"] == "503"]
    lucia["properties"]["mobilephone"] = None
    return sources


def rows(url: str, sql: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def colombian_db(scratch_db):
    with scratch_db("test_colombia") as url:
        load_raw(url, colombian_sources())
        run_dbt(list(MAIN_BUILD_ARGS), url, env=ON_AS_OF)
        yield url


def test_dian_states_reach_staging(colombian_db):
    states = {r["invoice_id"]: (r["dian_state"], r["cufe"]) for r in rows(
        colombian_db, "select invoice_id, dian_state, cufe from staging.stg_odoo__invoices")}
    assert states == {401: ("invoice_accepted", CUFE), 402: ("invoice_pending", None),
                      403: ("invoice_rejected", None), 404: (None, None)}
    messages = {r["invoice_id"]: r["dian_message"] for r in rows(
        colombian_db, "select invoice_id, dian_message from staging.stg_odoo__invoices")}
    assert messages[401] == "Procesado Correctamente." and messages[404] is None
    assert messages[403].startswith("Documento con errores en campos mandatorios.: Regla: FAK24")


def test_only_invoices_the_dian_accepted_are_issued(colombian_db):
    stages = {r["order_name"]: r["stage"] for r in rows(colombian_db, "select * from marts.fct_order_to_cash")}
    # S00043's invoice is pending and S00045's rejected: both orders wait in the ERP
    assert stages == {"#1042": "paid", "S00043": "in_erp", "S00045": "in_erp", "#1044": "ordered",
                      "#1043": "cancelled"}
    run_dbt(["build", "--select", "order_to_cash_gaps"], colombian_db, env={"PUENTE_AS_OF_DATE": "2027-01-10"})
    try:
        gaps = {r["gap_type"] for r in rows(colombian_db, "select gap_type from marts.order_to_cash_gaps")}
        assert "invoice_unpaid_past_due" not in gaps  # 402 is not issued: it is on einvoice_issues instead
    finally:
        run_dbt(["build", "--select", "order_to_cash_gaps"], colombian_db, env=ON_AS_OF)


def test_einvoice_issues_lists_pending_and_rejected_invoices(colombian_db):
    issues = {r["invoice_name"]: r for r in rows(colombian_db, "select * from marts.einvoice_issues")}
    assert set(issues) == {"INV/2026/00043", "INV/2026/00044", "RINV/2026/00001"}
    pending, rejected, unsent = issues["INV/2026/00043"], issues["INV/2026/00044"], issues["RINV/2026/00001"]
    assert (unsent["dian_state"], unsent["days_pending"], unsent["move_type"]) == ("not_sent", 1, "out_refund")
    assert (pending["dian_state"], pending["days_pending"], pending["invoice_id"]) == ("invoice_pending", 2, 402)
    assert (rejected["dian_state"], rejected["days_pending"]) == ("invoice_rejected", 18)
    assert "rejected by the DIAN" in rejected["reason"] and "still being validated" in pending["reason"]
    # what the DIAN said: the rules a rejected invoice broke, from its latest DIAN document
    assert rejected["dian_message"] == ("Documento con errores en campos mandatorios.: " + REJECTION
                                        + "; Regla: FAK51, Rechazo: El código de municipio no existe en DIVIPOLA.")
    assert pending["dian_message"] == "Invoice is being processed by the DIAN."
    assert unsent["dian_message"] is None
    (carlos,) = rows(colombian_db, "select customer_id from marts.dim_customers where '102' = any(odoo_partner_ids)")
    assert rejected["customer_id"] == carlos["customer_id"]


def test_required_fields_missing_name_the_system_to_fix_them_in(colombian_db):
    missing = {(r["display_name"], r["field"]): r for r in rows(
        colombian_db, "select * from marts.customer_required_fields_missing")}
    # the guest of web order #1044 is not on it: a guest's invoice goes to the final consumer
    assert set(missing) == {("Carlos Gómez", "tax_id"), ("Carlos Gómez", "phone"), ("LUCÍA  GÓMEZ", "phone")}
    assert {key: (r["system"], r["fix_in"], r["fix_record_id"]) for key, r in missing.items()} == {
        ("Carlos Gómez", "tax_id"): ("odoo", "odoo", "102"),  # the ERP owns the tax id
        ("Carlos Gómez", "phone"): ("odoo", "odoo", "102"),  # the CRM owns phones, but Carlos is not in it
        ("LUCÍA  GÓMEZ", "phone"): ("odoo", "hubspot", "503"),  # her CRM contact is where phones belong
    }


def test_the_marts_gate_warns_without_failing(colombian_db):
    result = run_marts_gate(colombian_db, AS_OF).raise_for_failure()
    warned = {check["table"]: check for check in result.warnings}
    assert set(warned) == {"marts.einvoice_issues", "marts.customer_required_fields_missing"}
    invoices = warned["marts.einvoice_issues"]
    assert invoices["unexpected_count"] == 2  # not the credit note posted yesterday
    assert {example["invoice_name"] for example in invoices["examples"]} == {"INV/2026/00043", "INV/2026/00044"}
    assert warned["marts.customer_required_fields_missing"]["unexpected_count"] == 2  # Carlos and Lucía


def test_an_invoice_pending_since_yesterday_and_accepted_ones_do_not_warn(colombian_db):
    run_dbt(["build", "--select", "einvoice_issues"], colombian_db, env={"PUENTE_AS_OF_DATE": "2026-11-20"})
    try:
        result = run_marts_gate(colombian_db, "2026-11-20")
        (warned,) = [check for check in result.warnings if check["table"] == "marts.einvoice_issues"]
        # INV/2026/00043 was sent the day before: listed, not warned about; INV/2026/00042 accepted
        assert [example["invoice_name"] for example in warned["examples"]] == ["INV/2026/00044"]
        listed = {r["invoice_name"]: r["days_pending"] for r in rows(colombian_db, "select * from marts.einvoice_issues")}
        assert listed == {"INV/2026/00043": 1, "INV/2026/00044": 17, "RINV/2026/00001": 0}
    finally:
        run_dbt(["build", "--select", "einvoice_issues"], colombian_db, env=ON_AS_OF)


def test_a_company_outside_colombia_gets_neither(colombian_db):
    """The same invoices and customers for a company in Argentina: invoices count when posted,
    no DIAN list, no required fields, no warnings."""
    run_dbt(["build", "--select", *COUNTRY_MARTS, "--vars", "{default_country_code: AR}"], colombian_db, env=ON_AS_OF)
    try:
        stages = {r["order_name"]: r["stage"] for r in rows(colombian_db, "select * from marts.fct_order_to_cash")}
        assert (stages["S00043"], stages["S00045"]) == ("invoiced", "invoiced")
        assert rows(colombian_db, "select * from marts.einvoice_issues") == []
        assert rows(colombian_db, "select * from marts.customer_required_fields_missing") == []
        assert run_marts_gate(colombian_db, AS_OF).raise_for_failure().warnings == []
    finally:
        run_dbt(["build", "--select", *COUNTRY_MARTS], colombian_db, env=ON_AS_OF)
