{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('woocommerce', 'customers') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as customer_id,
        {{ field_value(fields, 'email') }} as email,
        {{ field_value(fields, 'first_name') }} as first_name,
        {{ field_value(fields, 'last_name') }} as last_name,
        nullif(concat_ws(' ', {{ field_value(fields, 'first_name') }}, {{ field_value(fields, 'last_name') }}), '') as full_name,
        {{ field_value(fields, 'username') }} as username,
        {{ field_value(fields, 'role') }} as customer_role,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'email'), '') as billing_email,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'phone'), '') as phone,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'company'), '') as company_name,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'address_1'), '') as street,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'city'), '') as city,
        nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'state'), '') as state,
        upper(nullif(trim({{ field_value(fields, 'billing', json=true) }} ->> 'country'), '')) as country_code,
        {{ safe_boolean(field_value(fields, 'is_paying_customer'), fields, 'is_paying_customer') }} as is_paying_customer,
        {{ safe_gmt_timestamp(field_value(fields, 'date_created_gmt'), fields, 'date_created_gmt') }} as created_at,
        {{ safe_gmt_timestamp(field_value(fields, 'date_modified_gmt'), fields, 'date_modified_gmt') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
