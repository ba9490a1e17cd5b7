with

source as (
    select * from {{ source('ops', 'activation_state') }}
),

renamed as (
    select
        activation,
        row_key,
        target_id,
        payload as accepted_payload,
        accepted_at
    from source
)

select * from renamed
