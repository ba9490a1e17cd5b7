with

source as (
    select * from {{ source('ops', 'activation_issues') }}
),

renamed as (
    select
        activation,
        row_key,
        kind as issue_kind,
        reason,
        target_error,
        customer_id,
        context,
        attempts,
        first_seen_at,
        last_seen_at
    from source
)

select * from renamed
