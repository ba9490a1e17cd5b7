{#
    Habeas Data (Ley 1581 de 2012): per customer and purpose, whether the person authorised
    Puente's business to process their data for it, which record of which system decided, and
    when. The one owner of the rule: dim_customers, the next-best-action and the activation
    engine read it here.

    Purposes (var `authorisation_purposes`) and the signals that speak for each:
      - marketing: every system's marketing consent (int_customer_records_unioned:
        `has_marketing_consent`, dated where the system dates it);
      - sales_follow_up and analytics: the authorisation to process the person's data
        (`has_processing_authorisation`, the CRM's legal basis).
    A revoked authorisation (false) is an opt-out of every purpose, marketing included.

    The rule is marketing consent's, for every purpose: the most restrictive recent signal
    wins. An opt-out anywhere stands unless a later opt-in in the same system overrides it
    (both dated by that system: an undated opt-out is never overridden, and among a person's
    records in one system one "no" is a no); an opt-in from one system never lifts another
    system's opt-out. Authorised when an opt-in exists and no opt-out stands; the deciding
    record is the most recent standing opt-out, else the most recent opt-in (by the signal's
    date). No signal at all is no authorisation.

    A signal's date is the one its source gives (`marketing_consent_at`: Shopify's, Odoo's),
    else when the warehouse first saw the record hold that signal, dated by the source's
    last-modified time on that build (int_customer_record_changes:
    `marketing_consent_changed_at`, `processing_authorisation_changed_at`): the CRM dates neither
    its marketing status nor its legal basis. Never the record's current last-modified time,
    which Puente's own writes move (churn scores on a CRM contact): a consent date must not be
    the moment Puente wrote to the record.

    Kept by customer (macros/customer_scope.sql): a night computes the customers whose records
    changed since the last build.
#}

with

-- the customers changed since the last build (macros/customer_scope.sql)
customer_records as (
    select * from {{ ref('int_customers_matched') }}
    where customer_id in ({{ customers_in_scope() }})
),

purposes as (
    select unnest(array{{ var('authorisation_purposes') | list }}::text[]) as purpose
),

signals as (
    select
        customer_id, record_key, source_system, 'marketing' as purpose,
        has_marketing_consent as is_opt_in, marketing_consent_at as dated_at,
        marketing_consent_changed_at as seen_at
    from customer_records
    where has_marketing_consent is not null
    union all
    select
        customer_id, record_key, source_system, 'marketing' as purpose,
        false as is_opt_in, null::timestamptz as dated_at, processing_authorisation_changed_at as seen_at
    from customer_records
    where has_processing_authorisation = false
    union all
    select
        customer_records.customer_id, customer_records.record_key, customer_records.source_system,
        purposes.purpose, customer_records.has_processing_authorisation as is_opt_in,
        null::timestamptz as dated_at, customer_records.processing_authorisation_changed_at as seen_at
    from customer_records
    cross join purposes
    where customer_records.has_processing_authorisation is not null
        and purposes.purpose <> 'marketing'
),

weighed as (
    select
        customer_id,
        purpose,
        record_key,
        source_system,
        is_opt_in,
        coalesce(dated_at, seen_at) as signal_at,
        not is_opt_in
        and (
            dated_at is null
            or dated_at >= coalesce(
                max(dated_at) filter (where is_opt_in) over (partition by customer_id, purpose, source_system),
                '-infinity'
            )
        ) as is_standing_opt_out
    from signals
),

decided as (
    select
        customer_id,
        purpose,
        bool_or(is_opt_in) and not bool_or(is_standing_opt_out) as is_authorised,
        bool_or(is_standing_opt_out) as is_refused,
        coalesce(
            (array_agg(record_key order by signal_at desc nulls last, record_key) filter (where is_standing_opt_out))[1],
            (array_agg(record_key order by signal_at desc nulls last, record_key) filter (where is_opt_in))[1]
        ) as source_record_key,
        coalesce(
            (array_agg(source_system order by signal_at desc nulls last, record_key) filter (where is_standing_opt_out))[1],
            (array_agg(source_system order by signal_at desc nulls last, record_key) filter (where is_opt_in))[1]
        ) as source_system,
        coalesce(
            (array_agg(signal_at order by signal_at desc nulls last, record_key) filter (where is_standing_opt_out))[1],
            (array_agg(signal_at order by signal_at desc nulls last, record_key) filter (where is_opt_in))[1]
        ) as decided_at
    from weighed
    group by customer_id, purpose
),

customers as (
    select distinct customer_id from customer_records
),

final as (
    select
        customers.customer_id,
        purposes.purpose,
        coalesce(decided.is_authorised, false) as is_authorised,
        case
            when decided.is_authorised then 'authorised'
            when decided.is_refused then 'refused'
            else 'not_asked'
        end as status,
        decided.source_system,
        decided.source_record_key,
        decided.decided_at
    from customers
    cross join purposes
    left join decided
        on customers.customer_id = decided.customer_id
        and purposes.purpose = decided.purpose
)

select * from final
