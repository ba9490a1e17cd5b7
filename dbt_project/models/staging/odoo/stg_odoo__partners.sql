with

source as (
    select * from {{ source('odoo', 'res_partner') }}
),

renamed as (
    select
        source_id::bigint as partner_id,
        {{ odoo_text('name') }} as partner_name,
        {{ odoo_text('email') }} as email,
        {{ odoo_text('phone') }} as phone,
        {{ odoo_text('mobile') }} as mobile,
        {{ odoo_text('vat') }} as tax_id,
        {{ odoo_text('street') }} as street,
        {{ odoo_text('city') }} as city,
        {{ odoo_many2one_id('country_id') }} as country_id,
        {{ odoo_many2one_name('country_id') }} as country_name,
        coalesce({{ odoo_boolean('is_company') }}, false) as is_company,
        coalesce({{ odoo_number('customer_rank') }}, 0)::integer as customer_rank,
        coalesce({{ odoo_boolean('active') }}, true) as is_active,
        {{ odoo_datetime('create_date') }} as created_at,
        {{ odoo_datetime('write_date') }} as updated_at,
        _loaded_at as loaded_at,
        _deleted as is_deleted
    from source
)

select * from renamed
