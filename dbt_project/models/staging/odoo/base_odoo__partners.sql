{{ landed_staging_config() }}
{%- set fields = typed_fields() -%}

with

source as (
    select * from {{ source('odoo', 'res_partner') }}
    {{ landed_since_last_run() }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', fields, 'id', required=true) }} as partner_id,
        {{ odoo_text('name') }} as partner_name,
        {{ odoo_text('email') }} as email,
        {{ odoo_text('phone') }} as phone,
        {{ odoo_text('mobile') }} as mobile,
        {{ odoo_text('vat') }} as tax_id,
        {{ odoo_text('street') }} as street,
        {{ odoo_text('city') }} as city,
        {{ odoo_many2one_id(fields, 'country_id') }} as country_id,
        {{ odoo_many2one_name('country_id') }} as country_name,
        coalesce({{ odoo_boolean(fields, 'is_company') }}, false) as is_company,
        coalesce({{ odoo_number(fields, 'customer_rank') }}, 0)::integer as customer_rank,
        coalesce({{ odoo_boolean(fields, 'active') }}, true) as is_active,
        -- on the mass-mailing blacklist (the partner's email opted out); null when not read
        {{ odoo_boolean(fields, 'is_blacklisted') }} as is_blacklisted,
        {{ odoo_datetime(fields, 'create_date') }} as created_at,
        {{ odoo_datetime(fields, 'write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(fields) }} as data_issues
    from source
    {{ read_fields(fields) }}
)

select * from renamed
