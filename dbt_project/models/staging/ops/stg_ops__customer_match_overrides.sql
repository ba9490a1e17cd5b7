{{ config(pre_hook=[
    "create schema if not exists ops",
    "create table if not exists ops.customer_match_overrides (
        override_id bigint generated always as identity primary key,
        record_key text not null,
        other_record_key text,
        action text not null check (action in ('merge', 'split', 'distinct')),
        reason text,
        decided_by text,
        decided_at timestamptz not null default now(),
        is_revoked boolean not null default false
    )",
    "alter table ops.customer_match_overrides drop constraint if exists customer_match_overrides_action_check",
    "alter table ops.customer_match_overrides add constraint customer_match_overrides_action_check
        check (action in ('merge', 'split', 'distinct'))",
    "alter table ops.customer_match_overrides add column if not exists revoked_by text,
        add column if not exists revoke_reason text, add column if not exists revoked_at timestamptz",
    "do $do$
    declare
        rule record;
        last_old bigint;
    begin
        for rule in select * from (values
            ('customer_match_overrides_decided_by_required',
             $r$decided_by is not null and decided_by ~ '[^[:space:]]'$r$),
            ('customer_match_overrides_record_keys_kind_colon_id',
             $r$record_key ~ '^[a-z][a-z0-9_]*:[^[:space:]]+$'
                and (other_record_key is null or other_record_key ~ '^[a-z][a-z0-9_]*:[^[:space:]]+$')$r$),
            ('customer_match_overrides_pair_needs_other_record',
             $r$action = 'split' or other_record_key is not null$r$),
            ('customer_match_overrides_two_different_records',
             $r$other_record_key is null or other_record_key <> record_key$r$)
        ) as rules (name, expression)
        loop
            if not exists (select from pg_constraint
                           where conrelid = 'ops.customer_match_overrides'::regclass and conname = rule.name) then
                execute 'select max(override_id) from ops.customer_match_overrides where ('
                    || rule.expression || ') is false' into last_old;
                begin
                    execute 'alter table ops.customer_match_overrides add constraint ' || quote_ident(rule.name)
                        || ' check (' || coalesce('override_id <= ' || last_old || ' or ', '')
                        || '(' || rule.expression || '))';
                exception when duplicate_object then
                    null;
                end;
            end if;
        end loop;
    end
    $do$",
]) }}

{#
    The table refuses what record_decision (puente/identity_review.py, the DAG puente_review_decisions)
    refuses, so a decision inserted with SQL is held to the same rules: who decided (decided_by, not
    blank), record keys of the form `<record_type>:<id>`, a second record for a 'merge' or 'distinct',
    and two different records. The constraints are added once, when missing; a table made before them
    keeps its older rows that break one (no author, a malformed key): the constraint exempts the
    rows up to the last such one by override_id (`override_id <= N or ...`), so those rows can still
    be revoked and have their reason erased. Whether a key names a customer record cannot be a
    constraint (the record may land later): marts.data_issues lists a decision in force whose key
    names no record of the night.
#}

with

source as (
    select * from {{ source('ops', 'customer_match_overrides') }}
),

renamed as (
    select
        override_id,
        record_key,
        other_record_key,
        action,
        reason,
        decided_by,
        decided_at,
        is_revoked,
        revoked_by,
        revoke_reason,
        revoked_at
    from source
)

select * from renamed
