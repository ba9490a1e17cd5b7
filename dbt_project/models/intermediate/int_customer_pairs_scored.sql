{#
    Every candidate pair of customer records, compared field by field and scored the
    Fellegi–Sunter way: each comparison lands on a level (email exact, variant, different, ...),
    each level weighs log2(m / u) bits (seed identity_match_weights: m the chance a pair of one
    person's records shows that level, u the chance a pair of two people's records does), and
    the pair's match weight is their sum plus the prior, log2 of the odds that two records
    picked at random are one person's (var identity_prior_match_probability). The weight above
    var identity_merge_weight merges the pair, below var identity_review_weight keeps it apart,
    and in between sends it to a person (marts.customer_review_queue). `explanation` lists
    every comparison with its level and weight: why the pair merged or did not.

    Candidates (blocking): records sharing a mailbox (email_canonical), a phone (E.164), the last
    seven digits of a phone when one side's number is a local one (typed without its area code, it
    cannot be read in full; two full numbers are one number or two, whatever their last seven
    digits, and the chance that two people's numbers end alike grows with their count), the
    digits of a tax id (check digit aside; with two neighbouring digits swapped too, when the
    check digit typed fits the swap, tax_id_swapped_bodies), a door in a city
    (address_key, macro normalize_address: `Calle 38 # 12-45` and `CL. 38 N° 12 - 45 Apto 301`
    are one), or a web order booked in the ERP under one of them. A value carried by more than
    var identity_block_max_holders holders (distinct given names, or company names: the
    business's own phone, a shared inbox, an office building's door), or by more than var
    identity_block_max_records records, makes no candidates and scores as `shared`; one person's
    records in every channel count as one holder, so a busy customer's own phone still links. A common name alone never makes a candidate; a rare one does: the only two
    records of a city whose names share a given name and another word (`juan|gomez|bogota`),
    since no namesake of theirs lives there.

    Comparisons:
      - email: `exact` (same address), `variant` (same mailbox typed another way: plus-addressing,
        Gmail dots, googlemail, a slip in a big provider's domain), `given_name` (the same mailbox
        of a big provider named by a given name alone and a number, `carlos26@gmail.com`: the
        kind a buyer without e-mail makes up at a checkout, which other people type too), `undecided` (a
        provider's name alone, `juan@yahoo`, beside one of two of its mailboxes that the records both
        hold, `juan@yahoo.com` and `juan@yahoo.es`: it cannot say which), `family` (either, in a mailbox
        whose holders include two people: a pair of them whose given names or surnames conflict,
        or whose valid tax ids differ), `family_ambiguous` (a family's mailbox, and the name of
        one of the two fits two of its holders whose names or tax ids conflict: the mailbox cannot
        say which relative that record is, so none of its pairs in the mailbox leans on it;
        transitive closure would join the relatives through it), `shared`, `different`, `missing`;
      - phone: `exact` (a mobile), `exact_landline` (a 60x line, which offices and homes share;
        abroad, macro is_landline_phone: every Mexican number, whose plan does not say),
        `tail` (the same last seven digits, one side a local number), `different`, `missing` (one
        side has none, or only a shared one such as the business's own number typed for its
        customers, or a company's line beside a person's number);
      - tax_id: `exact` (same valid id), `doubtful` (same digits, but a check digit fails on one
        side; or an id one swap of neighbouring digits from the other's valid id, whose check
        digit(s) it carries: column tax_id_swapped_bodies; NIT, CUIT, RUT, RFC, CPF, CNPJ; a valid
        id too, a swap its check digit cannot catch), `different` (two valid ids otherwise),
        `missing`. A doubtful tax id never links on its own: it
        counts when the names agree (a company's name beside its buyer's mailbox or surname too,
        name levels below), or when the two hold one door and their names do not conflict (a
        company's door beside its buyer's); else, unless the other comparisons weigh at least var
        identity_merge_weight without it, the pair goes to review at most;
      - name, word by word (name_words: particles dropped): `exact`, `compatible` (every word of
        the shorter name agrees with one of the longer: equal, an initial, or two edits apart; a
        `D.` is the initial of a surname that begins with a particle, `Lucía D.` / `Lucia de la Hoz`,
        macro particle_surname_initial;
        and a given name agrees: `Fernanda López` / `María Fernanda López Gómez`; a given name typed
        without its last letter, `Dieg`, agrees with the one it is rare beside, given_name_slips),
        `partly_compatible` (a given name and another word agree, each side has a word the other
        lacks: `Luis Carlos Gómez` / `Luis Gómez Giraldo`), `different_surname` (a given name
        agrees but each ends in a surname the other lacks: `María Acosta Ospina` / `María Isabel
        Acosta Rojas`; or one holds its surname twice and the other ends in one it lacks:
        `Fernando García García` / `Fernando García Rojas`), `similar` (trigrams), `different_given_name` (`Carlos Gómez` / `Lucía Gómez`), `different`; two
        companies: `company_exact`, `company_similar`, `company_different`; a company beside a
        person (a buyer at a company, macro company_person_level): `company_mailbox` (the person's
        mailbox at a domain that spells the company's name: its staff's), `company_surname` (a
        surname of the person in the company's name: says nothing on its own, but a doubtful tax
        id counts beside it), `not_comparable`;
      - city: `same`, `different` (people move), `missing`;
      - address: `exact` (the same door in the same city, the unit aside), `household` (either,
        at a door whose holders include two people: a pair of them whose names conflict, or whose
        valid tax ids differ; relatives and colleagues share doors as they share mailboxes),
        `household_named` (such a door, and the two names agree, and neither record's name fits
        two of the door's holders whose names or tax ids conflict: the name says which resident
        it is, as it does for a family's mailbox), `other_unit` (the same door, and units with no
        number in common, macro address_units: `Apto 301` / `Apto 1102`, two homes or offices of
        one building, whose unrelated residents share the door's key), `shared`, `different`,
        `other_city` (counted by the city already), `missing` (one side has none, or a company's
        door beside a person's);
      - web_order: `linked` when a web order of one was booked in the ERP under the other (a sale
        order carrying its reference that is that order by its origin or total, macro
        is_web_order_sale_order: a purchase-order number typed as another customer's reference is
        no evidence), else `ticket` when a service ticket on one (a CRM contact) cites an order the
        other placed (int_customer_ticket_orders); either unless they share a mailbox, a shared one
        included (the ERP finds the partner by its e-mail, the CRM files a ticket on the contact
        holding the sender's: no new evidence);
      - name_rarity: `only_pair_in_city` when the names agree (`exact`, `compatible`) and the two
        are the only records of their city sharing such a key, else `none`.
    A record an operator split (ops.customer_match_overrides, 'split') is in no pair.

    Relatives named alike (a son named after his father, one mailbox, often one door) are one
    name and one mailbox; what tells them apart, when anything does, is what each holds of their
    own. `conflict` names it when the pair's own comparisons show it: `tax_id` (two valid ids),
    `surname` (two second surnames, name level different_surname), `phone_and_door` (names that
    agree, each record a mobile and a door of its own in the same city, and nothing shared but
    a mailbox: no tax id, no web order; a ticket on one citing an order of the other may be a
    relative's writing in about it, so it does not count). A `phone_and_door` pair goes to review at most, whatever
    its mailbox and name weigh: each sign alone is common for one person (people change mobiles,
    move within the city), both between two records of one person take a move and a new mobile,
    while two relatives at two doors show both always (in the benchmark's business of 100,000
    customers, 20 of the 65 such pairs that their weight would merge are two people's, against
    137 of 5,407 whose mobiles alone differ, names agreeing, no tax id or web order). A pair
    with a conflict that did not merge is never joined by a chain of other links
    (int_customer_clusters).

    A night scores again only the pairs its changes can reach. A pair's levels depend on its two
    records, on the holders of the values they hold (how many hold each; whether a mailbox or a
    door is a family's; whether a name key is the only two records'), on the orders linking
    the two (a web order, a ticket's), and on what is the same for every pair (the weights, the given names' slips, the
    records split, this model's code, vars and macros: scoring_hash). So the model reads its own
    previous build and int_customer_pair_inputs, the record of what each record brought to that
    build (a hash of the fields the comparisons read, the values it holds), and scores again the
    pairs of the records new, changed or gone, of every record holding a value one of those holds
    or held (but for a value its unchanged holders alone keep shared, or a name key three of them
    hold), and of the two records of an order's link (a web order's, a ticket's) that appeared,
    changed or went; the rest are the
    previous build's rows. Every pair is scored when there is no previous build, on a full refresh,
    when scoring_hash differs, or when int_customer_pair_inputs is not that build's record (a night
    stopped between the two models). Tested against a full build night by night
    (tests/dbt/test_incremental_pairs.py); at 100,000 customers a night that changes a few hundred
    records scores about a thousand of them again (bench/RESULTS.md).
#}

{%- set max_block = var('identity_block_max_holders') -%}
{%- set max_records = var('identity_block_max_records') -%}
{%- set holder = pairing_holder('candidates') -%}
{#- over a value's rows (record_key, holder): more records than one busy customer leaves in every
    channel, or more holders than one household has -#}
{%- set is_shared = "count(distinct record_key) > " ~ max_records ~ " or count(distinct holder) > " ~ max_block -%}
{#- two records at one door whose units have no number in common (`Apto 301`, `Apto 1102`): two
    homes of one building, not one door (false when either has no unit) -#}
{%- set other_units = "not coalesce(a.address_units && b.address_units, true)" -%}
{#- name levels that say two holders of a mailbox are two people -#}
{%- set family_conflicts = "('different_given_name', 'different_surname', 'different')" -%}
{#-
    names that agree, and each record a mobile of its own and a door of its own in the same city,
    nothing else shared but a mailbox (no tax id, no web order; a ticket of one citing the other's
    order may be a relative's, so it does not count): two signs, each independent of
    the other, of two people (a relative named after the one whose mailbox they share, living
    elsewhere in the city); one person shows both only after moving within the city and changing
    mobile, between the two records
-#}
{%- set own_phone_and_door -%}
    (phone_level = 'different' and address_level in ('different', 'other_unit') and name_level in ('exact', 'compatible')
        and tax_id_level not in ('exact', 'doubtful') and web_order_level <> 'linked')
{%- endset %}

{#- the columns of a pair, but the build that scored it (scoring_run) -#}
{%- set pair_columns = [
    'pair_id', 'record_key', 'other_record_key', 'email_level', 'phone_level', 'tax_id_level', 'name_level',
    'city_level', 'address_level', 'web_order_level', 'name_rarity_level', 'match_weight', 'match_probability',
    'decision', 'conflict', 'strongest_comparison', 'matched_on', 'explanation', 'web_order', 'scoring_hash',
] -%}

{#- what scores a pair, beside the weights and the given names' slips: this model, the macros it
    calls and the vars it reads (found in its code), hashed into scoring_hash -#}
{%- set scoring_code -%}
    {{ model.raw_code }}
    {{ pairing_input_hash('r') }} {{ pairing_key_rows('r') }} {{ given_names_agree('a', 'b') }} {{ given_names_agree('a', 'b', initials=false) }}
    {{ name_words_agree('a', 'b') }} {{ particle_surname_initial('a', 'b') }} {{ ambiguous_holders('h', family_conflicts) }}
    {{ is_web_order_sale_order('s', 'r', 'a') }} {{ record_key("'k'", 'i') }} {{ company_person_level('a', 'b') }}
    {%- for name in modules.re.findall("var\\(['\"](\\w+)", model.raw_code) | unique | sort %} {{ name }}={{ var(name) }}{% endfor %}
{%- endset -%}

{#- the candidates, and how this build scores them (read also to decide, below, whether the
    previous build can be kept in part) -#}
{%- set scoring_ctes -%}
records as (
    select * from {{ ref('int_customer_records_unioned') }}
),

weights as (
    select
        comparison,
        level,
        round((ln(m_probability / u_probability) / ln(2))::numeric, 2) as weight
    from {{ ref('identity_match_weights') }}
),

split_records as (
    select distinct record_key
    from {{ ref('stg_ops__customer_match_overrides') }}
    where action = 'split' and not is_revoked
),

candidates as (
    select records.*
    from records
    where not exists (select 1 from split_records where split_records.record_key = records.record_key)
),

-- each first word of a person's name, and how many records begin with it
first_words as (
    select name_words[1] as word, count(*) as records
    from candidates
    where not is_company and name_words is not null and length(name_words[1]) > 1
    group by name_words[1]
),

-- a given name typed without its last letter (`Dieg`, `Paol`, `Catalin`): a first word that is
-- another one less its last letter, and var identity_given_name_slip_ratio times rarer than it at
-- least; `Daniel` / `Daniela`, `Julián` / `Juliana`, each common, stay two names. Never a name of
-- its own (var identity_given_names_not_slips: `Paul` beside many a `Paula`), nor a word that could
-- be either of two names (`Andre`: Andrea or Andrés)
given_name_slips as materialized (
    select slip.word as slip, min(given.word) as given_name
    from first_words as slip
    inner join first_words as given
        on left(given.word, -1) = slip.word
    where length(slip.word) >= 3
        and slip.records * {{ var('identity_given_name_slip_ratio') }} < given.records
        and slip.word not in ({{ "'" ~ var('identity_given_names_not_slips') | join("', '") ~ "'" }})
    group by slip.word
    having count(*) = 1
),

-- how this build scores: its code (the model, the macros it calls, its vars), the weights, the
-- given names' slips and the records split. A previous build scored another way is scored again whole
scoring as (
    select md5(
        '{{ local_md5(scoring_code) }}'
        || '|' || (select string_agg(comparison || ':' || level || ':' || weight, ',' order by comparison, level) from weights)
        || '|' || (select coalesce(string_agg(slip || ':' || given_name, ',' order by slip), '') from given_name_slips)
        || '|' || (select coalesce(string_agg(record_key, ',' order by record_key), '') from split_records)
    ) as scoring_hash
)
{%- endset -%}

{#- the previous build and the record of the inputs it scored (int_customer_pair_inputs, built after
    this model: read by its name), when both hold this build's columns, that record is the build's
    own (its comment names the build; an erasure empties it), the build scored the way this one
    does, and no full refresh was asked; else every pair is scored -#}
{%- set previous = none -%}
{%- if execute and not flags.FULL_REFRESH -%}
    {%- set previous = load_relation(this) -%}
    {%- set previous_inputs = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_customer_pair_inputs') -%}
    {%- if previous is none or previous_inputs is none -%}
        {%- set previous = none -%}
    {%- elif (pair_columns + ['scoring_run']) | reject('in', adapter.get_columns_in_relation(previous) | map(attribute='name') | list) | list
          or ['record_key', 'input_hash', 'pairing_keys', 'holder'] | reject('in', adapter.get_columns_in_relation(previous_inputs) | map(attribute='name') | list) | list -%}
        {%- set previous = none -%}
    {%- else -%}
        {%- set previous_is_usable -%}
            with {{ scoring_ctes }}
            select
                (select scoring_hash from {{ previous }} limit 1) = (select scoring_hash from scoring)
                and obj_description({{ dbt.string_literal(previous_inputs) }}::regclass, 'pg_class')
                    = 'scoring_run=' || (select scoring_run from {{ previous }} limit 1)
                and exists (select 1 from {{ previous_inputs }})
        {%- endset -%}
        {%- if not run_query(previous_is_usable).columns[0].values()[0] -%}
            {%- set previous = none -%}
        {%- endif -%}
    {%- endif -%}
{%- endif %}

{#- the values the candidates of the CTE `RECORDS` (a `record_key` column) hold now: a changed one's
    (changed_key_rows), an unchanged one's as its previous inputs say -#}
{%- set keys_of -%}
    select key from changed_key_rows where record_key in (select record_key from RECORDS)
    union
    select unnest(previous.pairing_keys)
    from {{ previous_inputs }} as previous
    where previous.record_key in (select record_key from RECORDS)
        and not exists (select 1 from changed_records where changed_records.record_key = previous.record_key)
{%- endset -%}

{#- of rows of values with their holders grouped by value: a value that pairs no one, shared (more
    holders or records than vars identity_block_max_holders / identity_block_max_records), or a
    name key more than two records hold (a rare name's is the only two records') -#}
{%- set pairs_no_one -%}
    case
        when key like 'name:%' then count(distinct record_key) > 2
        else {{ is_shared }}
    end
{%- endset -%}

{#- the candidates holding any value of the CTE `KEYS` (a `key` column), a row per value held:
    record_key, key, holder. An unchanged record holds what its previous inputs say (found by their
    index on pairing_keys); a changed one, what it holds now (changed_key_rows) -#}
{%- set holders_of -%}
    select previous.record_key, key, previous.holder
    from {{ previous_inputs }} as previous
    cross join lateral unnest(previous.pairing_keys) as key
    where previous.pairing_keys && (select array_agg(key) from KEYS)
        and key in (select key from KEYS)
        and not exists (select 1 from changed_records where changed_records.record_key = previous.record_key)
        and not exists (select 1 from split_records where split_records.record_key = previous.record_key)
    union all
    select record_key, key, holder from changed_key_rows where key in (select key from KEYS)
{%- endset -%}

with

{{ scoring_ctes }},

sale_orders as (
    select partner_id, client_order_ref, origin, amount_total from {{ ref('stg_odoo__sale_orders') }}
    where not is_deleted and partner_id is not null and client_order_ref is not null
),

shop_orders as (
    select
        customer_record_key, order_name, order_reference,
        sum(amount_total) over (partition by order_reference) as reference_amount
    from {{ ref('int_web_orders_unioned') }}
    where not is_deleted
),

web_orders as (
    select
        {{ record_key("'odoo_partner'", 'sale_orders.partner_id::text') }} as erp_record_key,
        shop_orders.customer_record_key as shop_record_key,
        shop_orders.order_name
    from sale_orders
    inner join shop_orders
        on ltrim(sale_orders.client_order_ref, '#') = shop_orders.order_reference
        and {{ is_web_order_sale_order('sale_orders', 'shop_orders.order_reference', 'shop_orders.reference_amount') }}
),

-- the orders that join two records: a web order booked under the other (`linked`), else a service
-- ticket of one citing an order the other placed (`ticket`, int_customer_ticket_orders);
-- order_name says which (`#1042`; `ticket about S00042`)
order_links as (
    select erp_record_key as record_key, shop_record_key as other_record_key, order_name, 'linked' as link_kind
    from web_orders
    union all
    select ticket_record_key, order_record_key, 'ticket about ' || cited_number, 'ticket'
    from {{ ref('int_customer_ticket_orders') }}
),

web_order_pairs as (
    select
        least(record_key, other_record_key) as record_key,
        greatest(record_key, other_record_key) as other_record_key,
        coalesce(min(order_name) filter (where link_kind = 'linked'), min(order_name)) as order_name,
        case when bool_or(link_kind = 'linked') then 'linked' else 'ticket' end as link_kind
    from order_links
    group by 1, 2
),

-- the web orders' pairs whose two records are candidates
candidate_web_order_pairs as (
    select web_order_pairs.*
    from web_order_pairs
    inner join candidates as a on web_order_pairs.record_key = a.record_key
    inner join candidates as b on web_order_pairs.other_record_key = b.record_key
),

{%- if previous is not none %}

-- The records new, changed or gone since then, with the values they held
changed_records as materialized (
    select coalesce(now.record_key, before.record_key) as record_key, before.pairing_keys as previous_keys
    from (select records.record_key, {{ pairing_input_hash('records') }} as input_hash from records) as now
    full join {{ previous_inputs }} as before on now.record_key = before.record_key
    where now.input_hash is distinct from before.input_hash
),

-- the values the changed candidates hold now (macro pairing_key_rows), each with its record's holder
changed_key_rows as materialized (
    {{ pairing_key_rows('(select * from candidates where record_key in (select record_key from changed_records))') }}
),

-- the values a changed record holds or held: their holders' pairs can change with them (a value's
-- count of holders and records, a family's mailbox, a household's door, a rare name's key)...
changed_keys as materialized (
    select key from changed_key_rows
    union
    select unnest(previous_keys) from changed_records
),

-- ...and their holders now (an unchanged record holds what it held: its previous inputs say it,
-- found by their index on pairing_keys, instead of every record's values derived again)
changed_key_holders as materialized (
    {{ holders_of | replace('KEYS', 'changed_keys') }}
),

-- ...but for the values that pair no one by their unchanged holders alone: shared (they pair no
-- one and weigh as `shared`, before and after) or a name key three records hold (rare neither
-- before nor after)
lasting_keys as (
    select key
    from changed_key_holders
    where not exists (select 1 from changed_records where changed_records.record_key = changed_key_holders.record_key)
    group by key
    having {{ pairs_no_one }}
),

-- the web orders that link two records anew, or no more
web_order_changes as (
    (select record_key, other_record_key, order_name from candidate_web_order_pairs
     except
     select record_key, other_record_key, web_order from {{ previous }} where web_order is not null)
    union all
    (select record_key, other_record_key, web_order from {{ previous }} where web_order is not null
     except
     select record_key, other_record_key, order_name from candidate_web_order_pairs)
),

-- the records whose pairs are scored again: the changed ones, the holders of their values, the
-- two of a web order's link that changed. Every other record's pairs are the previous build's.
-- (Filters of the candidates, here and below, not joins: the planner cannot count a CTE's
-- distinct values, and estimated joins of them at billions of rows, then hashed in as many batches)
rescored_records as materialized (
    select record_key
    from candidates
    where record_key in (
        select record_key from changed_records
        union all
        select record_key from changed_key_holders
        where not exists (select 1 from lasting_keys where lasting_keys.key = changed_key_holders.key)
        union all
        select side.record_key
        from web_order_changes
        cross join lateral (values (web_order_changes.record_key), (web_order_changes.other_record_key)) as side (record_key)
    )
),

-- the values those records hold: their pairs are made from these
rescored_keys as materialized (
    {{ keys_of | replace('RECORDS', 'rescored_records') }}
),

-- their holders
rescored_key_holders as materialized (
    {{ holders_of | replace('KEYS', 'rescored_keys') }}
),

-- of those values, the ones that pair no one
unpairing_keys as (
    select key
    from rescored_key_holders
    group by key
    having {{ pairs_no_one }}
),

-- the records those pairs join...
scope_records as materialized (
    select record_key from rescored_key_holders
    where not exists (select 1 from unpairing_keys where unpairing_keys.key = rescored_key_holders.key)
    union
    select other_record_key from candidate_web_order_pairs where record_key in (select record_key from rescored_records)
    union
    select record_key from candidate_web_order_pairs where other_record_key in (select record_key from rescored_records)
),

-- ...and the values they hold: each such value's holders and records are counted in full (whether
-- it is shared; whether a record has a phone of its own)
scope_keys as materialized (
    {{ keys_of | replace('RECORDS', 'scope_records') }}
),

-- the holders of those values
group_records as (
    select distinct record_key from ({{ holders_of | replace('KEYS', 'scope_keys') }}) as holders
),
{%- endif %}

-- every value a record can be found by, with who holds the record
record_identifiers as (
    select candidates.record_key, {{ holder }} as holder, identifiers.kind, identifiers.value, identifiers.is_local
    from candidates
    cross join lateral (values {{ pairing_identifier_values() }}) as identifiers (kind, value, is_local)
    where identifiers.value is not null
    {%- if previous is not none %}
        and candidates.record_key in (select record_key from group_records)
        and identifiers.kind || ':' || identifiers.value in (select key from scope_keys)
    {%- endif %}
    union all
    select record_key, {{ holder }}, 'tax_id', swapped_body, false
    from candidates
    cross join lateral unnest(tax_id_swapped_bodies) as swapped_body
    {%- if previous is not none %}
    where 'tax_id:' || swapped_body in (select key from scope_keys)
    {%- endif %}
),

-- each value once, with its records. A value is shared (makes no candidates, and says nothing)
-- when more holders than one household has carry it (the business's own line, a placeholder, an
-- office building's door), or more records than one busy customer leaves in every channel. One
-- grouping gives both the sizes and the records to pair, where deduplicating the identifier rows,
-- counting them, joining each back to its value's count and joining them to themselves sorted or
-- hashed them four times (1.1 to 2.5 s more at 100,000 customers: bench/RESULTS.md)
identifier_groups as materialized (
    select
        kind,
        value,
        count(distinct record_key) as records,
        {{ is_shared }} as is_shared,
        -- a record holding a value twice (a tail of both its phones) is listed twice: the pairs
        -- below are distinct
        array_agg(record_key) as record_keys,
        array_agg(is_local) as record_is_local,
        -- whether a record whose pairs are scored again holds it (its pairs are made from it)
        {% if previous is not none -%} rescored_keys.key is not null {%- else -%} true {%- endif %} as is_rescored
    from record_identifiers
    {%- if previous is not none %}
    left join rescored_keys on record_identifiers.kind || ':' || record_identifiers.value = rescored_keys.key
    group by kind, value, rescored_keys.key
    {%- else %}
    group by kind, value
    {%- endif %}
),

-- the records with a phone of their own: one whose last seven digits are not shared (a record
-- carrying only the business's own number or an office's switchboard has none)
own_phones as (
    select distinct record_key
    from identifier_groups
    cross join lateral unnest(identifier_groups.record_keys) as record_key
    where identifier_groups.kind = 'phone_tail' and not identifier_groups.is_shared
),

-- the records of a value no more than one household holds, two by two
blocked_pairs as (
    select distinct a.record_key, b.record_key as other_record_key
    from identifier_groups
    cross join lateral unnest(identifier_groups.record_keys, identifier_groups.record_is_local) as a (record_key, is_local)
    cross join lateral unnest(identifier_groups.record_keys, identifier_groups.record_is_local) as b (record_key, is_local)
    where
        identifier_groups.records >= 2 and not identifier_groups.is_shared and identifier_groups.is_rescored
        and a.record_key < b.record_key
        and (identifier_groups.kind <> 'phone_tail' or a.is_local or b.is_local)
),

-- a person's given name with each other word of the name, in the person's city
-- (`juan|perez|bogota`, `juan|gomez|bogota` for Juan Pérez Gómez of Bogotá)
name_keys as (
    {%- if previous is not none %}
    -- (those the records scored again hold)
    select distinct record_key, substr(key, length('name:') + 1) as name_key
    from rescored_key_holders
    where key like 'name:%'
    {%- else %}
    select distinct candidates.record_key, {{ pairing_name_key('candidates', 'word') }} as name_key
    from candidates
    cross join lateral unnest(candidates.name_words[2:]) as word
    where {{ pairing_name_key('candidates', 'word') }} is not null
    {%- endif %}
),

-- the only two records of a city whose names share such a key: a name no namesake there holds
rare_name_keys as (
    select record_key, name_key
    from (select name_keys.*, count(*) over (partition by name_key) as records from name_keys) as counted
    where records = 2
),

rare_name_pairs as (
    select distinct a.record_key, b.record_key as other_record_key
    from rare_name_keys as a
    inner join rare_name_keys as b
        on a.name_key = b.name_key
        and a.record_key < b.record_key
),

pairs as (
    select record_key, other_record_key from blocked_pairs
    union
    select record_key, other_record_key from rare_name_pairs
    union
    select record_key, other_record_key
    from candidate_web_order_pairs
    {%- if previous is not none %}
    -- (two filters, not `in ... or in ...`: subplans the planner runs per row once the set is large)
    where record_key in (select record_key from rescored_records)
    union
    select record_key, other_record_key
    from candidate_web_order_pairs
    where other_record_key in (select record_key from rescored_records)
    {%- endif %}
),

compared as (
    select
        pairs.record_key,
        pairs.other_record_key,
        a.email_canonical,
        common_phone.phone as common_phone,
        common_tail.tail as common_tail,
        coalesce(a.tax_id_normalized, a.tax_id_body) as tax_id_compared,
        a.name_compared,
        b.name_compared as other_name_compared,
        a.city_normalized,
        b.city_normalized as other_city_normalized,
        web_order_pairs.order_name,
        case
            when a.email_canonical is null or b.email_canonical is null then 'missing'
            -- one side typed a provider's name alone (`juan@yahoo`) that may be either of two of its
            -- domains, whose mailboxes of that local part the records both hold (namesakes at
            -- yahoo.com and yahoo.es: int_customer_records_unioned leaves it as typed)
            when split_part(a.email_canonical, '@', 1) = split_part(b.email_canonical, '@', 1)
                and (split_part(a.email_canonical, '@', 2) = split_part(split_part(b.email_canonical, '@', 2), '.', 1)
                     or split_part(b.email_canonical, '@', 2) = split_part(split_part(a.email_canonical, '@', 2), '.', 1))
                then 'undecided'
            when a.email_canonical <> b.email_canonical then 'different'
            when email_size.is_shared then 'shared'
            -- a big provider's mailbox named by a given name alone and a number (`carlos26@gmail.com`),
            -- the kind a buyer without e-mail makes up at a checkout: other people type it too
            when split_part(a.email_canonical, '@', 2) in ('{{ var("email_providers") | join("', '") }}')
                and split_part(a.email_canonical, '@', 1) ~ '^[a-z]+\d{0,3}$'
                and regexp_replace(split_part(a.email_canonical, '@', 1), '\d+$', '') in (a.name_words[1], b.name_words[1])
                then 'given_name'
            when a.email_normalized = b.email_normalized then 'exact'
            else 'variant'
        end as typed_email_level,
        case
            when common_phone.phone is not null and phone_size.is_shared then 'shared'
            when common_phone.is_landline then 'exact_landline'
            when common_phone.phone is not null then 'exact'
            when common_tail.tail is not null and tail_size.is_shared then 'shared'
            when common_tail.tail is not null then 'tail'
            -- one side has no phone, or only a shared one (the business's own number typed for
            -- its customers): that says nothing against the other's
            when a_phone.record_key is null or b_phone.record_key is null then 'missing'
            -- a company's line beside a person's mobile (its buyer's) says nothing
            when a.is_company <> b.is_company then 'missing'
            else 'different'
        end as phone_level,
        case
            when a.tax_id_normalized = b.tax_id_normalized then 'exact'
            when a.tax_id_body = b.tax_id_body and (a.tax_id_is_valid = false or b.tax_id_is_valid = false) then 'doubtful'
            -- an id that one swap of neighbouring digits turns into the other's valid id, its check
            -- digit fitting both bodies: a doubtful id's slip in the body, or a valid id's slip
            -- the check digit cannot catch (`963302508-1` for `936302508-1`)
            when {{ tax_ids_one_swap_apart('a', 'b') }} then 'doubtful'
            when a.tax_id_normalized is not null and b.tax_id_normalized is not null then 'different'
            else 'missing'
        end as tax_id_level,
        case
            when a.name_words is null or b.name_words is null then 'missing'
            when a.is_company and b.is_company then
                case
                    when a.company_name_compared = b.company_name_compared then 'company_exact'
                    when similarity(a.company_name_compared, b.company_name_compared) >= 0.5 then 'company_similar'
                    else 'company_different'
                end
            -- a company beside a person: their mailbox at the company's domain, their surname in its name
            when a.is_company then {{ company_person_level('a', 'b') }}
            when b.is_company then {{ company_person_level('b', 'a') }}
            when (select array_agg(w order by w) from unnest(a.name_words) as w)
                = (select array_agg(w order by w) from unnest(b.name_words) as w) then 'exact'
            -- before `compatible`: `García García` has a word for each of `García Rojas` but
            -- the one García of the son's name cannot stand for both of the father's
            when name_check.given_agree and name_check.surnames_conflict then 'different_surname'
            when name_check.words_agree and name_check.given_agree then 'compatible'
            when name_check.words >= 2 and name_check.given_agree then 'partly_compatible'
            when not coalesce(name_check.given_agree, false)
                and length(a.name_words[1]) > 1 and length(b.name_words[1]) > 1 then 'different_given_name'
            when similarity(a.name_compared, b.name_compared) >= 0.5 then 'similar'
            else 'different'
        end as name_level,
        case
            when a.city_normalized is null or b.city_normalized is null then 'missing'
            when a.city_normalized = b.city_normalized then 'same'
            else 'different'
        end as city_level,
        case
            when a.address_key is null or b.address_key is null then 'missing'
            -- a company's door beside a person's (its buyer's, or staff who have their purchases
            -- sent to the office) says nothing, as its line does not
            when a.is_company <> b.is_company then 'missing'
            -- in another city the address differs with it: the city's comparison says so already
            when a.city_normalized <> b.city_normalized then 'other_city'
            when a.address_key <> b.address_key then 'different'
            when address_size.is_shared then 'shared'
            -- two units of one building (`Apto 301`, `Apto 1102`): its residents are no household
            when {{ other_units }} then 'other_unit'
            else 'exact'
        end as typed_address_level,
        a.address_key,
        -- the same door in the same city, a company's beside its buyer's included (a door more
        -- holders share than one household is no one's)
        coalesce(a.address_key = b.address_key and a.city_normalized = b.city_normalized, false)
            and not coalesce(address_size.is_shared, false)
            and not {{ other_units }} as shares_door,
        web_order_pairs.link_kind,
        rare_name_pairs.record_key is not null as is_rare_name_pair
    from pairs
    inner join candidates as a on pairs.record_key = a.record_key
    inner join candidates as b on pairs.other_record_key = b.record_key
    left join web_order_pairs
        on pairs.record_key = web_order_pairs.record_key
        and pairs.other_record_key = web_order_pairs.other_record_key
    left join rare_name_pairs
        on pairs.record_key = rare_name_pairs.record_key
        and pairs.other_record_key = rare_name_pairs.other_record_key
    cross join lateral (
        select min(phone) as phone, (array_agg(is_landline order by phone))[1] as is_landline
        from unnest(array[a.phone_normalized, a.other_phone_normalized], array[a.phone_is_landline, a.other_phone_is_landline])
            as phones (phone, is_landline)
        where phone is not null and phone in (b.phone_normalized, b.other_phone_normalized)
    ) as common_phone
    cross join lateral (
        select min(a_tail.tail) as tail
        from (values (a.phone_tail, a.phone_normalized is null), (a.other_phone_tail, a.other_phone_normalized is null))
            as a_tail (tail, is_local)
        inner join (values (b.phone_tail, b.phone_normalized is null), (b.other_phone_tail, b.other_phone_normalized is null))
            as b_tail (tail, is_local)
            on a_tail.tail = b_tail.tail
        where a_tail.is_local or b_tail.is_local
    ) as common_tail
    left join own_phones as a_phone on pairs.record_key = a_phone.record_key
    left join own_phones as b_phone on pairs.other_record_key = b_phone.record_key
    left join identifier_groups as email_size
        on email_size.kind = 'email' and email_size.value = a.email_canonical
    left join identifier_groups as phone_size
        on phone_size.kind = 'phone' and phone_size.value = common_phone.phone
    left join identifier_groups as tail_size
        on tail_size.kind = 'phone_tail' and tail_size.value = common_tail.tail
    left join identifier_groups as address_size
        on address_size.kind = 'address' and address_size.value = a.address_key || '|' || a.city_normalized
    -- the words of two people's names compared (name_level), for the pairs that need it only: two
    -- names alike word for word, a company's, or a missing one are decided without it
    left join lateral (
        select
            agreeing.words = cardinality(words.shorter) as words_agree,
            agreeing.words,
            {{ given_names_agree('words.shorter[1]', 'words.longer[1]') }}
            or {{ given_names_agree('words.shorter[1]', 'words.longer[2]', initials=false) }}
            or {{ given_names_agree('words.shorter[2]', 'words.longer[1]', initials=false) }}
            or exists (
                select 1 from given_name_slips
                where (given_name_slips.slip, given_name_slips.given_name)
                    in ((words.shorter[1], words.longer[1]), (words.longer[1], words.shorter[1]))
            ) as given_agree,
            -- each name ends in a surname the other lacks (`María Acosta Ospina` / `María Isabel
            -- Acosta Rojas`: two sisters), initials aside; or one name holds its surname twice
            -- and the other ends in a surname it lacks (`Fernando García García` / `Fernando
            -- García Rojas`: the son's one García cannot stand for both of his father's)
            cardinality(words.shorter) >= 2
            and length(words.shorter[cardinality(words.shorter)]) > 1
            and length(words.longer[cardinality(words.longer)]) > 1
            and (
                (not exists (
                    select 1 from unnest(words.longer) as l
                    where {{ name_words_agree('words.shorter[cardinality(words.shorter)]', 'l') }}
                )
                and not exists (
                    select 1 from unnest(words.shorter) as s
                    where {{ name_words_agree('words.longer[cardinality(words.longer)]', 's') }}
                ))
                or (cardinality(words.shorter) >= 3
                    and words.shorter[cardinality(words.shorter)] = words.shorter[cardinality(words.shorter) - 1]
                    and not exists (
                        select 1 from unnest(words.shorter) as s
                        where {{ name_words_agree('words.longer[cardinality(words.longer)]', 's') }}
                    ))
                or (cardinality(words.longer) >= 3
                    and words.longer[cardinality(words.longer)] = words.longer[cardinality(words.longer) - 1]
                    and not exists (
                        select 1 from unnest(words.longer) as l
                        where {{ name_words_agree('words.shorter[cardinality(words.shorter)]', 'l') }}
                    ))
            ) as surnames_conflict
        from (
            select
                case when cardinality(names.a_words) <= cardinality(names.b_words) then names.a_words else names.b_words end as shorter,
                case when cardinality(names.a_words) <= cardinality(names.b_words) then names.b_words else names.a_words end as longer
            -- each name's words, a surname's initial `d` read as the other's surname after its particle
            from (
                select
                    {{ particle_surname_initial('a.name_words', 'b.name_compared') }} as a_words,
                    {{ particle_surname_initial('b.name_words', 'a.name_compared') }} as b_words
            ) as names
        ) as words
        cross join lateral (
            select count(*) filter (where exists (
                select 1 from unnest(words.longer) as l where {{ name_words_agree('s', 'l') }}
            )) as words
            from unnest(words.shorter) as s
        ) as agreeing
        where a.name_words <> b.name_words and not a.is_company and not b.is_company
        -- kept a subquery (not merged into the join), so that its condition is checked before
        -- the words are compared, not after
        offset 0
    ) as name_check on true
),

-- mailboxes that records of two people hold: among its holders a pair whose names conflict
-- (given names, surnames), or whose valid tax ids differ (a family's inbox)
family_mailboxes as materialized (
    select distinct email_canonical
    from compared
    where
        typed_email_level in ('exact', 'variant')
        and (name_level in {{ family_conflicts }} or tax_id_level = 'different')
),

-- in a family's mailbox, each holder's pairs, both ways: whether their names agree or conflict
family_holders as materialized (
    select compared.record_key, compared.other_record_key, compared.name_level, compared.tax_id_level
    from compared
    inner join family_mailboxes on compared.email_canonical = family_mailboxes.email_canonical
    where compared.typed_email_level in ('exact', 'variant')
    union all
    select compared.other_record_key, compared.record_key, compared.name_level, compared.tax_id_level
    from compared
    inner join family_mailboxes on compared.email_canonical = family_mailboxes.email_canonical
    where compared.typed_email_level in ('exact', 'variant')
),

-- a holder whose name fits two relatives whose names or tax ids conflict (`Juan Rojas` beside
-- `Juan Rojas Cortés` and `Juan Rojas Quintero`): the mailbox cannot say which of them it is, so
-- every pair of that holder in the mailbox is ambiguous, not only those with the two relatives
ambiguous_family_holders as materialized (
    {{ ambiguous_holders('family_holders', family_conflicts) }}
),

-- doors that records of two people hold: among the holders a pair whose names conflict, or whose
-- valid tax ids differ (a household, an office); the address then says less, as a family's
-- mailbox does
household_doors as materialized (
    select distinct address_key, city_normalized
    from compared
    where
        typed_address_level = 'exact'
        and (name_level in {{ family_conflicts }} or tax_id_level = 'different')
),

-- at a household's door, each pair of its holders
household_pairs as materialized (
    select compared.record_key, compared.other_record_key, compared.name_level, compared.tax_id_level
    from compared
    inner join household_doors
        on compared.address_key = household_doors.address_key
        and compared.city_normalized = household_doors.city_normalized
    where compared.typed_address_level = 'exact'
),

-- ...and each holder's pairs, both ways
household_holders as materialized (
    select record_key, other_record_key, name_level, tax_id_level from household_pairs
    union all
    select other_record_key, record_key, name_level, tax_id_level from household_pairs
),

-- a holder whose name fits two residents whose names or tax ids conflict (`Carlos Gómez` at the
-- door of `Carlos Gómez Restrepo` and his son `Carlos Gómez Ospina`): the door cannot say which
-- of them it is (as ambiguous_family_holders for a mailbox)
ambiguous_household_holders as materialized (
    {{ ambiguous_holders('household_holders', family_conflicts) }}
),

-- each pair's levels, computed once (the scoring joins the weights on them)
levelled as materialized (
    select
        compared.*,
        case
            when compared.typed_email_level not in ('exact', 'variant') then compared.typed_email_level
            when ambiguous_holder.record_key is not null or ambiguous_other.record_key is not null then 'family_ambiguous'
            when family_mailboxes.email_canonical is not null then 'family'
            else compared.typed_email_level
        end as email_level,
        case
            when household_pairs.record_key is not null and compared.name_level in ('exact', 'compatible')
                and ambiguous_resident.record_key is null and ambiguous_other_resident.record_key is null
                then 'household_named'
            when household_pairs.record_key is not null then 'household'
            else compared.typed_address_level
        end as address_level,
        -- the ERP finds a web order's partner by its e-mail: when the two share the mailbox (a shared
        -- one too: a family's inbox several people's records carry), the booking adds nothing; nor
        -- does a ticket, which a CRM files on the contact holding the sender's mailbox (a relative's)
        case when compared.typed_email_level not in ('exact', 'variant', 'shared')
            then coalesce(compared.link_kind, 'none') else 'none' end as web_order_level,
        case
            when compared.is_rare_name_pair and compared.name_level in ('exact', 'compatible') then 'only_pair_in_city'
            else 'none'
        end as name_rarity_level
    from compared
    left join family_mailboxes on compared.email_canonical = family_mailboxes.email_canonical
    -- a household's pair found by its keys, not by its door: joined on the door, the planner (which
    -- reckons compared at a billion rows, blind to how few pairs blocking keeps) hashed all of
    -- compared's wide rows into 8,192 batches on disk, 5 to 9 s at 100,000 customers; it hashes the
    -- few household pairs instead
    left join household_pairs
        on compared.record_key = household_pairs.record_key
        and compared.other_record_key = household_pairs.other_record_key
    left join ambiguous_household_holders as ambiguous_resident
        on household_pairs.record_key is not null and compared.record_key = ambiguous_resident.record_key
    left join ambiguous_household_holders as ambiguous_other_resident
        on household_pairs.record_key is not null and compared.other_record_key = ambiguous_other_resident.record_key
    left join ambiguous_family_holders as ambiguous_holder
        on family_mailboxes.email_canonical is not null and compared.record_key = ambiguous_holder.record_key
    left join ambiguous_family_holders as ambiguous_other
        on family_mailboxes.email_canonical is not null and compared.other_record_key = ambiguous_other.record_key
),

scored as (
    select
        levelled.*,
        email.weight as email_weight,
        phone.weight as phone_weight,
        tax_id.weight as tax_id_weight,
        name.weight as name_weight,
        city.weight as city_weight,
        address.weight as address_weight,
        web_order.weight as web_order_weight,
        name_rarity.weight as name_rarity_weight,
        round((ln({{ var('identity_prior_match_probability') }} / (1 - {{ var('identity_prior_match_probability') }})) / ln(2))::numeric, 2)
            + email.weight + phone.weight + tax_id.weight + name.weight + city.weight + address.weight
            + web_order.weight + name_rarity.weight as match_weight
    from levelled
    inner join weights as email on email.comparison = 'email' and email.level = levelled.email_level
    inner join weights as phone on phone.comparison = 'phone' and phone.level = levelled.phone_level
    inner join weights as tax_id on tax_id.comparison = 'tax_id' and tax_id.level = levelled.tax_id_level
    inner join weights as name on name.comparison = 'name' and name.level = levelled.name_level
    inner join weights as city on city.comparison = 'city' and city.level = levelled.city_level
    inner join weights as address on address.comparison = 'address' and address.level = levelled.address_level
    inner join weights as web_order on web_order.comparison = 'web_order' and web_order.level = levelled.web_order_level
    inner join weights as name_rarity on name_rarity.comparison = 'name_rarity' and name_rarity.level = levelled.name_rarity_level
),

final as (
    select
        md5(record_key || '|' || other_record_key) as pair_id,
        record_key,
        other_record_key,
        email_level,
        phone_level,
        tax_id_level,
        name_level,
        city_level,
        address_level,
        web_order_level,
        name_rarity_level,
        match_weight,
        round(1 / (1 + power(2::numeric, -greatest(least(match_weight, 60), -60))), 6) as match_probability,
        case
            -- a doubtful tax id never links on its own: it counts when another comparison says the
            -- same (the names agree, a company's name with its buyer's mailbox or surname, or the two
            -- hold one door and their names do not conflict: a company's door beside its buyer's);
            -- else the pair merges only when the rest merges it, and goes to a person at most
            when tax_id_level = 'doubtful' and match_weight - tax_id_weight < {{ var('identity_merge_weight') }}
                and not (
                    name_level in ('exact', 'compatible', 'company_exact', 'company_similar', 'company_mailbox', 'company_surname')
                    or (shares_door and name_level not in {{ family_conflicts }})
                )
                then case when match_weight >= {{ var('identity_review_weight') }} then 'review' else 'apart' end
            -- a mobile and a door of each one's own: the mailbox and the name that outweigh them
            -- are what two relatives named alike share; a person decides (conflict below)
            when {{ own_phone_and_door }} and match_weight >= {{ var('identity_review_weight') }} then 'review'
            when match_weight >= {{ var('identity_merge_weight') }} then 'merge'
            when match_weight >= {{ var('identity_review_weight') }} then 'review'
            else 'apart'
        end as decision,
        -- what in the pair's own comparisons says two people: two valid tax ids, two second
        -- surnames, a mobile and a door of each one's own (above). A pair that says so and did not
        -- merge is one that no chain of other links may join (int_customer_clusters): its own
        -- score weighed the conflict, the chain's scores did not
        case
            when tax_id_level = 'different' then 'tax_id'
            when name_level = 'different_surname' then 'surname'
            when {{ own_phone_and_door }} then 'phone_and_door'
        end as conflict,
        -- the comparison that weighs most for the pair: what joined (or nearly joined) it
        (array['email', 'phone', 'tax_id', 'name', 'address', 'web_order'])[
            array_position(
                array[email_weight, phone_weight, tax_id_weight, name_weight, address_weight, web_order_weight],
                greatest(email_weight, phone_weight, tax_id_weight, name_weight, address_weight, web_order_weight)
            )
        ] as strongest_comparison,
        concat_ws(', ',
            case when email_level not in ('missing') then 'email ' || email_canonical end,
            case
                when phone_level in ('exact', 'exact_landline', 'shared') and common_phone is not null then 'phone ' || common_phone
                when phone_level in ('tail', 'shared') and common_tail is not null then 'phone ending ' || common_tail
            end,
            case when tax_id_level in ('exact', 'doubtful') then 'tax id ' || tax_id_compared end,
            case when address_level in ('exact', 'household', 'household_named', 'shared') then 'address ' || address_key end,
            case when web_order_level = 'linked' then 'shop order ' || order_name
                when web_order_level = 'ticket' then order_name end,
            case when name_level not in ('missing') then 'names ' || name_compared || ' / ' || other_name_compared end
        ) as matched_on,
        concat_ws('; ',
            format('email %s %s', email_level, to_char(email_weight, 'FMSG990.0')),
            format('phone %s %s', phone_level, to_char(phone_weight, 'FMSG990.0')),
            format('tax id %s %s', tax_id_level, to_char(tax_id_weight, 'FMSG990.0')),
            format('name %s %s', name_level, to_char(name_weight, 'FMSG990.0')),
            format('city %s %s', city_level, to_char(city_weight, 'FMSG990.0')),
            format('address %s %s', address_level, to_char(address_weight, 'FMSG990.0')),
            case when web_order_level <> 'none' then format('web order %s %s', order_name, to_char(web_order_weight, 'FMSG990.0')) end,
            case when name_rarity_level <> 'none' then format('name %s %s', name_rarity_level, to_char(name_rarity_weight, 'FMSG990.0')) end,
            format('prior %s', to_char(round((ln({{ var('identity_prior_match_probability') }} / (1 - {{ var('identity_prior_match_probability') }})) / ln(2))::numeric, 2), 'FMSG990.0'))
        ) as explanation,
        order_name as web_order,
        (select scoring_hash from scoring) as scoring_hash
    from scored
)

select final.*, '{{ invocation_id }}' as scoring_run from final
{%- if previous is not none %}
-- the pairs of the records scored again (the others scored here are only what those pairs needed
-- of their values' holders)...
where record_key in (select record_key from rescored_records)
union all
select final.*, '{{ invocation_id }}' from final
where other_record_key in (select record_key from rescored_records)
    and not exists (select 1 from rescored_records where rescored_records.record_key = final.record_key)
-- ...and the others, as the previous build scored them: two candidates, neither scored again
union all
select {{ pair_columns | join(', ') }}, '{{ invocation_id }}'
from {{ previous }} as previous_build
where record_key in (select record_key from candidates)
    and other_record_key in (select record_key from candidates)
    and not exists (select 1 from rescored_records where rescored_records.record_key = previous_build.record_key)
    and not exists (select 1 from rescored_records where rescored_records.record_key = previous_build.other_record_key)
{%- endif %}
