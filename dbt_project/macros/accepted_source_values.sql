{#
    accepted_values over the lists the registry derives (macros/generated/sources.sql), so that a
    new source's values are accepted without a second hand-written list in a yml file. `lists`
    names them, their values taken together:
      - `record_kinds`: every record_type of int_customer_records_unioned (customer_record_kinds);
      - `record_systems`: the systems that have customer records (customer_record_types);
      - `contract:<contract>`: the systems that provide a contract (source_contract_systems);
      - `kind:<kind>`: the registry's systems of a kind, `erp`, `crm`, `payments`… (source_systems_of_kind).
    (A macro called in accepted_values' own `values` is not available when dbt runs the test.)
#}
{% test accepted_source_values(model, column_name, lists) %}
    {%- set values = [] -%}
    {%- for name in lists -%}
        {%- if name == 'record_kinds' -%}
            {%- do values.extend(customer_record_kinds()) -%}
        {%- elif name == 'record_systems' -%}
            {%- do values.extend(customer_record_types().keys() | list) -%}
        {%- elif name.startswith('contract:') -%}
            {%- do values.extend(source_contract_systems(name.split(':')[1])) -%}
        {%- elif name.startswith('kind:') -%}
            {%- do values.extend(source_systems_of_kind(name.split(':')[1])) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("accepted_source_values: unknown list " ~ name) }}
        {%- endif -%}
    {%- endfor %}
select {{ column_name }} as value, count(*) as n_records
from {{ model }}
where {{ column_name }} not in ({% for value in values %}'{{ value }}'{% if not loop.last %}, {% endif %}{% endfor %})
group by {{ column_name }}
{% endtest %}
