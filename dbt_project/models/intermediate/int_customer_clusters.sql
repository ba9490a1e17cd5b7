{#
    The customers: connected components of the merges of int_customer_match_evidence, each record
    with the smallest record key of its customer (every record is in one, alone when nothing
    links it).

    A recursive CTE collects every record reachable from each record over the links (both
    directions). `union` (not `union all`) discards pairs already found, so the recursion ends
    once no new pair appears. Cost grows with the square of component sizes, fine for customers
    (components of a handful of records); the guards in the evidence keep keys shared by
    many people from building a giant component.

    Two different valid tax ids are two taxpayers (the registry gives each id one holder): a
    component that gathers two is two people joined through a chain of weaker links (relatives
    with one name and one mailbox: the father's record merges with a record of the son that
    carries no tax id, which merges with the son's). Such a component is grown again link by
    link, strongest first (an operator's merge before any score, then by match weight), and a
    link that would put two different valid tax ids in one customer through other records is
    left out: the strong links decide which side a weakly linked record joins. A link between
    the two records holding the ids stands (their score weighed the conflict, -15.6 bits, and
    still merged them: a slip that reads as a valid id).

    The same holds for any pair of records whose own comparison said two people and did not
    merge (int_customer_match_evidence's `conflict`: two second surnames, a mobile and a door of
    each one's own, two valid tax ids, or an operator's 'distinct'): relatives named alike in one
    mailbox are one name and one mailbox on most of their records, and the records where they
    differ are weighed against each other once, by their own score; a chain of links that never
    compared them (the son's record without a surname beside the father's, through the mailbox)
    must not undo that. Such a component is grown again the same way, and a link that would put
    two records of such a pair in one customer is left out. Components with no conflict are the
    closure as it is.
#}

with recursive

records as (
    select record_key, tax_id_normalized from {{ ref('int_customer_records_unioned') }}
),

all_evidence as (
    select record_key, linked_record_key, rule, decision, match_weight, conflict
    from {{ ref('int_customer_match_evidence') }}
),

evidence as (
    select record_key, linked_record_key, rule, match_weight from all_evidence
    where decision = 'merge'
),

-- pairs whose own comparison said two people and did not merge: never joined through others
barred_pairs as (
    select record_key, linked_record_key from all_evidence
    where decision in ('review', 'apart') and conflict is not null and record_key <> linked_record_key
),

-- each barred pair both ways
barred_links as (
    select record_key, linked_record_key as other_record_key from barred_pairs
    union
    select linked_record_key, record_key from barred_pairs
),

-- (materialized: referenced once, in the recursive step, it would be inlined there and
-- deduplicated again on every step of the recursion: 0.5 of 3.2 s at 100,000 customers)
links as materialized (
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

closed as (
    select record_key, min(reached_record_key) as component_key
    from reachable
    group by record_key
),

-- each record's barred partners within its component
barred_lists as (
    select closed.component_key, barred_links.record_key, jsonb_agg(barred_links.other_record_key) as others
    from barred_links
    inner join closed on barred_links.record_key = closed.record_key
    inner join closed as other_closed
        on barred_links.other_record_key = other_closed.record_key
        and closed.component_key = other_closed.component_key
    group by closed.component_key, barred_links.record_key
),

-- components that gather two different valid tax ids, or both records of a barred pair
conflicted as (
    select closed.component_key
    from closed
    inner join records on closed.record_key = records.record_key
    where records.tax_id_normalized is not null
    group by closed.component_key
    having count(distinct records.tax_id_normalized) > 1
    union
    select component_key from barred_lists
),

-- their links, strongest first: an operator's merge, then by match weight (materialized: read
-- once per step of the recursion below, it would be inlined there and computed again over every
-- link of every customer at each step, 0.6 s a step at 100,000 customers in six systems, whose
-- largest conflicted component took 89 steps)
ordered_links as materialized (
    select
        closed.component_key,
        evidence.record_key,
        evidence.linked_record_key,
        evidence.rule = 'operator_merge' as is_operator_merge,
        row_number() over (
            partition by closed.component_key
            order by evidence.rule = 'operator_merge' desc, evidence.match_weight desc nulls last,
                evidence.record_key, evidence.linked_record_key
        ) as step
    from evidence
    inner join closed on evidence.record_key = closed.record_key
    inner join conflicted on closed.component_key = conflicted.component_key
),

-- a conflicted component grown link by link: `groups` maps each record to its group (a record
-- key), `tax_ids` each record to its valid tax id, `barred` each record to its barred partners;
-- a link joins two groups unless each holds a tax id and they differ, or one holds a record
-- barred from one of the other's (an operator's merge joins them all the same)
grown (component_key, step, groups, tax_ids, barred) as (
    select
        closed.component_key,
        0::bigint,
        jsonb_object_agg(closed.record_key, closed.record_key),
        coalesce(jsonb_object_agg(closed.record_key, records.tax_id_normalized)
            filter (where records.tax_id_normalized is not null), '{}'::jsonb),
        coalesce((
            select jsonb_object_agg(barred_lists.record_key, barred_lists.others)
            from barred_lists
            where barred_lists.component_key = closed.component_key
        ), '{}'::jsonb)
    from closed
    inner join conflicted on closed.component_key = conflicted.component_key
    inner join records on closed.record_key = records.record_key
    group by closed.component_key
    union all
    select
        grown.component_key,
        grown.step + 1,
        case
            when joined.joins then (
                select jsonb_object_agg(member.key, case when member.value = joined.other_group then joined.own_group else member.value end)
                from jsonb_each_text(grown.groups) as member
            )
            else grown.groups
        end,
        grown.tax_ids,
        grown.barred
    from grown
    inner join ordered_links
        on grown.component_key = ordered_links.component_key
        and ordered_links.step = grown.step + 1
    cross join lateral (
        select
            ends.own_group,
            ends.other_group,
            ends.own_group <> ends.other_group and (
                ordered_links.is_operator_merge
                -- the link's own two records hold the two ids: their score weighed that already
                or grown.tax_ids ->> ordered_links.record_key <> grown.tax_ids ->> ordered_links.linked_record_key
                or not exists (
                    select 1
                    from jsonb_each_text(grown.groups) as own_member
                    cross join jsonb_each_text(grown.groups) as other_member
                    where
                        own_member.value = ends.own_group and other_member.value = ends.other_group
                        and (
                            grown.tax_ids ->> own_member.key <> grown.tax_ids ->> other_member.key
                            or coalesce(grown.barred -> own_member.key @> to_jsonb(other_member.key), false)
                        )
                )
            ) as joins
        from (
            select
                grown.groups ->> ordered_links.record_key as own_group,
                grown.groups ->> ordered_links.linked_record_key as other_group
        ) as ends
    ) as joined
),

regrown as (
    select member.key as record_key, member.value as group_key
    from (
        select distinct on (component_key) groups
        from grown
        order by component_key, step desc
    ) as last_step
    cross join lateral jsonb_each_text(last_step.groups) as member
),

grouped as (
    select closed.record_key, coalesce(regrown.group_key, closed.component_key) as group_key
    from closed
    left join regrown on closed.record_key = regrown.record_key
),

components as (
    select
        record_key,
        min(record_key) over (partition by group_key) as cluster_record_key,
        count(*) over (partition by group_key) as cluster_size
    from grouped
)

select * from components
