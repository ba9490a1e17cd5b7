{#
    What Puente could not do by itself and a person should: one row per activation row that
    could not be sent (`invalid`: a SKU the ERP does not know, a customer without a tax id) or
    that the target system refused (`failed`, with its error verbatim). A view over the
    activation engine's bookkeeping, so it is current the moment a run ends; rows leave it when
    they are sent, no longer asked for, or dropped by an operator (`puente activations drop`).
#}

{{ config(materialized='view') }}

with

issues as (
    select * from {{ ref('stg_ops__activation_issues') }}
),

customers as (
    select customer_id, full_name from {{ ref('dim_customers') }}
),

final as (
    select
        issues.activation,
        issues.row_key,
        issues.issue_kind,
        issues.reason,
        issues.context ->> 'what' as what,
        issues.customer_id,
        customers.full_name as customer_name,
        issues.attempts,
        -- refused on three runs or more: retrying alone will not fix it
        issues.issue_kind = 'failed' and issues.attempts >= 3 as needs_attention,
        issues.first_seen_at,
        issues.last_seen_at,
        (current_date - (issues.first_seen_at at time zone '{{ var("business_timezone") }}')::date) as days_waiting,
        issues.target_error,
        issues.context
    from issues
    left join customers
        on issues.customer_id = customers.customer_id
)

select * from final
