{#
    One row per customer (a component of int_customers_matched), each field taken from its
    system of record (see `meta.system_of_record` in _marts__models.yml) and traced to the
    source record it came from in `<field>_source`.
#}

with

customer_records as (
    select * from {{ ref('int_customers_matched') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

-- Marketing consent and the other purposes the customer authorised: the most restrictive
-- recent signal of any system (the rule is customer_authorisations', its one owner).
authorisations as (
    select * from {{ ref('customer_authorisations') }}
),

consent as (
    select
        customer_id,
        bool_or(is_authorised) filter (where purpose = 'marketing') as has_marketing_consent,
        max(source_record_key) filter (where purpose = 'marketing') as has_marketing_consent_source,
        max(decided_at) filter (where purpose = 'marketing') as marketing_consent_at,
        coalesce(array_agg(purpose order by purpose) filter (where is_authorised), '{}') as authorised_purposes
    from authorisations
    group by customer_id
),

golden_records as (
    select
        customer_id,
        {{ owned_field('full_name') }},
        {{ owned_field('tax_id_normalized', name='tax_id') }},
        {{ owned_field('email_normalized', name='email') }},
        {{ owned_field('phone_normalized', name='phone') }},
        {{ owned_field('city') }},
        {{ owned_field('country_code') }},
        {%- for record_type in customer_record_types().values() %}
        coalesce(
            array_agg(source_record_id order by source_record_id) filter (where record_type = '{{ record_type }}'),
            '{}'
        ) as {{ record_type }}_ids,
        {%- endfor %}
        count(*) as source_record_count
    from customer_records
    group by customer_id
),

order_history as (
    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as lifetime_orders
    from orders
    group by customer_id
),

-- revenue is summed in the customer's main currency (most orders); amounts in other
-- currencies are not converted here
revenue_by_currency as (
    select
        customer_id,
        currency_code,
        sum(amount_total) as lifetime_revenue,
        row_number() over (
            partition by customer_id
            order by count(*) desc, sum(amount_total) desc, currency_code
        ) as currency_rank
    from orders
    group by customer_id, currency_code
),

final as (
    select
        golden_records.customer_id,
        golden_records.full_name,
        golden_records.full_name_source,
        golden_records.email,
        golden_records.email_source,
        golden_records.phone,
        golden_records.phone_source,
        golden_records.tax_id,
        golden_records.tax_id_source,
        golden_records.city,
        golden_records.city_source,
        golden_records.country_code,
        golden_records.country_code_source,
        coalesce(consent.has_marketing_consent, false) as has_marketing_consent,
        consent.has_marketing_consent_source,
        consent.marketing_consent_at,
        coalesce(consent.authorised_purposes, '{}') as authorised_purposes,
        order_history.first_order_at,
        order_history.last_order_at,
        coalesce(order_history.lifetime_orders, 0) as lifetime_orders,
        coalesce(revenue_by_currency.lifetime_revenue, 0) as lifetime_revenue,
        coalesce(revenue_by_currency.currency_code, '{{ var("company_currency_code") }}') as currency_code,
        {%- for column in customer_id_columns().values() %}
        golden_records.{{ column }},
        {%- endfor %}
        golden_records.source_record_count
    from golden_records
    left join order_history
        on golden_records.customer_id = order_history.customer_id
    left join revenue_by_currency
        on golden_records.customer_id = revenue_by_currency.customer_id
        and revenue_by_currency.currency_rank = 1
    left join consent
        on golden_records.customer_id = consent.customer_id
)

select * from final
