{#
    Post-hooks of the incremental facts: a delete+insert only replaces the keys a night
    recomputed, so the rows whose source went away are deleted here.
#}

{#
    fct_orders: web orders whose shop order was deleted, and ERP orders whose sale order was
    deleted, went back to quotation, or is now carried by a web order (its reference matched a
    shop order).
#}
{% macro remove_vanished_orders() %}
{% if is_incremental() %}
delete from {{ this }} as orders
where
    (
        orders.channel = 'web'
        and not exists (
            select 1 from {{ ref('stg_shopify__orders') }} as shop_orders
            where shop_orders.order_id = orders.shopify_order_id and not shop_orders.is_deleted
        )
    )
    or (
        orders.channel = 'erp'
        and (
            not exists (
                select 1 from {{ ref('stg_odoo__sale_orders') }} as sale_orders
                where
                    sale_orders.sale_order_id = orders.odoo_sale_order_id
                    and not sale_orders.is_deleted
                    and sale_orders.state in ('sale', 'done', 'cancel')
            )
            or exists (
                select 1 from {{ this }} as web_orders
                where web_orders.channel = 'web' and web_orders.odoo_sale_order_id = orders.odoo_sale_order_id
            )
        )
    )
{% else %}
select 1
{% endif %}
{% endmacro %}


{#
    fct_order_lines: a line stays only while its order is in fct_orders and was not refreshed
    after the line was written. Every order a night refreshes gets its lines rewritten
    (delete+insert by order), so what this deletes is the lines of orders that left
    fct_orders, or that the night refreshed but which have no lines left; and ERP lines
    deleted in the ERP.
#}
{% macro remove_vanished_order_lines() %}
{% if is_incremental() %}
delete from {{ this }} as lines
where
    not exists (
        select 1 from {{ ref('fct_orders') }} as orders
        where orders.order_id = lines.order_id and orders.refreshed_at <= lines.refreshed_at
    )
    or lines.odoo_sale_order_line_id in (
        select sale_order_line_id from {{ ref('stg_odoo__sale_order_lines') }} where is_deleted
    )
{% else %}
select 1
{% endif %}
{% endmacro %}
