{%- set checks = [] -%}

with

source as (
    select * from {{ source('odoo', 'res_partner') }}
),

renamed as (
    select
        source_id,
        {{ safe_id('source_id', checks, 'id', required=true) }} as partner_id,
        {{ odoo_text('name') }} as partner_name,
        {{ odoo_text('email') }} as email,
        {{ odoo_text('phone') }} as phone,
        {{ odoo_text('mobile') }} as mobile,
        {{ odoo_text('vat') }} as tax_id,
        {{ odoo_text('street') }} as street,
        {{ odoo_text('city') }} as city,
        {{ odoo_many2one_id('country_id', checks) }} as country_id,
        {{ odoo_many2one_name('country_id') }} as country_name,
        coalesce({{ odoo_boolean('is_company', checks) }}, false) as is_company,
        coalesce({{ odoo_number('customer_rank', checks) }}, 0)::integer as customer_rank,
        coalesce({{ odoo_boolean('active', checks) }}, true) as is_active,
        -- on the mass-mailing blacklist (the partner's email opted out); null when not read
        {{ odoo_boolean('is_blacklisted', checks) }} as is_blacklisted,
        {{ odoo_datetime('create_date', checks) }} as created_at,
        {{ odoo_datetime('write_date', checks) }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted,
        {{ data_issues(checks) }} as data_issues,
        {{ is_quarantined(checks) }} as is_quarantined
    from source
)

select * from renamed
