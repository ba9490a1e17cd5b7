{#
    The work list of customers a system cannot serve as the law of the company's country asks
    (var `default_country_code`): one row per customer and required field missing. The rules
    are declared per country and system in seeds/required_customer_fields.csv (Colombia: the
    cédula or NIT, city and phone of every customer the ERP must invoice).

    Which customers a rule of the ERP (`odoo`) covers: those with an ERP partner (the ERP
    invoices them) and those with a live order still to invoice (stage `ordered` or `in_erp`
    in fct_order_to_cash) who have a record somewhere (a CRM contact, a shop account). A guest's
    web order (an email and nothing else) is invoiced to the final consumer ("consumidor final"
    in Colombia): there is no one to complete.

    A field is missing when the golden record (dim_customers) has no value for it from any
    system; a value one system holds and another lacks is for synchronisation, not for a person.
    `fix_in`: where a person should type it, from the field's systems of record
    (`meta.system_of_record` of dim_customers in _marts__models.yml): the first of them in which
    the customer has a record, else the system the rule is for; `fix_record_id` is that record.
#}

{%- set country = company_country_code() %}
{%- set id_columns = customer_id_columns() %}
{%- set fields = ['tax_id', 'city', 'phone', 'email'] %}

with

rules as (
    select system, field, requirement
    from {{ ref('required_customer_fields') }}
    where upper(country_code) = '{{ country }}'
),

customers as (
    select * from {{ ref('dim_customers') }}
),

to_invoice as (
    select distinct customer_id
    from {{ ref('fct_order_to_cash') }}
    where stage in ('ordered', 'in_erp') and customer_id is not null
),

covered as (
    select customers.customer_id, 'odoo' as system
    from customers
    where
        coalesce(cardinality(customers.odoo_partner_ids), 0) > 0
        or (
            customers.customer_id in (select customer_id from to_invoice)
            and (
                {%- for system, column in id_columns.items() if system != 'odoo' %}
                {{ "or " if not loop.first }}coalesce(cardinality(customers.{{ column }}), 0) > 0
                {%- endfor %}
            )
        )
),

field_values as (
    select customers.customer_id, field_values.field, field_values.value
    from customers
    cross join lateral (
        values
        {%- for field in fields %}
            ('{{ field }}', customers.{{ field }}::text){{ "," if not loop.last }}
        {%- endfor %}
    ) as field_values (field, value)
),

missing as (
    select
        customers.customer_id,
        customers.full_name as display_name,
        rules.system,
        rules.field,
        rules.requirement,
        case rules.field
        {%- for field in fields %}
            when '{{ field }}' then case
            {%- for system in systems_of_record('dim_customers', field) if system in id_columns %}
                when coalesce(cardinality(customers.{{ id_columns[system] }}), 0) > 0 then '{{ system }}'
            {%- endfor %}
            end
        {%- endfor %}
        end as owner_with_record,
        {%- for column in id_columns.values() %}
        customers.{{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from rules
    inner join covered
        on rules.system = covered.system
    inner join customers
        on covered.customer_id = customers.customer_id
    inner join field_values
        on
            customers.customer_id = field_values.customer_id
            and rules.field = field_values.field
    where nullif(trim(field_values.value), '') is null
),

final as (
    select
        md5(customer_id || ':' || system || ':' || field) as issue_id,
        customer_id,
        display_name,
        system,
        field,
        coalesce(owner_with_record, system) as fix_in,
        case coalesce(owner_with_record, system)
        {%- for system, column in id_columns.items() %}
            when '{{ system }}' then {{ column }}[1]
        {%- endfor %}
        end::text as fix_record_id,
        requirement,
        '{{ country }}'::text as country_code
    from missing
)

select * from final
