"""puente_review_decisions — an operator's answer to the customer review queue, from the UI.

``marts.customer_review_queue`` lists the pairs of customer records identity resolution is not
sure about. Trigger this DAG with its form ("Trigger DAG" in the Airflow UI): the two record keys
from the queue, the decision (the same customer, different customers, take one record out of its
customer, or revoke an earlier decision), who decides and why. The decision goes into
``ops.customer_match_overrides``, where it is kept forever, and the next night's build honours it;
the answer already in force on the pair is not written twice (the task's result says so). A revoke
undoes the pair's decisions, or with one record that record's split; or, given a decision's id
(`override_id`, the `record_id` by which marts.data_issues lists a decision whose key names no
record) and no record keys, that decision, even one whose keys are malformed.
Wiring only: the task calls ``puente.identity_review.record_decision``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from _puente import warehouse_url
from airflow.sdk import Param, dag, task

from puente.identity_review import RECORD_KEY


@dag(
    dag_id="puente_review_decisions",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["puente", "identity"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    params={
        "record_key": Param("", type="string", title="Record",
                            description="record_key from marts.customer_review_queue, e.g. odoo_partner:42"
                                        " (empty to revoke a decision by its id)",
                            pattern=f"^$|{RECORD_KEY.pattern}"),
        "other_record_key": Param("", type="string", title="Other record",
                                  description="other_record_key from the queue (empty for a split or to revoke a split)"),
        "decision": Param("same", type="string", title="Decision", enum=["same", "different", "split", "revoke"],
                          values_display={"same": "The same customer (merge)",
                                          "different": "Different customers (never merge these two)",
                                          "split": "Take the record out of its customer",
                                          "revoke": "Revoke the decisions on this pair (or this record's split)"}),
        "override_id": Param(None, type=["null", "integer"], title="Decision id (revoke only)",
                             description="override_id of the decision to revoke, instead of record keys: the"
                                         " record_id by which marts.data_issues lists a decision naming no record"),
        "decided_by": Param("", type="string", title="Decided by", minLength=1,
                            description="Your name: kept with the decision"),
        "reason": Param("", type="string", title="Reason", description="Why (shown in the evidence)"),
    },
    doc_md=__doc__,
)
def puente_review_decisions():
    @task
    def record_decision(params: dict | None = None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from puente.identity_review import InvalidDecision
        from puente.identity_review import record_decision as record

        params = params or {}
        try:
            return record(warehouse_url(), params.get("record_key") or "", params.get("other_record_key"),
                          params["decision"], params.get("reason"), params.get("decided_by"), params.get("override_id"))
        except InvalidDecision as error:  # the form's input: trying it again cannot help (retries are for the warehouse)
            raise AirflowFailException(str(error)) from None

    record_decision()


puente_review_decisions()
