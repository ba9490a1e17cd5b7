{#
    One row per customer (a component of int_customers_matched), each field taken from its
    system of record (see `meta.system_of_record` in _marts__models.yml) and traced to the
    source record it came from in `<field>_source`.

    Kept by customer (macros/customer_scope.sql): a night computes the customers whose records
    changed since the last build, those of the orders fct_orders wrote since, those whose count of
    orders is not their row's (an order gone or moved to another customer), and those whose
    authorisations are not their row's (read from its own rows: incremental_only).
#}

with

-- the customers whose records changed since the last build (macros/customer_scope.sql)
changed_customers as (
    {{ customers_in_scope() }}
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

-- the customers to compute: their records changed, an order of theirs was written since the last
-- build, their count of orders or their authorisations are not what their row says
in_scope as (
    select customer_id from changed_customers
    {%- call incremental_only() %}
    union
    select customer_id from {{ ref('fct_orders') }}
    where refreshed_at > {{ kept_build_start() }} and customer_id is not null
    union
    select kept.customer_id
    from {{ this }} as kept
    left join (
        select customer_id, count(*) as orders from {{ ref('fct_orders') }}
        where not is_cancelled
        group by customer_id
    ) as order_counts
        on kept.customer_id = order_counts.customer_id
    where kept.lifetime_orders <> coalesce(order_counts.orders, 0)
    union
    select kept.customer_id
    from {{ this }} as kept
    left join consent
        on kept.customer_id = consent.customer_id
    where
        (kept.has_marketing_consent, kept.has_marketing_consent_source, kept.marketing_consent_at, kept.authorised_purposes)
        is distinct from
        (coalesce(consent.has_marketing_consent, false), consent.has_marketing_consent_source, consent.marketing_consent_at,
         coalesce(consent.authorised_purposes, '{}'))
    {%- endcall %}
),

-- each in-scope customer's orders by currency, one pass over the orders...
order_currencies as (
    select
        customer_id,
        currency_code,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as orders,
        sum(amount_total) as revenue
    from {{ ref('fct_orders') }}
    where not is_cancelled and customer_id in (select customer_id from in_scope)
    group by customer_id, currency_code
),

-- ...and over all of them; revenue is summed in the customer's main currency (most orders, then
-- most revenue); amounts in other currencies are not converted here
order_history as (
    select
        customer_id,
        min(first_order_at) as first_order_at,
        max(last_order_at) as last_order_at,
        sum(orders)::bigint as lifetime_orders,
        (array_agg(revenue order by orders desc, revenue desc, currency_code))[1] as lifetime_revenue,
        (array_agg(currency_code order by orders desc, revenue desc, currency_code))[1] as currency_code
    from order_currencies
    group by customer_id
),

customer_records as (
    select
        records.*,
        {{ email_slip('records.email_normalized') }} as is_email_slip
    from {{ ref('int_customers_matched') }} as records
    where records.customer_id in (select customer_id from in_scope)
),

golden_records as (
    select
        customer_id,
        {{ golden_fields() }},
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
        coalesce(order_history.lifetime_revenue, 0) as lifetime_revenue,
        coalesce(order_history.currency_code, '{{ var("company_currency_code") }}') as currency_code,
        {%- for column in customer_id_columns().values() %}
        golden_records.{{ column }},
        {%- endfor %}
        golden_records.source_record_count
    from golden_records
    left join order_history
        on golden_records.customer_id = order_history.customer_id
    left join consent
        on golden_records.customer_id = consent.customer_id
)

select * from final
