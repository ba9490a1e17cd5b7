{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('mercadopago', 'payments') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as payment_id,
        lower({{ field_value(fields, 'status') }}) as payment_status,
        lower({{ field_value(fields, 'status_detail') }}) as status_detail,
        {{ field_value(fields, 'operation_type') }} as operation_type,
        {{ field_value(fields, 'payment_method_id') }} as payment_method,
        {{ field_value(fields, 'payment_type_id') }} as payment_type,
        upper({{ field_value(fields, 'currency_id') }}) as currency_code,
        {{ safe_numeric(field_value(fields, 'transaction_amount'), fields, 'transaction_amount', required=true) }} as amount,
        coalesce({{ safe_numeric(field_value(fields, 'transaction_amount_refunded'), fields, 'transaction_amount_refunded') }}, 0) as refunded_amount,
        -- the fees Mercado Pago kept (paid by the collector, the business), summed over fee_details
        (
            select coalesce(sum((charge ->> 'amount')::numeric), 0)
            from jsonb_array_elements(
                case when jsonb_typeof({{ field_value(fields, 'fee_details', json=true) }}) = 'array'
                    then {{ field_value(fields, 'fee_details', json=true) }} else '[]' end) as fee (charge)
            where
                (charge ->> 'amount') ~ '^\s*-?\d+(\.\d+)?\s*$'
                and coalesce(charge ->> 'fee_payer', 'collector') = 'collector'
        ) as fee_amount,
        {{ safe_numeric("(" ~ field_value(fields, 'transaction_details', json=true) ~ " ->> 'net_received_amount')", fields, 'transaction_details.net_received_amount') }} as net_received_amount,
        (
            select count(*)
            from jsonb_array_elements(
                case when jsonb_typeof({{ field_value(fields, 'refunds', json=true) }}) = 'array'
                    then {{ field_value(fields, 'refunds', json=true) }} else '[]' end) as refund (refunded)
        ) as refund_count,
        -- the latest refund's date (a date that is not one is left out)
        (
            select max((refunded ->> 'date_created')::timestamptz)
            from jsonb_array_elements(
                case when jsonb_typeof({{ field_value(fields, 'refunds', json=true) }}) = 'array'
                    then {{ field_value(fields, 'refunds', json=true) }} else '[]' end) as refund (refunded)
            where (refunded ->> 'date_created') like '____-__-__T%' and pg_input_is_valid(refunded ->> 'date_created', 'timestamptz')
        ) as last_refunded_at,
        {{ field_value(fields, 'external_reference') }} as external_reference,
        -- the order Mercado Pago itself names: a Mercado Libre sale's (type `mercadolibre`), whose
        -- payments the seller's account holds too
        lower(nullif(trim({{ field_value(fields, 'order', json=true) }} ->> 'type'), '')) as order_type,
        {{ safe_id("(" ~ field_value(fields, 'order', json=true) ~ " ->> 'id')", fields, 'order.id') }} as order_source_id,
        {{ field_value(fields, 'description') }} as description,
        lower(nullif(trim({{ field_value(fields, 'payer', json=true) }} ->> 'email'), '')) as payer_email,
        -- (kept as landed when sealed: a field key seals the payer's document, puente/field_crypto.py)
        {%- set id_type = "(" ~ field_value(fields, 'payer', json=true) ~ " -> 'identification') ->> 'type'" %}
        {%- set id_number = "(" ~ field_value(fields, 'payer', json=true) ~ " -> 'identification') ->> 'number'" %}
        case when {{ is_sealed(id_type) }} then {{ id_type }} else upper(nullif(trim({{ id_type }}), '')) end as payer_id_type,
        case when {{ is_sealed(id_number) }} then {{ id_number }}
            else nullif(regexp_replace(coalesce({{ id_number }}, ''), '\D', '', 'g'), '') end as payer_id_number,
        {{ safe_timestamptz(field_value(fields, 'date_created'), fields, 'date_created', required=true) }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'date_approved'), fields, 'date_approved') }} as approved_at,
        {{ safe_timestamptz(field_value(fields, 'money_release_date'), fields, 'money_release_date') }} as money_release_at,
        {{ safe_timestamptz(field_value(fields, 'date_last_updated'), fields, 'date_last_updated') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
