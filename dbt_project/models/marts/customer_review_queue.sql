{#
    The pairs of customer records identity resolution is not sure about (decision 'review' in
    intermediate.int_customer_match_evidence: a match weight between var identity_review_weight
    and var identity_merge_weight), for a person to decide, the most likely match first. A pair
    whose records already belong to one customer through other evidence is left out (nothing to
    decide), and so is any pair a person has decided (ops.customer_match_overrides).

    Deciding: `same` inserts a 'merge', `different` a 'distinct' into
    ops.customer_match_overrides, with SQL or from the Airflow UI (DAG puente_review_decisions);
    decisions are kept forever (revoke one with is_revoked = true) and the next night honours
    them: the pair leaves this queue.
#}

with

evidence as (
    select * from {{ ref('int_customer_match_evidence') }}
    where decision = 'review'
),

matched as (
    select * from {{ ref('int_customers_matched') }}
),

final as (
    select
        evidence.evidence_id as review_id,
        evidence.record_key,
        evidence.linked_record_key as other_record_key,
        a.customer_id,
        b.customer_id as other_customer_id,
        evidence.score as match_probability,
        evidence.match_weight,
        evidence.rule as strongest_comparison,
        evidence.matched_on,
        evidence.explanation,
        a.full_name,
        b.full_name as other_full_name,
        a.email_normalized as email,
        b.email_normalized as other_email,
        a.phone_normalized as phone,
        b.phone_normalized as other_phone,
        a.tax_id,
        b.tax_id as other_tax_id,
        a.city,
        b.city as other_city,
        a.updated_at,
        b.updated_at as other_updated_at
    from evidence
    inner join matched as a on evidence.record_key = a.record_key
    inner join matched as b on evidence.linked_record_key = b.record_key
    where a.customer_id <> b.customer_id
)

select * from final
order by match_weight desc, review_id
