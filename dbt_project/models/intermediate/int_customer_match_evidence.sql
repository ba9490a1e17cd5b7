{#
    Why records are the same customer: one row per link between two source records, with the
    rule that made it and what it matched on. int_customer_clusters closes the links
    transitively; every merge of int_customers_matched is explained by the rows here.

    Rules:
      - `email`, `phone`, `tax_id` (deterministic, score 1): records sharing a normalised key.
        Each key links its records to the key's smallest record (a star: n links, not n²).
        Guards: an email or phone links only records in one city (when known) whose names
        share a first name (a family mailbox: `Carlos Peña` and `Andrés Peña`, or `Luz` and
        `Liliana Ortiz`, stay two people; a nameless record, one whose first name is a bare
        initial, or a company name (`... S.A.S.`) joins the key's only first name); and within
        that, an email or phone carried by records with more than one distinct tax id belongs
        to several people and links nobody.
      - `fuzzy_name_phone` (scored): records whose phones end in the same seven digits (the
        block: a local number typed without its area code has no E.164 form) and whose names
        agree: same first initial and pg_trgm similarity of the compared names at least var
        `fuzzy_name_threshold`; score = the similarity. Never between two different tax ids
        or two different cities, and not inside a block of more than var
        `fuzzy_block_max_records` records (a shared line). A common name alone, even in the
        same city, is never a link.
      - `web_order` (score 1): the ERP partner of a sale order entered from a shop order (whoever
        entered it writes the shop order's name into `client_order_ref`: a person retyping it,
        or Puente's web-orders activation) and the shop customer (or guest order) of that order:
        the same buyer, whatever each system typed. For an order Puente posted the link repeats
        Puente's own decision (it chose that partner, or created it for this customer), which
        keeps a partner Puente created attached to its customer; an operator's split still
        wins. Never between two different tax ids, nor between two different first names (a
        clerk books a relative's web order under the first partner with that email).
      - `operator_merge` (score 1): a merge in ops.customer_match_overrides.
    A record an operator split (ops.customer_match_overrides, action 'split') takes part in no
    automatic rule: it stands alone unless an operator merge attaches it.
#}

with

records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

overrides as (
    select * from {{ ref('stg_ops__customer_match_overrides') }}
    where not is_revoked
),

split_records as (
    select distinct record_key from overrides where action = 'split'
),

candidates as (
    select
        records.*,
        -- a company's name (it has a legal-form suffix) says nothing about which person it is,
        -- nor does a bare initial (`J. Pérez`)
        case
            when {{ normalize_company_name('records.full_name') }} is distinct from records.name_compared then null
            when length(split_part(records.name_compared, ' ', 1)) > 1 then split_part(records.name_compared, ' ', 1)
        end as person_first_name
    from records
    where not exists (select 1 from split_records where split_records.record_key = records.record_key)
),

record_keys as (
    select record_key, 'email' as key_type, email_normalized as key_value, tax_id_normalized, person_first_name as first_name, city_normalized as city
    from candidates
    where email_normalized is not null
    union all
    select record_key, 'phone' as key_type, phone_normalized as key_value, tax_id_normalized, person_first_name as first_name, city_normalized as city
    from candidates
    where phone_normalized is not null
    union all
    select record_key, 'phone' as key_type, other_phone_normalized as key_value, tax_id_normalized, person_first_name as first_name, city_normalized as city
    from candidates
    where other_phone_normalized is not null
    union all
    select record_key, 'tax_id' as key_type, tax_id_normalized as key_value, tax_id_normalized, null::text as first_name, null::text as city
    from candidates
    where tax_id_normalized is not null
),

-- an email or phone links records only within one first name and one city (`Carlos Peña`
-- and `Andrés Peña` sharing a mailbox are two people; so are two `Nicolás Rodríguez` of
-- Cartagena and Ibagué whom a free-mail provider gave the same address over time); a record
-- without a name (or city) joins the key's only one, and links nobody when the key carries
-- several. A tax id links regardless.
key_first_names as (
    select
        key_type,
        key_value,
        min(first_name) as only_first_name,
        count(distinct first_name) as first_names,
        min(city) as only_city,
        count(distinct city) as cities
    from record_keys
    group by key_type, key_value
),

grouped_keys as (
    select
        record_keys.record_key,
        record_keys.key_type,
        record_keys.key_value,
        record_keys.tax_id_normalized,
        case
            when record_keys.key_type = 'tax_id' then ''
            when record_keys.first_name is not null then record_keys.first_name
            when key_first_names.first_names <= 1 then coalesce(key_first_names.only_first_name, '')
        end
        || '|' ||
        case
            when record_keys.key_type = 'tax_id' then ''
            when record_keys.city is not null then record_keys.city
            when key_first_names.cities <= 1 then coalesce(key_first_names.only_city, '')
        end as name_group
    from record_keys
    inner join key_first_names
        on record_keys.key_type = key_first_names.key_type
        and record_keys.key_value = key_first_names.key_value
),

shared_keys as (
    select key_type, key_value, name_group
    from grouped_keys
    group by key_type, key_value, name_group
    having count(distinct tax_id_normalized) > 1
),

anchored_keys as (
    select distinct
        grouped_keys.record_key,
        grouped_keys.key_type,
        grouped_keys.key_value,
        min(grouped_keys.record_key) over (
            partition by grouped_keys.key_type, grouped_keys.key_value, grouped_keys.name_group
        ) as anchor_record_key
    from grouped_keys
    left join shared_keys
        on grouped_keys.key_type = shared_keys.key_type
        and grouped_keys.key_value = shared_keys.key_value
        and grouped_keys.name_group = shared_keys.name_group
    where shared_keys.key_value is null and grouped_keys.name_group is not null
),

deterministic_links as (
    select
        record_key,
        anchor_record_key as linked_record_key,
        key_type as rule,
        key_value as matched_on,
        1.0::numeric as score
    from anchored_keys
    where record_key <> anchor_record_key
),

phone_tails as (
    select record_key, phone_tail, name_compared, tax_id_normalized, city_normalized
    from candidates
    where phone_tail is not null and name_compared is not null
    union
    select record_key, other_phone_tail as phone_tail, name_compared, tax_id_normalized, city_normalized
    from candidates
    where other_phone_tail is not null and name_compared is not null
),

open_blocks as (
    select phone_tail
    from phone_tails
    group by phone_tail
    having count(distinct record_key) between 2 and {{ var('fuzzy_block_max_records') }}
),

fuzzy_pairs as (
    select
        a.record_key,
        b.record_key as linked_record_key,
        a.phone_tail,
        a.name_compared,
        b.name_compared as linked_name_compared,
        similarity(a.name_compared, b.name_compared) as score
    from phone_tails as a
    inner join open_blocks
        on a.phone_tail = open_blocks.phone_tail
    inner join phone_tails as b
        on a.phone_tail = b.phone_tail
        and a.record_key > b.record_key
    where
        left(a.name_compared, 1) = left(b.name_compared, 1)
        and (a.tax_id_normalized is null or b.tax_id_normalized is null or a.tax_id_normalized = b.tax_id_normalized)
        and (a.city_normalized is null or b.city_normalized is null or a.city_normalized = b.city_normalized)
),

fuzzy_links as (
    select distinct on (record_key, linked_record_key)
        record_key,
        linked_record_key,
        'fuzzy_name_phone' as rule,
        '*' || phone_tail || ' ~ ' || name_compared || ' / ' || linked_name_compared as matched_on,
        round(score::numeric, 3) as score
    from fuzzy_pairs
    where score >= {{ var('fuzzy_name_threshold') }}
    order by record_key, linked_record_key, score desc
),

sale_orders as (
    select partner_id, client_order_ref from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted and partner_id is not null and client_order_ref is not null
),

shop_orders as (
    select order_id, customer_id, order_name from {{ ref('stg_shopify__orders') }}
    where not is_deleted
),

web_order_pairs as (
    select distinct
        {{ record_key("'odoo_partner'", 'sale_orders.partner_id::text') }} as record_key,
        case
            when shop_orders.customer_id is null then {{ record_key("'shopify_guest_order'", 'shop_orders.order_id::text') }}
            else {{ record_key("'shopify_customer'", 'shop_orders.customer_id::text') }}
        end as linked_record_key,
        shop_orders.order_name
    from sale_orders
    inner join shop_orders
        on ltrim(sale_orders.client_order_ref, '#') = ltrim(shop_orders.order_name, '#')
),

web_order_links as (
    select distinct on (web_order_pairs.record_key, web_order_pairs.linked_record_key)
        web_order_pairs.record_key,
        web_order_pairs.linked_record_key,
        'web_order' as rule,
        'shop order ' || web_order_pairs.order_name as matched_on,
        1.0::numeric as score
    from web_order_pairs
    inner join candidates as a on web_order_pairs.record_key = a.record_key
    inner join candidates as b on web_order_pairs.linked_record_key = b.record_key
    where
        (a.tax_id_normalized is null or b.tax_id_normalized is null or a.tax_id_normalized = b.tax_id_normalized)
        and (a.person_first_name is null or b.person_first_name is null or a.person_first_name = b.person_first_name)
    order by web_order_pairs.record_key, web_order_pairs.linked_record_key, web_order_pairs.order_name
),

operator_links as (
    select
        overrides.record_key,
        overrides.other_record_key as linked_record_key,
        'operator_merge' as rule,
        concat_ws(': ', overrides.decided_by, overrides.reason) as matched_on,
        1.0::numeric as score
    from overrides
    inner join records as a on overrides.record_key = a.record_key
    inner join records as b on overrides.other_record_key = b.record_key
    where overrides.action = 'merge' and overrides.record_key <> overrides.other_record_key
),

links as (
    select * from deterministic_links
    union all
    select * from fuzzy_links
    union all
    select * from web_order_links
    union all
    select * from operator_links
),

final as (
    select
        md5(record_key || '|' || linked_record_key || '|' || rule || '|' || matched_on) as evidence_id,
        record_key,
        linked_record_key,
        rule,
        matched_on,
        score
    from links
)

select * from final
