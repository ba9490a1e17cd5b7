"""puente_erasure — erase a data subject (Habeas Data, Ley 1581 de 2012), from the UI.

Trigger this DAG with its form ("Trigger DAG" in the Airflow UI): one identifier of the person
(e-mail, phone, tax id or customer id), who requested the erasure and the request's reference.
An identifier several customers carry (an office landline, a family's e-mail) fails the run with
their customer ids, unless "Erase every customer carrying it" (``all_matching``) is ticked.
Puente clears the fields it wrote on the person's CRM contacts (through the CRM's connection),
removes their personal data from raw and from every table built from it, and keeps a tombstone
in ``ops.erasures``; the next nights do not bring the person back from the sources' old records
(see ``puente/erasure.py``). A request for someone already erased fails the run saying which
erasure removed them and when, and writes nothing. Wiring only: the task calls
``puente.erasure.erase``.
"""

from __future__ import annotations

import pendulum
from _puente import field_keys, record_run_finished, record_run_started, source_config, warehouse_url
from airflow.sdk import Param, dag, task


@dag(
    dag_id="puente_erasure",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["puente", "habeas-data"],
    params={
        "identified_by": Param("email", type="string", title="Identify the person by",
                               enum=["email", "phone", "tax_id", "customer_id"]),
        "identifier": Param("", type="string", title="Identifier", minLength=3,
                            description="The e-mail, phone, cédula/NIT or customer id (marts.dim_customers)"),
        "requested_by": Param("", type="string", title="Requested by", minLength=1,
                              description="Who asked for the erasure: kept in the tombstone"),
        "reason": Param("", type="string", title="Reference", description="The request's reference or reason"),
        "all_matching": Param(False, type="boolean", title="Erase every customer carrying it",
                              description="An e-mail, phone or tax id several customers carry (an office landline, "
                                          "a family's e-mail) is refused, with their customer ids to check: tick "
                                          "this to erase them all, or erase one by its customer id"),
    },
    doc_md=__doc__,
)
def puente_erasure():
    @task
    def erase_subject(params: dict | None = None) -> dict:
        from dataclasses import asdict

        from puente import erasure
        from puente.sources import registry

        params = params or {}
        record_run_started()  # the audit: who triggered the erasure in Airflow (ops.dag_runs)
        try:
            crm = erasure.crm_system()
            writer = registry.build_writer(crm, source_config(crm)) if crm else None
            result = erasure.erase(warehouse_url(), requested_by=params["requested_by"],
                                   reason=params.get("reason") or None, crm_writer=writer, field_keys=field_keys(),
                                   all_matching=bool(params.get("all_matching", False)),
                                   **{params["identified_by"]: params["identifier"]})
        except BaseException:
            record_run_finished("failed")
            raise
        record_run_finished("success")
        return asdict(result)

    erase_subject()


puente_erasure()
