{#
    What the CRM write-back sends tonight: Puente's properties for every HubSpot contact of a
    scored customer, from the customer's latest churn score, kept only when the score or the
    risk band differs from what was last sent to that contact (`ops.crm_writeback`,
    status 'sent'). After a successful write-back the same night, a rebuild yields no rows.
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
        churn_probability,
        risk_band,
        scored_at
    from scores
    order by customer_id, scored_for_date desc, scored_at desc
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
        jsonb_build_object(
            'puente_churn_score', to_char(latest_scores.churn_probability, 'FM0.0000'),
            'puente_churn_risk', latest_scores.risk_band,
            'puente_scored_at', to_char(latest_scores.scored_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        ) as properties,
        latest_scores.scored_at
    from contacts
    inner join latest_scores
        on contacts.customer_id = latest_scores.customer_id
),

changed as (
    select contact_properties.*
    from contact_properties
    left join last_sent
        on contact_properties.hubspot_contact_id = last_sent.hubspot_contact_id
    where
        (contact_properties.properties ->> 'puente_churn_score', contact_properties.properties ->> 'puente_churn_risk')
        is distinct from
        (last_sent.properties ->> 'puente_churn_score', last_sent.properties ->> 'puente_churn_risk')
)

select * from changed
