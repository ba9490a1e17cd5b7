{#
    Why records are (or are not) the same customer: one row per scored candidate pair
    (int_customer_pairs_scored), per operator merge of a pair nobody scored, and per doubtful
    tax id. int_customer_clusters closes the rows whose `decision` is 'merge' transitively: every
    merge of int_customers_matched is explained by a row here.

      - `decision`: 'merge' (match weight at least var identity_merge_weight, or an operator's
        'merge'), 'review' (between the two thresholds: marts.customer_review_queue asks a
        person), 'apart' (below var identity_review_weight, or an operator's 'distinct'), 'flag'
        (a doubtful tax id: a row about one record, linked_record_key = record_key).
      - `rule`: the comparison that weighed most (`email`, `phone`, `tax_id`, `name`,
        `address`, `web_order`: a web order or an order a ticket cites), `operator_merge` / `operator_distinct` when a person decided the pair,
        `doubtful_tax_id` for a flag.
      - `matched_on`: the values the pair shares; `explanation`: every comparison with its level
        and weight in bits (the prior included), or the operator's name and reason;
        `score`: the match probability; `match_weight`: its log2 odds.
      - `conflict`: what says the pair's two records are two people: the scored pair's own
        comparisons (`tax_id`, `surname`, `phone_and_door`: int_customer_pairs_scored), or
        `operator_distinct` (a person said so). A pair with a conflict that does not merge is
        one int_customer_clusters never joins through other links.
    Operator decisions (ops.customer_match_overrides, not revoked): the latest 'merge' or
    'distinct' of a pair wins over the score, night after night.
#}

with

pairs as (
    select * from {{ ref('int_customer_pairs_scored') }}
),

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

overrides as (
    select * from {{ ref('stg_ops__customer_match_overrides') }}
    where not is_revoked
),

-- the latest decision a person made about each pair
decided_pairs as (
    select distinct on (1, 2)
        least(record_key, other_record_key) as record_key,
        greatest(record_key, other_record_key) as other_record_key,
        action,
        concat_ws(': ', decided_by, reason) as decided
    from overrides
    where action in ('merge', 'distinct') and other_record_key is not null and record_key <> other_record_key
    order by 1, 2, decided_at desc, override_id desc
),

scored_evidence as (
    select
        pairs.record_key,
        pairs.other_record_key as linked_record_key,
        case decided_pairs.action
            when 'merge' then 'operator_merge'
            when 'distinct' then 'operator_distinct'
            else pairs.strongest_comparison
        end as rule,
        case decided_pairs.action
            when 'merge' then 'merge'
            when 'distinct' then 'apart'
            else pairs.decision
        end as decision,
        pairs.matched_on,
        pairs.match_probability as score,
        pairs.match_weight,
        case decided_pairs.action
            when 'merge' then null
            when 'distinct' then 'operator_distinct'
            else pairs.conflict
        end as conflict,
        concat_ws(' | ', 'operator ' || decided_pairs.action || ' (' || decided_pairs.decided || ')', pairs.explanation) as explanation
    from pairs
    left join decided_pairs
        on pairs.record_key = decided_pairs.record_key
        and pairs.other_record_key = decided_pairs.other_record_key
),

operator_merges as (
    select
        decided_pairs.record_key,
        decided_pairs.other_record_key as linked_record_key,
        'operator_merge' as rule,
        'merge' as decision,
        decided_pairs.decided as matched_on,
        1.0::numeric as score,
        null::numeric as match_weight,
        null::text as conflict,
        'operator merge (' || decided_pairs.decided || ')' as explanation
    from decided_pairs
    inner join records as a on decided_pairs.record_key = a.record_key
    inner join records as b on decided_pairs.other_record_key = b.record_key
    left join pairs
        on decided_pairs.record_key = pairs.record_key
        and decided_pairs.other_record_key = pairs.other_record_key
    where decided_pairs.action = 'merge' and pairs.record_key is null
),

doubtful_tax_ids as (
    select
        record_key,
        record_key as linked_record_key,
        'doubtful_tax_id' as rule,
        'flag' as decision,
        'tax id ' || tax_id as matched_on,
        null::numeric as score,
        null::numeric as match_weight,
        null::text as conflict,
        format(
            'tax id %s fails its check digit%s: not a key; a pair whose digits agree, or whose valid id is '
            'these digits with two neighbours swapped, scores it as doubtful',
            tax_id,
            coalesce(' (' || tax_id_corrected || ' would be valid)', '')
        ) as explanation
    from records
    where tax_id_is_valid = false
),

evidence as (
    select * from scored_evidence
    union all
    select * from operator_merges
    union all
    select * from doubtful_tax_ids
),

final as (
    select
        md5(record_key || '|' || linked_record_key || '|' || rule) as evidence_id,
        record_key,
        linked_record_key,
        rule,
        decision,
        matched_on,
        score,
        match_weight,
        conflict,
        explanation
    from evidence
)

select * from final
