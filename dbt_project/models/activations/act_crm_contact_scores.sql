{#
    What Puente's fields on each CRM contact (HubSpot's, or Salesforce's) should show: the churn score, its risk band and
    reasons, and the next-best-action, for every contact of a customer scored tonight (the
    latest scoring date). The activation engine sends a contact only when something a
    salesperson would notice changed (`compare`), measured against what the CRM shows now:
      - the score, by var `crm_score_change_threshold` or more;
      - the risk band, once the score has also moved by var `crm_band_change_margin` (a score
        wobbling around a band's edge does not flip the band every night);
      - the kinds of reason (the reasons with their figures masked and in any order: "no order
        in 178 days" and "…179 days" are the same reason);
      - the next action, or the product offered when the product the CRM shows can no longer
        be offered (out of stock or inactive): a recommender swapping one good product for
        another overnight is not news for a salesperson.
    The exact figures stay in ml.churn_scores and ml.next_best_actions. `compare` is what the CRM
    shows when nothing noticeable changed, and tonight's values when something did, so that
    what the engine books after sending is what the next night compares against.

    Contacts whose CRM still shows a score but whose customer was not scored tonight (no order
    in the scoring window) get their score fields cleared once, with a note saying why.
#}

{%- set threshold = var('crm_score_change_threshold') %}
{%- set band_margin = var('crm_band_change_margin') %}

with

scores as (
    select * from {{ ref('stg_ml__churn_scores') }}
),

latest_scores as (
    select distinct on (customer_id) *
    from scores
    where scored_for_date = (select max(scored_for_date) from scores)
    order by customer_id, scored_at desc
),

contacts as (
    select customer_id, source_record_id as crm_contact_id
    from {{ ref('int_customers_matched') }}
    where record_type in {{ crm_contact_record_types() }}
),

actions as (
    select
        actions.customer_id,
        actions.scored_for_date,
        actions.next_action,
        actions.next_action_reason,
        products.sku || ' · ' || products.product_name as next_action_product
    from {{ ref('stg_ml__next_best_actions') }} as actions
    left join {{ ref('dim_products') }} as products
        on actions.next_action_product_id = products.product_id
),

accepted as (
    select
        state.row_key as crm_contact_id,
        state.accepted_payload,
        -- the product the CRM shows can still be offered
        coalesce(products.stock_on_hand > 0 and products.is_active, false) as is_shown_product_offerable
    from {{ ref('stg_ops__activation_state') }} as state
    left join {{ ref('dim_products') }} as products
        on products.sku = split_part(state.accepted_payload ->> 'puente_next_action_product', ' · ', 1)
    where state.activation = 'crm_contact_scores'
),

scored as (
    select
        contacts.crm_contact_id,
        contacts.customer_id,
        -- Absent values are left out rather than sent empty, so the CRM keeps what it has.
        jsonb_strip_nulls(jsonb_build_object(
            'puente_churn_score', to_char(latest_scores.churn_probability, 'FM0.0000'),
            'puente_churn_risk', latest_scores.risk_band,
            'puente_churn_reasons', latest_scores.churn_reasons,
            'puente_next_action', actions.next_action,
            'puente_next_action_product', actions.next_action_product,
            'puente_next_action_reason', actions.next_action_reason,
            'puente_scored_at', to_char(latest_scores.scored_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        )) as payload,
        accepted.accepted_payload,
        accepted.is_shown_product_offerable,
        -- how far tonight's score is from the one the CRM shows (infinite when it shows none)
        case
            when {{ crm_shown('puente_churn_score') }} ~ '^[0-9]+(\.[0-9]+)?$'
                then abs(latest_scores.churn_probability - {{ crm_shown('puente_churn_score') }}::double precision)
            else 'infinity'::double precision
        end as score_moved_by
    from contacts
    inner join latest_scores
        on contacts.customer_id = latest_scores.customer_id
    left join actions
        on latest_scores.customer_id = actions.customer_id
        and latest_scores.scored_for_date = actions.scored_for_date
    left join accepted
        on contacts.crm_contact_id = accepted.crm_contact_id
),

noticed as (
    select
        *,
        accepted_payload is null
        or score_moved_by >= {{ threshold }}
        or (payload ->> 'puente_churn_risk' is distinct from {{ crm_shown('puente_churn_risk') }}
            and score_moved_by >= {{ band_margin }})
        or {{ reason_kinds("payload ->> 'puente_churn_reasons'") }}
            is distinct from {{ reason_kinds(crm_shown('puente_churn_reasons')) }}
        or payload ->> 'puente_next_action' is distinct from {{ crm_shown('puente_next_action') }}
        or (payload ->> 'puente_next_action_product' is distinct from {{ crm_shown('puente_next_action_product') }}
            and not (payload ->> 'puente_next_action' = 'offer_product' and is_shown_product_offerable))
        as is_noticeable
    from scored
),

-- contacts still showing a score from an earlier night whose customer is no longer scored
no_longer_scored as (
    select
        accepted.crm_contact_id,
        contacts.customer_id,
        jsonb_build_object(
            'puente_churn_score', '',
            'puente_churn_risk', '',
            'puente_churn_reasons', 'Not scored any more: no purchase in the scoring window',
            'puente_next_action', '',
            'puente_next_action_product', '',
            'puente_next_action_reason', '',
            'puente_scored_at', ''
        ) as payload
    from accepted
    left join contacts
        on accepted.crm_contact_id = contacts.crm_contact_id
    where
        coalesce(accepted.accepted_payload ->> 'puente_churn_risk', '') <> ''
        and not exists (select from scored where scored.crm_contact_id = accepted.crm_contact_id)
),

final as (
    select
        crm_contact_id as row_key,
        crm_contact_id as target_id,
        null::text as external_key,
        payload,
        -- unchanged for a salesperson: compare what the CRM shows, so the row stays unsent
        {{ crm_compared("(case when is_noticeable then payload else accepted_payload end)") }} as compare,
        null::timestamptz as observed_at,
        case when crm_contact_id in (select contact_id from {{ ref('int_crm_contacts') }} where crm_object = 'lead')
            then 'a Salesforce Lead: Puente''s fields are on Contacts; convert the lead in Salesforce to see them'
        end as invalid_reason,
        customer_id,
        null::jsonb as context
    from noticed

    union all

    select
        crm_contact_id,
        crm_contact_id,
        null::text,
        payload,
        payload,
        null::timestamptz,
        case when crm_contact_id in (select contact_id from {{ ref('int_crm_contacts') }} where crm_object = 'lead')
            then 'a Salesforce Lead: Puente''s fields are on Contacts; convert the lead in Salesforce to see them'
        end,
        customer_id,
        null::jsonb
    from no_longer_scored
)

select * from final
