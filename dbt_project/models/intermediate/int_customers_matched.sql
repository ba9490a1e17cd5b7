{#
    Deterministic identity resolution: which source records are the same customer.

    Two records are linked when they share a normalised email, phone or tax id; customers are
    the connected components of those links (transitive: A-B by email and B-C by phone make
    A, B and C one customer).

    Guard: an email or phone whose records carry more than one distinct tax id belongs to
    several people (a family sharing one mailbox, an office switchboard), so it links nobody;
    those records can still meet through another key.

    Components: each key links its records to the key's smallest record (a star, so a key
    shared by n records makes n links, not n²); a recursive CTE then collects every record
    reachable from each record. `union` (not `union all`) discards pairs already found, so the
    recursion ends once no new pair appears, at the latest after the longest path in a
    component. Cost grows with the square of component sizes, fine for customers (components
    of a handful of records); a key shared by thousands of records would need the guard above
    or an iterative label propagation.

    customer_id = md5 of the smallest record key in the component: stable as long as that
    record stays in the customer. Later work will carry ids across cluster changes (a merge
    keeps the older id, a split mints new ones) instead of recomputing them.
#}

with recursive

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

record_keys as (
    select record_key, 'email' as key_type, email_normalized as key_value, tax_id_normalized
    from records
    where email_normalized is not null
    union all
    select record_key, 'phone' as key_type, phone_normalized as key_value, tax_id_normalized
    from records
    where phone_normalized is not null
    union all
    select record_key, 'phone' as key_type, other_phone_normalized as key_value, tax_id_normalized
    from records
    where other_phone_normalized is not null
    union all
    select record_key, 'tax_id' as key_type, tax_id_normalized as key_value, tax_id_normalized
    from records
    where tax_id_normalized is not null
),

shared_keys as (
    select key_type, key_value
    from record_keys
    group by key_type, key_value
    having count(distinct tax_id_normalized) > 1
),

linking_keys as (
    select
        record_keys.record_key,
        min(record_keys.record_key) over (
            partition by record_keys.key_type, record_keys.key_value
        ) as anchor_record_key
    from record_keys
    left join shared_keys
        on record_keys.key_type = shared_keys.key_type
        and record_keys.key_value = shared_keys.key_value
    where shared_keys.key_value is null
),

links as (
    select record_key, anchor_record_key as linked_record_key
    from linking_keys
    where record_key <> anchor_record_key
    union
    select anchor_record_key as record_key, record_key as linked_record_key
    from linking_keys
    where record_key <> anchor_record_key
),

reachable (record_key, reached_record_key) as (
    select record_key, record_key as reached_record_key
    from records
    union
    select reachable.record_key, links.linked_record_key
    from reachable
    inner join links
        on reachable.reached_record_key = links.record_key
),

components as (
    select record_key, min(reached_record_key) as component_record_key
    from reachable
    group by record_key
),

matched as (
    select
        md5(components.component_record_key) as customer_id,
        records.*
    from records
    inner join components
        on records.record_key = components.record_key
)

select * from matched
