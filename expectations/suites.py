"""What each gate checks: Great Expectations suites as code, bound to the table or query
they validate.

Every expectation carries ``meta["hint"]``: what the operator should look at when it fails.
``expectations.gates`` runs these targets and records the outcome.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import great_expectations as gx
from great_expectations import expectations as gxe

from puente.warehouse import RAW_OBJECTS

# Currencies an order may be in; override with PUENTE_CURRENCIES=COP,USD,... for a business
# that sells in others.
DEFAULT_CURRENCIES = ("COP", "USD", "EUR")
# Clock skew tolerated between the sources and the warehouse before an order is "in the future".
FUTURE_TOLERANCE = timedelta(hours=1)
# ERP partners + CRM contacts + shop customers one golden customer may merge before the marts
# gate calls it an over-merge; override with PUENTE_MAX_RECORDS_PER_CUSTOMER.
DEFAULT_MAX_RECORDS_PER_CUSTOMER = 25
# The raw gate judges the night's quarantined records of an object against the greatest of the
# night's volume, the object's usual nightly volume (the median of its last nights) and this
# floor: one bad record of five on a quiet night is not a source gone wrong.
QUARANTINE_VOLUME_FLOOR = 100
USUAL_VOLUME_NIGHTS = 14
# Share of orders whose stage intervals must be non-negative (a negative one is a clock or time
# zone problem in a source, or an invoice dated before its order).
ORDER_TO_CASH_ORDERED_SHARE = 0.99
# Days an electronic invoice may wait for the DIAN's acceptance before the marts gate warns
# (the DIAN usually validates within a day; marts.einvoice_issues lists the ones waiting).
EINVOICE_PENDING_DAYS = 1


@dataclass(frozen=True)
class Target:
    """One suite and what it validates: ``table`` (``schema.table``), or ``query`` over it.

    ``key`` is the column that identifies a row in failure messages; ``shown`` are more columns
    the messages show beside it.
    """

    table: str
    key: str
    suite: gx.ExpectationSuite
    query: str | None = None
    shown: tuple[str, ...] = ()


def allowed_currencies() -> tuple[str, ...]:
    configured = os.environ.get("PUENTE_CURRENCIES", "")
    codes = tuple(code.strip().upper() for code in configured.split(",") if code.strip())
    return codes or DEFAULT_CURRENCIES


def property_options(name: str) -> tuple[str, ...]:
    """The options of one of Puente's HubSpot enumeration properties (the CRM writer's)."""
    from puente.sources.hubspot.writer import PUENTE_PROPERTIES

    return next(spec.options for spec in PUENTE_PROPERTIES if spec.name == name)


def max_records_per_customer() -> int:
    return int(os.environ.get("PUENTE_MAX_RECORDS_PER_CUSTOMER") or DEFAULT_MAX_RECORDS_PER_CUSTOMER)


def _suite(name: str, *expectations: gxe.Expectation) -> gx.ExpectationSuite:
    return gx.ExpectationSuite(name=name, expectations=list(expectations))


# --------------------------------------------------------------------------------------------
# Raw gate
# --------------------------------------------------------------------------------------------


def raw_table_target(table: str) -> Target:
    """Landing integrity of one raw table (``raw.odoo_res_partner``)."""
    connector = f"the connector that lands {table}"
    return Target(
        table=table,
        key="source_id",
        suite=_suite(
            f"raw_{table}",
            gxe.ExpectColumnValuesToNotBeNull(
                column="source_id",
                meta={"hint": f"{connector} wrote a row without the record's id; check its id mapping"},
            ),
            gxe.ExpectColumnValuesToBeUnique(
                column="source_id",
                meta={"hint": f"{table} should have source_id as primary key; check the table's DDL "
                              "(puente.warehouse.ensure_schema)"},
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="record",
                meta={"hint": f"{connector} landed an empty payload; such records belong in ops.quarantine"},
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="source_updated_at",
                meta={"hint": f"{connector} could not parse the record's updated-at; incremental "
                              "extraction depends on it. Look at the record's write_date/updatedAt/updated_at"},
            ),
        ),
    )


def quarantine_target(logical_date: date | None, max_share: float) -> Target:
    """Share of quarantined records per source object among the batches of ``logical_date``
    (the latest logical date in ops.load_batches when None), counted against the greatest of the
    night's volume, the object's usual nightly volume and QUARANTINE_VOLUME_FLOOR."""
    day = f"date '{logical_date.isoformat()}'" if logical_date else "(select max(logical_date) from ops.load_batches)"
    query = f"""
        select * from (
        with nights as (
            select
                batches.source,
                batches.object,
                batches.logical_date,
                sum(batches.rows_received) as rows_received,
                sum(coalesce(quarantined.rows_quarantined, 0)) as rows_quarantined
            from ops.load_batches as batches
            left join (
                select batch_id, count(*) as rows_quarantined
                from ops.quarantine
                group by batch_id
            ) as quarantined
                on batches.batch_id = quarantined.batch_id
            where batches.logical_date <= {day}
            group by batches.source, batches.object, batches.logical_date
        ),

        earlier as (
            select
                source,
                object,
                rows_received,
                row_number() over (partition by source, object order by logical_date desc) as nights_back
            from nights
            where logical_date < {day}
        ),

        usual as (
            select source, object, percentile_cont(0.5) within group (order by rows_received) as rows_usual
            from earlier
            where nights_back <= {USUAL_VOLUME_NIGHTS}
            group by source, object
        ),

        tonight as (
            select
                nights.source || '.' || nights.object as source_object,
                nights.rows_received,
                nights.rows_quarantined,
                greatest(nights.rows_received, round(usual.rows_usual)::bigint, {QUARANTINE_VOLUME_FLOOR},
                         nights.rows_quarantined) as judged_against
            from nights
            left join usual
                on nights.source = usual.source and nights.object = usual.object
            where nights.logical_date = {day}
        )

        select *, rows_quarantined::numeric / judged_against as quarantined_share
        from tonight
        ) as shares
    """
    return Target(
        table="ops.quarantine",
        query=query,
        key="source_object",
        shown=("rows_quarantined", "rows_received", "judged_against"),
        suite=_suite(
            "raw_quarantine",
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantined_share",
                min_value=0,
                max_value=max_share,
                meta={"hint": f"more than {max_share:.0%} of the records were quarantined, counted against "
                              "the greatest of the night's volume, the object's usual nightly volume (the "
                              f"median of its last {USUAL_VOLUME_NIGHTS} nights) and {QUARANTINE_VOLUME_FLOOR} "
                              "records (so a quiet night's few bad records do not stop it). Read "
                              "ops.quarantine.reason for those batches: a source changed its record shape, "
                              "or its simulator injects malformed records"},
            ),
        ),
    )


def raw_targets(non_empty_tables: set[str], logical_date: date | None, max_share: float) -> list[Target]:
    tables = [obj.qualified_table for obj in RAW_OBJECTS if obj.qualified_table in non_empty_tables]
    return [*(raw_table_target(table) for table in tables), quarantine_target(logical_date, max_share)]


# --------------------------------------------------------------------------------------------
# Marts gate
# --------------------------------------------------------------------------------------------


def marts_targets() -> list[Target]:
    latest = datetime.now(UTC) + FUTURE_TOLERANCE
    currencies = allowed_currencies()
    customers = _suite(
        "marts_dim_customers",
        gxe.ExpectTableRowCountToBeBetween(
            min_value=1,
            meta={"hint": "no customers were built: check that raw.* received rows tonight and that "
                          "dbt built int_customer_records_unioned"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="customer_id",
            meta={"hint": "a customer without id: see int_customers_matched"},
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="customer_id",
            meta={"hint": "two rows share a customer_id: dim_customers must group int_customers_matched "
                          "by customer_id"},
        ),
    )
    orders = _suite(
        "marts_fct_orders",
        gxe.ExpectColumnValuesToNotBeNull(
            column="order_id",
            meta={"hint": "an order without id: see fct_orders"},
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="order_id",
            meta={"hint": "one order is counted twice: look for a shop order matched by several ERP "
                          "sale orders (client_order_ref) or a duplicated raw record"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="customer_id",
            meta={"hint": "an order whose customer was not resolved: its partner or shop customer is "
                          "missing from int_customer_records_unioned"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="amount_total",
            min_value=0,
            meta={"hint": "a negative order total: look at the order in the ERP or the shop (a refund "
                          "entered as an order?) and at the raw record's total_price/amount_total"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="currency_code",
            meta={"hint": "an order without currency: check the sale order's currency_id or the shop "
                          "order's currency"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="currency_code",
            value_set=list(currencies),
            meta={"hint": f"an order in a currency outside {', '.join(currencies)}: fix the source, or "
                          "set PUENTE_CURRENCIES if the business now sells in it"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="ordered_at",
            max_value=latest,
            meta={"hint": "an order dated in the future: check the source's clock and time zone (Odoo "
                          "datetimes are UTC without zone; Shopify's carry an offset)"},
        ),
    )
    most_records = max_records_per_customer()
    customers.expectations.append(
        gxe.ExpectColumnValuesToBeBetween(
            column="named_records",
            max_value=most_records,
            meta={"hint": f"one customer merges more than {most_records} ERP partners, CRM contacts and shop "
                          "customers: a key many people share slipped through the identity guards. Read "
                          "intermediate.int_customer_match_evidence for its records, split the wrong ones in "
                          "ops.customer_match_overrides, or raise PUENTE_MAX_RECORDS_PER_CUSTOMER if it is real"},
        )
    )
    lines = _suite(
        "marts_fct_order_lines",
        gxe.ExpectColumnValuesToBeUnique(
            column="order_line_id",
            meta={"hint": "one order line is counted twice: see fct_order_lines (an order with both its ERP "
                          "and its shop lines?)"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="product_id",
            meta={"hint": "a line without product: its ERP line has no product_id, or the shop line neither "
                          "SKU nor variant; demand forecasts would lose it"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="quantity",
            min_value=0,
            strict_min=True,
            meta={"hint": "a line with zero or negative quantity: a return entered as a sale line? Look at the "
                          "sale order line (product_uom_qty) or the shop line item"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="amount",
            min_value=0,
            meta={"hint": "a negative line amount: a discount line or a refund entered as a sale; look at the "
                          "line's price_subtotal / price in the source"},
        ),
    )
    order_to_cash = _suite(
        "marts_fct_order_to_cash",
        *(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=0,
                mostly=ORDER_TO_CASH_ORDERED_SHARE,
                meta={"hint": f"{what}: check the source's clock and time zone (Odoo datetimes are UTC "
                              "without zone, Shopify's carry an offset) and the dates typed in the ERP"},
            )
            for column, what in (
                ("days_to_erp", "sale orders entered in the ERP before their web order was placed"),
                ("days_to_invoice", "invoices dated before their order"),
                ("days_to_payment", "payments dated before their invoice"),
            )
        ),
    )
    einvoices = _suite(
        "marts_einvoice_issues",
        gxe.ExpectColumnValuesToBeBetween(
            column="days_pending",
            max_value=EINVOICE_PENDING_DAYS,
            meta={"severity": "warn",
                  "hint": f"invoices the DIAN has not accepted for more than {EINVOICE_PENDING_DAYS} day: they "
                          "are not issued yet (order-to-cash leaves them out). marts.einvoice_issues says why "
                          "(reason): fix and send them again from Odoo (Send & Print)"},
        ),
    )
    required_fields = _suite(
        "marts_customer_required_fields_missing",
        gxe.ExpectColumnValuesToBeBetween(
            column="missing_fields",
            max_value=0,
            meta={"severity": "warn",
                  "hint": "customers missing a field the law of the company's country requires (Colombia: "
                          "cédula or NIT, city, phone of whom the ERP invoices): "
                          "marts.customer_required_fields_missing lists each field and the system to fix it "
                          "in (fix_in)"},
        ),
    )
    return [
        # named_records: the records in every source's id array (``<record kind>_ids``, made by dbt's
        # macro customer_record_types), whichever sources the warehouse has.
        Target(table="marts.dim_customers", key="customer_id", suite=customers, query="""
            select
                customer_id,
                (select coalesce(sum(jsonb_array_length(ids.value)), 0)
                 from jsonb_each(to_jsonb(c)) as ids
                 where right(ids.key, 4) = '_ids' and jsonb_typeof(ids.value) = 'array') as named_records
            from marts.dim_customers as c"""),
        Target(table="marts.fct_orders", key="order_id", suite=orders),
        Target(table="marts.fct_order_lines", key="order_line_id", suite=lines),
        Target(table="marts.fct_order_to_cash", key="order_id", suite=order_to_cash),
        Target(table="marts.einvoice_issues", key="invoice_name", suite=einvoices,
               shown=("dian_state", "days_pending")),
        Target(table="marts.customer_required_fields_missing", key="customer_id", suite=required_fields,
               shown=("missing",), query="""
            select customer_id, count(*) as missing_fields, string_agg(field || ' in ' || fix_in, ', '
                                                                        order by field) as missing
            from marts.customer_required_fields_missing
            group by customer_id"""),
    ]


# --------------------------------------------------------------------------------------------
# Sync gate
# --------------------------------------------------------------------------------------------

def activation_targets(activations: list | None = None) -> list[Target]:
    """Every activation model (puente.activation): a key per row and a payload, plus the checks of
    what is about to be written to the CRM's score fields."""
    from puente.activation.spec import load_activations

    targets = []
    for activation in load_activations() if activations is None else activations:
        hint = f"look at the dbt model {activation.model} (dbt_project/models/activations)"
        suite = _suite(
            f"activation_{activation.name}",
            gxe.ExpectColumnValuesToNotBeNull(column="row_key", meta={"hint": f"a row without a key: {hint}"}),
            gxe.ExpectColumnValuesToBeUnique(column="row_key",
                                             meta={"hint": f"two rows for one target record: {hint}"}),
            gxe.ExpectColumnValuesToNotBeNull(column="payload", meta={"hint": f"a row with nothing to send: {hint}"}),
        )
        targets.append(Target(table=activation.relation, key="row_key", suite=suite))
        if activation.name == "crm_contact_scores":
            targets.append(_crm_score_target(activation.relation))
    return targets


def _crm_score_target(relation: str) -> Target:
    """The score fields a salesperson reads: a probability, a known band and action. Empty values
    clear the fields of a customer who is no longer scored."""
    scoring = "the churn scoring job's output in ml.churn_scores (model_run_id, churn_probability, risk_band)"
    risk_bands, actions = property_options("puente_churn_risk"), property_options("puente_next_action")
    query = rf"""
        select
            row_key as crm_contact_id,
            payload ->> 'puente_churn_score' as churn_score,
            case
                when payload ->> 'puente_churn_score' ~ '^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$'
                    then (payload ->> 'puente_churn_score')::double precision
            end as churn_score_value,
            payload ->> 'puente_churn_risk' as churn_risk,
            payload ->> 'puente_next_action' as next_action,
            payload ->> 'puente_scored_at' as scored_at,
            payload ->> 'puente_churn_risk' = '' as is_cleared
        from {relation}
    """
    suite = _suite(
        "activation_crm_contact_scores_fields",
        gxe.ExpectColumnValuesToNotBeNull(
            column="churn_score", meta={"hint": f"puente_churn_score is missing: look at {scoring}"}),
        gxe.ExpectColumnValuesToMatchRegex(
            column="churn_score", regex=r"^(\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*)?$",
            meta={"hint": f"puente_churn_score is not a number: look at {scoring}"}),
        gxe.ExpectColumnValuesToBeBetween(
            column="churn_score_value", min_value=0, max_value=1,
            meta={"hint": f"puente_churn_score outside [0, 1] is not a probability: look at {scoring}; "
                          "nothing is written to HubSpot until it is fixed"}),
        gxe.ExpectColumnValuesToNotBeNull(
            column="churn_risk", meta={"hint": f"puente_churn_risk is missing: look at {scoring}"}),
        gxe.ExpectColumnValuesToBeInSet(
            column="churn_risk", value_set=[*risk_bands, ""],
            meta={"hint": f"puente_churn_risk must be one of {', '.join(risk_bands)} (the HubSpot "
                          f"enumeration's options), or empty to clear it: look at {scoring}"}),
        gxe.ExpectColumnValuesToBeInSet(
            column="next_action", value_set=[*actions, ""],
            meta={"hint": f"puente_next_action must be one of {', '.join(actions)} (the HubSpot enumeration's "
                          "options): look at the next-best-action job's output in ml.next_best_actions"}),
        gxe.ExpectColumnValuesToNotBeNull(
            column="scored_at", meta={"hint": f"puente_scored_at is missing: look at {scoring}"}),
    )
    return Target(table=relation, query=query, key="crm_contact_id", suite=suite)
