{#
    Where the systems disagree about one customer: one row per customer and field when the
    customer's records in different systems hold different (normalised) values: the list for a
    person to fix at the source. Compared fields: tax id, name (compared without accents, case or
    punctuation), email, phone and city; each one's owner is the first system of its
    meta.system_of_record in dim_customers (the ERP for the tax id and the name, the CRM for the
    rest: HubSpot, or Salesforce in a business that runs it).
    Values of one system that differ among its own duplicates are not a conflict here.
    The golden record takes the owner's value, or another system's when the owner has none or one
    that cannot be used (an e-mail address with a slip in a provider's domain: owned_field's
    `unusable`), so each row also says which value dim_customers keeps and from which record
    (`golden_*`), by the same rules (macro golden_fields), computed here: a change of them changes
    this model's code too, and its kept rows are computed again (macros/kept_builds.sql).

    Kept by customer (macros/customer_scope.sql): a night computes the customers whose records
    changed since the last build.
#}

{#- each compared field of dim_customers and the column of int_customers_matched it is compared by #}
{%- set compared_columns = {'tax_id': 'tax_id_normalized', 'full_name': 'name_compared', 'email': 'email_normalized',
                            'phone': 'phone_normalized', 'city': 'city_normalized'} %}
{%- set crm_systems = source_systems_of_kind('crm') %}

with

-- the customers changed since the last build (macros/customer_scope.sql)
records as (
    select * from {{ ref('int_customers_matched') }}
    where customer_id in ({{ customers_in_scope() }})
),

field_values as (
    select records.customer_id, records.source_system, records.record_key, fields.field_name, fields.field_value
    from records
    cross join lateral (
        values
        {%- for field, column in compared_columns.items() %}
            ('{{ field }}', records.{{ column }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as fields (field_name, field_value)
    where fields.field_value is not null
),

per_system as (
    select
        customer_id,
        field_name,
        source_system,
        min(field_value) as field_value,
        min(record_key) as record_key
    from field_values
    group by customer_id, field_name, source_system
),

conflicts as (
    select customer_id, field_name
    from per_system
    group by customer_id, field_name
    having count(distinct field_value) > 1
),

-- the record of each customer with a conflict that dim_customers takes each field from
golden_sources as (
    select customer_id, {{ golden_fields() }}
    from (
        select records.*, {{ email_slip('records.email_normalized') }} as is_email_slip
        from records
        where records.customer_id in (select customer_id from conflicts)
    ) as records
    group by customer_id
),

-- the owner of each field as dim_customers declares it: `crm` when it is a CRM (the customer's)
owners as (
    select * from (
        values
        {%- for field in compared_columns %}
            {%- set owner = (systems_of_record('dim_customers', field) or [none])[0] %}
            ('{{ field }}', '{{ "crm" if owner in crm_systems else owner }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as owners (field_name, system_of_record)
),

-- the CRM the customer's records are in (the business runs one)
customer_crm as (
    select customer_id, min(source_system) as crm_system
    from records
    where source_system in ('{{ crm_systems | join("', '") }}')
    group by customer_id
),

-- materialized, so that the conflicts (a seventh of the customer-field groups) are found first and
-- then meet their per_system rows: inlined, the planner joined all of per_system to the owners
-- through their shared field_name and sorted every row on disk before the conflicts dropped most
conflict_owners as materialized (
    select
        conflicts.customer_id,
        conflicts.field_name,
        case
            when owners.system_of_record = 'crm' then coalesce(customer_crm.crm_system, '{{ crm_systems[0] }}')
            else owners.system_of_record
        end as system_of_record,
        -- the record the golden record takes the field from
        case conflicts.field_name
        {%- for field in compared_columns %}
            when '{{ field }}' then golden_sources.{{ field }}_source
        {%- endfor %}
        end as golden_record_key
    from conflicts
    inner join owners
        on conflicts.field_name = owners.field_name
    left join customer_crm
        on conflicts.customer_id = customer_crm.customer_id
    left join golden_sources
        on conflicts.customer_id = golden_sources.customer_id
),

-- the value the golden record keeps, normalised as the systems' values are
golden as (
    select
        conflicts.customer_id,
        conflicts.field_name,
        records.source_system,
        case conflicts.field_name
        {%- for field, column in compared_columns.items() %}
            when '{{ field }}' then records.{{ column }}
        {%- endfor %}
        end as field_value
    from conflict_owners as conflicts
    inner join records
        on conflicts.golden_record_key = records.record_key
),

compared as (
    select
        md5(conflicts.customer_id || ':' || conflicts.field_name) as conflict_id,
        conflicts.customer_id,
        conflicts.field_name,
        conflicts.system_of_record,
        max(per_system.field_value) filter (where per_system.source_system = conflicts.system_of_record) as owner_value,
        conflicts.golden_record_key,
        jsonb_object_agg(per_system.source_system, per_system.field_value) as system_values,
        jsonb_object_agg(per_system.source_system, per_system.record_key) as record_keys
    from conflict_owners as conflicts
    inner join per_system
        on conflicts.customer_id = per_system.customer_id
        and conflicts.field_name = per_system.field_name
    group by conflicts.customer_id, conflicts.field_name, conflicts.system_of_record, conflicts.golden_record_key
),

final as (
    select
        compared.conflict_id,
        compared.customer_id,
        compared.field_name,
        compared.system_of_record,
        compared.owner_value,
        golden.source_system as golden_system,
        golden.field_value as golden_value,
        compared.golden_record_key,
        compared.system_values,
        compared.record_keys
    from compared
    left join golden
        on compared.customer_id = golden.customer_id
        and compared.field_name = golden.field_name
)

select * from final
