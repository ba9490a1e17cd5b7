{#
    What the CRM write-back sends tonight: Puente's properties for every HubSpot contact of a
    scored customer — the latest churn score, its risk band and reasons, and the customer's
    next-best-action with its product and reason — kept only when any of them differs from
    what was last sent to that contact (`ops.crm_writeback`, status 'sent'; the scoring time
    alone is not a change). After a successful write-back the same night, a rebuild yields no rows.
    Tagged `crm_sync`: the nightly main build excludes it; it is built after ML scoring with
    `dbt build --select tag:crm_sync`.
#}

{{ config(tags=['crm_sync']) }}

with

scores as (
    select * from {{ ref('stg_ml__churn_scores') }}
),

writebacks as (
    select * from {{ ref('stg_ops__crm_writebacks') }}
    where writeback_status = 'sent'
),

contacts as (
    select customer_id, source_record_id as hubspot_contact_id
    from {{ ref('int_customers_matched') }}
    where record_type = 'hubspot_contact'
),

latest_scores as (
    select distinct on (customer_id)
        customer_id,
        scored_for_date,
        churn_probability,
        risk_band,
        churn_reasons,
        scored_at
    from scores
    order by customer_id, scored_for_date desc, scored_at desc
),

actions as (
    select
        actions.customer_id,
        actions.scored_for_date,
        actions.next_action,
        actions.next_action_reason,
        products.sku || ' · ' || products.product_name as next_action_product
    from {{ ref('stg_ml__next_best_actions') }} as actions
    left join {{ ref('dim_products') }} as products
        on actions.next_action_product_id = products.product_id
),

last_sent as (
    select distinct on (hubspot_contact_id)
        hubspot_contact_id,
        properties
    from writebacks
    order by hubspot_contact_id, sent_at desc, writeback_id desc
),

contact_properties as (
    select
        contacts.hubspot_contact_id,
        contacts.customer_id,
        -- Absent values are left out rather than sent empty, so the CRM keeps what it has.
        jsonb_strip_nulls(jsonb_build_object(
            'puente_churn_score', to_char(latest_scores.churn_probability, 'FM0.0000'),
            'puente_churn_risk', latest_scores.risk_band,
            'puente_churn_reasons', latest_scores.churn_reasons,
            'puente_next_action', actions.next_action,
            'puente_next_action_product', actions.next_action_product,
            'puente_next_action_reason', actions.next_action_reason,
            'puente_scored_at', to_char(latest_scores.scored_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )) as properties,
        latest_scores.scored_at
    from contacts
    inner join latest_scores
        on contacts.customer_id = latest_scores.customer_id
    left join actions
        on latest_scores.customer_id = actions.customer_id
        and latest_scores.scored_for_date = actions.scored_for_date
),

changed as (
    select contact_properties.*
    from contact_properties
    left join last_sent
        on contact_properties.hubspot_contact_id = last_sent.hubspot_contact_id
    where
        contact_properties.properties - 'puente_scored_at'
        is distinct from
        last_sent.properties - 'puente_scored_at'
)

select * from changed
