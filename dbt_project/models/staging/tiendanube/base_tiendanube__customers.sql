{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('tiendanube', 'customers') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as customer_id,
        {{ field_value(fields, 'email') }} as email,
        {{ field_value(fields, 'name') }} as full_name,
        {{ field_value(fields, 'phone') }} as phone,
        {{ field_value(fields, 'billing_phone') }} as billing_phone,
        -- the document the checkout asks for: the cédula or NIT in Colombia, the CPF/CNPJ in Brazil
        {{ field_value(fields, 'identification') }} as tax_id,
        -- the street and the door's number are two fields of the form (`Calle 45` and `12-30`)
        nullif(concat_ws(' ', {{ field_value(fields, 'billing_address') }},
                         {{ field_value(fields, 'billing_number') }}), '') as street,
        {{ field_value(fields, 'billing_city') }} as city,
        {{ field_value(fields, 'billing_province') }} as state,
        upper({{ field_value(fields, 'billing_country') }}) as country_code,
        {{ safe_timestamptz(field_value(fields, 'created_at'), fields, 'created_at') }} as created_at,
        {{ safe_timestamptz(field_value(fields, 'updated_at'), fields, 'updated_at') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
