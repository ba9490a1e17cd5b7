{#
    Purchases whose service falls due soon, by the date rules of var `service_rules` (kept in
    dbt_project.yml): each rule names the products it covers (`sku_like`, an SQL LIKE pattern on
    the SKU), how many days after the purchase the service is due, and how many days ahead the
    salesperson should hear of it (`lead_days`). One row per rule and order line due between
    today and today plus the rule's lead days, with the customer's CRM contact and its owner.
    Built with the activations (tag `activation`): it feeds the service tasks and the contacts'
    due-date field.
#}

{{ config(tags=['activation']) }}

{%- set as_of = as_of_date() %}

with

lines as (
    select
        lines.order_line_id,
        orders.order_id,
        orders.order_name,
        orders.customer_id,
        orders.order_date,
        products.sku,
        products.product_name
    from {{ ref('fct_order_lines') }} as lines
    inner join {{ ref('fct_orders') }} as orders
        on lines.order_id = orders.order_id
    inner join {{ ref('dim_products') }} as products
        on lines.product_id = products.product_id
    where not orders.is_cancelled and orders.customer_id is not null
),

due as (
    {%- for rule in var('service_rules') %}
    select
        '{{ rule.name }}' as rule_name,
        '{{ rule.subject }}' as rule_subject,
        lines.*,
        lines.order_date + {{ rule.days_after_purchase }} as due_date
    from lines
    where
        lines.sku like '{{ rule.sku_like }}'
        and lines.order_date + {{ rule.days_after_purchase }} between {{ as_of }} and {{ as_of }} + {{ rule.lead_days }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

customers as (
    -- crm_contact_id: the customer's CRM contact, HubSpot's or Salesforce's
    select customer_id, full_name, ({{ crm_contact_ids() }})[1] as crm_contact_id from {{ ref('dim_customers') }}
),

contacts as (
    select contact_id, owner_id from {{ ref('int_crm_contacts') }}
),

final as (
    select
        due.rule_name,
        due.rule_subject,
        due.order_line_id,
        due.order_name,
        due.customer_id,
        customers.full_name,
        due.sku,
        due.product_name,
        due.order_date as purchased_on,
        due.due_date,
        customers.crm_contact_id,
        contacts.owner_id
    from due
    inner join customers
        on due.customer_id = customers.customer_id
    left join contacts
        on customers.crm_contact_id = contacts.contact_id
)

select * from final
