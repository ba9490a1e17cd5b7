{#
    Connected components of the merges of int_customer_match_evidence: each record with the smallest record
    key of its component (every record is in one, alone when nothing links it).

    A recursive CTE collects every record reachable from each record over the links (both
    directions). `union` (not `union all`) discards pairs already found, so the recursion ends
    once no new pair appears. Cost grows with the square of component sizes, fine for customers
    (components of a handful of records); the guards in the evidence keep keys shared by
    many people from building a giant component.
#}

with recursive

records as (
    select record_key from {{ ref('int_customer_records_unioned') }}
),

evidence as (
    select record_key, linked_record_key from {{ ref('int_customer_match_evidence') }}
    where decision = 'merge'
),

links as (
    select record_key, linked_record_key from evidence
    union
    select linked_record_key as record_key, record_key as linked_record_key from evidence
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
    select record_key, min(reached_record_key) as cluster_record_key, count(*) as cluster_size
    from reachable
    group by record_key
)

select * from components
