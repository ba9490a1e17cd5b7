with

source as (
    select * from {{ source('ops', 'crm_writeback') }}
),

renamed as (
    select
        writeback_id,
        batch_id,
        hubspot_contact_id,
        properties,
        status as writeback_status,
        error as error_message,
        sent_at
    from source
)

select * from renamed
