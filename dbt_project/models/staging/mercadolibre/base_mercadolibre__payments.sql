{{ landed_staging_config(pre_hook="{{ delete_relanded(source('mercadolibre', 'orders')) }}") }}
{%- set order = typed_fields('source.record', 'order_fields') -%}
{%- set fields = typed_fields('paid.payment', 'payment') -%}

{#
    One row per Mercado Pago payment of every landed sale (unnested from the order's `payments`),
    `payment_number` its position there; `source_id` is the order's. `amount` is what the buyer
    paid (`total_paid_amount`: the items and the shipping), `fee_amount` what Mercado Libre kept
    (`marketplace_fee`). A payment is quarantined when its id, its amount or its creation date
    cannot be read, or its order's id.
#}

with

source as (
    select * from {{ source('mercadolibre', 'orders') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source.source_id,
        paid.payment_number,
        {{ safe_id('source.source_id', fields, 'id', required=true) }} as order_id,
        {{ safe_id(field_value(fields, 'id'), fields, 'payments[].id', required=true) }} as payment_id,
        lower({{ field_value(fields, 'status') }}) as payment_status,
        lower({{ field_value(fields, 'status_detail') }}) as status_detail,
        {{ field_value(fields, 'payment_method_id') }} as payment_method,
        {{ field_value(fields, 'payment_type') }} as payment_type,
        upper(coalesce({{ field_value(fields, 'currency_id') }}, {{ field_value(order, 'currency_id') }})) as currency_code,
        {{ safe_numeric(field_value(fields, 'total_paid_amount'), fields, 'payments[].total_paid_amount', required=true) }} as amount,
        coalesce({{ safe_numeric(field_value(fields, 'transaction_amount_refunded'), fields, 'payments[].transaction_amount_refunded') }}, 0)
            as transaction_refunded_amount,
        coalesce({{ safe_numeric(field_value(fields, 'marketplace_fee'), fields, 'payments[].marketplace_fee') }}, 0) as fee_amount,
        {{ safe_timestamptz(field_value(fields, 'date_created'), fields, 'payments[].date_created', required=true) }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'date_approved'), fields, 'payments[].date_approved') }} as approved_at,
        {{ safe_timestamptz(field_value(fields, 'date_last_modified'), fields, 'payments[].date_last_modified') }} as updated_at,
        source._loaded_at as loaded_at,
        source._deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {%- set payments = field_value(order, 'payments', json=true) %}
    {{ read_fields(order) }}
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ payments }}) = 'array' then {{ payments }} else '[]'::jsonb end
    ) with ordinality as paid (payment, payment_number)
    {{ read_fields(fields) }}
)

select * from renamed
