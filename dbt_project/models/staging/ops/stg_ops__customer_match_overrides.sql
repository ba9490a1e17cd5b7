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
]) }}

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
