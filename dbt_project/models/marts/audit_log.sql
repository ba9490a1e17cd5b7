{#
    Who changed what, and when, in one place: every run of Puente's DAGs with who triggered it,
    everything Puente writes (extractions into raw, activation runs into the systems) and
    everything an operator decides (identity review decisions, activation rows dropped,
    erasures). One row per event, newest first when read with `order by happened_at desc`.
    `actor` is the person for an operator's decision and for a run they triggered (Airflow's
    triggering user), `scheduler` for a scheduled run, and `puente` for what a run did by
    itself; the row-level detail stays in its own table (`detail_table`), e.g. every field an
    activation sent in ops.activation_audit.
#}

{{ config(materialized='view') }}

with

runs as (
    select
        started_at as happened_at,
        triggered_by as actor,
        'run' as action,
        dag_id || coalesce(' for ' || logical_date::text, '') as subject,
        outcome,
        jsonb_build_object('run_id', run_id, 'run_type', run_type, 'logical_date', logical_date,
                           'finished_at', finished_at, 'failed_tasks', failed_tasks) as detail,
        'ops.dag_runs' as detail_table
    from {{ source('ops', 'dag_runs') }}
),

extractions as (
    select
        started_at,
        'puente',
        'extract',
        source || '.' || object,
        status,
        jsonb_build_object('batch_id', batch_id, 'logical_date', logical_date, 'received', rows_received,
                           'inserted', rows_inserted, 'updated', rows_updated, 'quarantined', rows_quarantined,
                           'erased_skipped', rows_erased_skipped, 'message', message),
        'ops.load_batches'
    from {{ source('ops', 'load_batches') }}
),

activation_runs as (
    select
        finished_at,
        'puente',
        case when dry_run then 'activation dry run' else 'activation' end,
        activation || ' -> ' || target || ' ' || target_object,
        case when rows_failed > 0 then 'failed rows' else 'ok' end,
        jsonb_build_object('run_id', run_id, 'logical_date', logical_date, 'sent', rows_sent,
                           'created', rows_created, 'failed', rows_failed, 'invalid', rows_invalid,
                           'withheld', rows_withheld, 'message', message),
        'ops.activation_audit'
    from {{ source('ops', 'activation_runs') }}
),

drops as (
    select
        dropped_at,
        dropped_by,
        'activation rows dropped',
        activation || ' ' || row_key,
        'dropped',
        jsonb_build_object('reason', reason),
        'ops.activation_dropped'
    from {{ source('ops', 'activation_dropped') }}
),

review_decisions as (
    select
        decided_at,
        coalesce(decided_by, 'unknown'),
        'identity review: ' || action,
        record_key || coalesce(' / ' || other_record_key, ''),
        case
            when is_revoked then 'revoked'
            -- a later decision on the same pair stands instead (int_customer_match_evidence: the latest wins)
            when action in ('merge', 'distinct') and other_record_key is not null
                and override_id <> first_value(override_id) over (
                    partition by least(record_key, other_record_key), greatest(record_key, other_record_key),
                        action in ('merge', 'distinct'), is_revoked
                    order by decided_at desc, override_id desc)
                then 'overruled'
            else 'in force'
        end,
        jsonb_build_object('reason', reason),
        'ops.customer_match_overrides'
    from {{ ref('stg_ops__customer_match_overrides') }}
),

-- a decision revoked: who, when and why (revokes recorded before these columns existed have none)
review_revocations as (
    select
        revoked_at,
        coalesce(revoked_by, 'unknown'),
        'identity review: revoke ' || action,
        record_key || coalesce(' / ' || other_record_key, ''),
        'revoked',
        jsonb_build_object('reason', revoke_reason),
        'ops.customer_match_overrides'
    from {{ ref('stg_ops__customer_match_overrides') }}
    where revoked_at is not null
),

erasures as (
    select
        requested_at,
        requested_by,
        'erasure',
        'data subject identified by ' || array_to_string(identified_by, ', '),
        -- an erasure whose rebuild of the models failed is pending until a night succeeds after it
        case
            when finished_at is not null then 'done'
            when exists (
                select from {{ source('ops', 'dag_runs') }} as nights
                where nights.dag_id = 'puente_nightly' and nights.outcome = 'success'
                    and nights.started_at > erasures.requested_at
            ) then 'done'
            when message like '%pending:%' then 'pending'
            else 'unfinished'
        end,
        jsonb_build_object('erasure_id', erasure_id, 'reason', reason, 'finished_at', finished_at,
                           'customers', customers, 'source_records', source_records,
                           'crm_contacts_cleared', crm_contacts_cleared, 'crm_tasks_erased', crm_tasks_erased,
                           'removed', removed, 'message', message),
        'ops.erasures'
    from {{ source('ops', 'erasures') }} as erasures
)

select * from runs
union all
select * from extractions
union all
select * from activation_runs
union all
select * from drops
union all
select * from review_decisions
union all
select * from review_revocations
union all
select * from erasures
