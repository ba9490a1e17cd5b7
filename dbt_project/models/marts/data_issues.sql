{#
    Every value staging could not type, one row per record and field, for the operator: the
    value became null, or, when it was one every later model needs (the record's key or
    amount, ...: `required` in the staging models), the whole record was quarantined (kept out
    of every later model). Built from the `data_issues` column of the
    staging models (macros/casting.sql), so it always describes the records as they are now:
    a record fixed at the source and landed again leaves this table on the next night.
    Deleted records are left out.

    Also every doubtful tax id of a customer record (int_customer_records_unioned: its check
    digit fails), with the value its body calls for: the record keeps it, but identity
    resolution uses it as weaker evidence only, never as a key. It is named where a person fixes
    it: the record's own object and the field of that object its system keeps the tax id in, as
    each source declares it in its folder (PersonalData.tax_id in
    puente/sources/<system>/settings.py, gathered into macro customer_tax_id_fields): a Salesforce
    Lead's `Tax_Id__c`, a Tienda Nube customer's `identification`. A record known only from its
    orders (a Mercado Libre buyer, a store customer that has not landed) keeps its own id, its
    tax id named on its orders (`billing_info.doc_number`, `contact_identification`).
    When another record of the same customer (int_customers_matched) holds a valid id that one
    swap of two neighbouring digits of the doubtful one's body gives, its check digit(s) being
    the ones typed (tax_id_swapped_bodies), the reason names that record and its id too: the
    slip was likely a swap in the body, not in the check digit. Only that: a swap that makes a
    valid id nobody else holds is no suggestion, since chance gives one often (a doubtful NIT,
    CUIT or RUT whose check digit was the slip has 0.6 to 0.8 valid swaps on average; a real
    swap leaves another valid one about half the time: macro tax_id_transpositions); and two
    records of the customer with different such ids suggest neither.
    And a valid tax id that another record of its customer holds with two neighbouring digits
    swapped, both ids valid with one check digit (a swap the check digit cannot catch: a NIT
    whose DV 1 stands for the remainders 1 and 10, macro tax_id_transpositions; or a cédula typed
    once with its DV and once without): each of the two records is named, beside the other's id,
    as one of the two is mistyped and nothing in the ids tells which.

    Also every identity-review decision in force (ops.customer_match_overrides, not revoked) with a
    record key no customer record of the night has (int_customer_records_unioned): typed wrong in
    SQL, a record deleted at its source, or one that has not landed yet. The decision does nothing
    while so (the DAG puente_review_decisions refuses such a key; the table cannot, as a record may
    land later): revoke it, or correct it with a new decision. Named at the decision: source
    `puente`, object `ops.customer_match_overrides`, its override_id and the field holding the key.
#}

{#- (model, source system, source object as landed in raw, id column, position of the item in its
    array): each staging model's `meta.data_issues` in its _<system>__models.yml, gathered by
    `python -m puente.sources.contracts` into macro data_issue_models (macros/generated/sources.sql) -#}
{%- set staged = data_issue_models() -%}
{#- The objects a model of its own reports the fields of (a record's own fields, not its items'). An
    object read only item by item (a Tienda Nube product, one row per variant) has its own fields
    reported by its first item's row, once per record. -#}
{%- set whole_records = [] -%}
{%- for model, source_system, source_object, id_column, position in staged if not position -%}
    {%- do whole_records.append(source_system ~ '.' ~ source_object) -%}
{%- endfor -%}
{#- {system: {object: the field a person finds a customer record's tax id in}} -#}
{%- set tax_id_fields = customer_tax_id_fields() -%}

with

issues as (
    {%- for model, source_system, source_object, id_column, position in staged %}
    select
        '{{ source_system }}' as source_system,
        '{{ source_object }}' as source_object,
        {{ id_column }} as record_id,
        {%- if position %}
        replace(issue ->> 'field', '[]', '[' || {{ position }} || ']') as field,
        {%- else %}
        issue ->> 'field' as field,
        {%- endif %}
        issue ->> 'value' as raw_value,
        issue ->> 'reason' as reason,
        (issue ->> 'quarantines')::boolean as quarantines_record,
        {{ is_quarantined('data_issues') }} as is_record_quarantined,
        '{{ model }}' as staging_model,
        loaded_at
    from {{ ref(model) }}
    cross join lateral unnest(data_issues) as issues (issue)
    where
        data_issues is not null and not is_deleted
        {%- if position and (source_system ~ '.' ~ source_object) in whole_records %}
        -- (the record's own fields are reported by the record's model)
        and issue ->> 'field' like '%[]%'
        {%- elif position %}
        -- (no model of the record's own: its first item reports the record's fields)
        and (issue ->> 'field' like '%[]%' or {{ position }} = 1)
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

tax_id_fields (source_system, source_object, field) as (
    values
    {%- for system, objects in tax_id_fields.items() %}{% for object, field in objects.items() %}
        ('{{ system }}', '{{ object }}', '{{ field }}'){% if not loop.last %},{% endif %}
    {%- endfor %}{% if not loop.last %},{% endif %}{% endfor %}
),

-- an id (doubtful, or valid with a swap its check digit cannot catch) one swap of neighbouring
-- digits from exactly one valid id of another record of its customer
swapped_tax_ids as (
    select
        swapped.record_key,
        min(other.tax_id) as other_tax_id,
        min(other.record_key) as other_record_key
    from {{ ref('int_customers_matched') }} as swapped
    inner join {{ ref('int_customers_matched') }} as other
        on swapped.customer_id = other.customer_id
        and swapped.record_key <> other.record_key
        and other.tax_id_is_valid
        and {{ tax_ids_one_swap_apart('swapped', 'other') }}
    group by swapped.record_key
    having count(distinct other.tax_id_normalized) = 1
),

doubtful_tax_ids as (
    select
        records.source_system,
        records.source_object,
        records.source_record_id as record_id,
        -- (null for an object that declares no tax id field: the not_null test on field says so)
        tax_id_fields.field,
        records.tax_id as raw_value,
        case
            when records.tax_id_is_valid then format(
                'tax id valid, but %s of the same customer holds %s, these digits with two neighbours'
                || ' swapped, the check digit fitting both: one of the two is mistyped',
                swapped_tax_ids.other_record_key, swapped_tax_ids.other_tax_id
            )
            else 'tax id check digit fails' || coalesce(' (' || records.tax_id_corrected || ' would be valid)', '')
                || case when swapped_tax_ids.record_key is not null then format(
                    '; %s of the same customer holds %s, these digits with two neighbours swapped',
                    swapped_tax_ids.other_record_key, swapped_tax_ids.other_tax_id
                ) else '' end
        end as reason,
        case
            when records.tax_id_is_valid then 'compared with the other id as a doubtful one, not as another taxpayer''s'
            else 'not used as a key to match customers (weaker evidence only)'
        end as consequence,
        false as is_record_quarantined,
        'int_customer_records_unioned' as staging_model,
        null::timestamptz as loaded_at
    from {{ ref('int_customer_records_unioned') }} as records
    left join tax_id_fields
        on records.source_system = tax_id_fields.source_system
        and records.source_object = tax_id_fields.source_object
    left join swapped_tax_ids
        on records.record_key = swapped_tax_ids.record_key
    where records.tax_id_is_valid = false or (records.tax_id_is_valid and swapped_tax_ids.record_key is not null)
),

-- a decision in force whose record key names no customer record of the night
decisions_naming_no_record as (
    select
        'puente' as source_system,
        'ops.customer_match_overrides' as source_object,
        decisions.override_id::text as record_id,
        named.field,
        left(named.record_key, 200) as raw_value,
        'identity-review decision ' || decisions.action || ' names no customer record of the night'
        || ' (a key typed wrong, or a record deleted or not landed yet)' as reason,
        'decision without effect while no record has this key' as consequence,
        false as is_record_quarantined,
        'stg_ops__customer_match_overrides' as staging_model,
        null::timestamptz as loaded_at
    from {{ ref('stg_ops__customer_match_overrides') }} as decisions
    cross join lateral (
        values ('record_key', decisions.record_key), ('other_record_key', decisions.other_record_key)
    ) as named (field, record_key)
    where
        not decisions.is_revoked
        and named.record_key is not null
        and not exists (
            select from {{ ref('int_customer_records_unioned') }} as records
            where records.record_key = named.record_key
        )
),

final as (
    select
        md5(concat_ws('|', source_system, source_object, record_id, field)) as data_issue_id,
        source_system,
        source_object,
        record_id,
        field,
        raw_value,
        reason,
        case
            when quarantines_record then 'record quarantined: kept out of the marts'
            else 'value set to null'
        end as consequence,
        is_record_quarantined,
        staging_model,
        loaded_at
    from issues
    union all
    select
        md5(concat_ws('|', source_system, source_object, record_id, field)) as data_issue_id,
        *
    from doubtful_tax_ids
    union all
    select
        md5(concat_ws('|', source_system, source_object, record_id, field)) as data_issue_id,
        *
    from decisions_naming_no_record
)

select * from final
