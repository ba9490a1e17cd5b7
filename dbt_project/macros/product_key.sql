{#
    The product key shared by the ERP and the shop: md5 of `sku:<SKU>` (trimmed, upper case),
    since the shop variant SKU is the ERP product's `default_code`. A product without a SKU
    keeps a key of its own system (`odoo_product:<id>`, `shopify_variant:<id>`), so it is
    never merged by guess. Arguments are SQL expressions.
#}
{% macro product_key(sku, fallback_type, fallback_id) -%}
    md5(coalesce(
        'sku:' || nullif(upper(trim({{ sku }})), ''),
        {{ fallback_type }} || ':' || {{ fallback_id }}
    ))
{%- endmacro %}

{#
    An ERP stock location counts as stock on hand when it is internal: Odoo's `usage` is not
    in the landed fields, so the location's full name decides. Partner locations
    (`Partners/Customers`, `Partners/Vendors`), virtual ones (`Virtual Locations/...`,
    inventory adjustment, scrap, production) and transit are not internal; names listed in
    var `stock_non_internal_location_prefixes` are matched as prefixes.
#}
{% macro is_internal_location(location_name) -%}
    (
        {{ location_name }} is not null
        {%- for prefix in var('stock_non_internal_location_prefixes') %}
        and {{ location_name }} not like '{{ prefix }}%'
        {%- endfor %}
    )
{%- endmacro %}
