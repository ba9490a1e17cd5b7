{# HubSpot line items in contract `crm_deal_lines` (int_crm_deal_lines). #}

select
    line_item_id,
    deal_id,
    product_name,
    sku,
    quantity,
    unit_price,
    unit_discount,
    discount_percentage,
    is_deleted
from {{ ref('stg_hubspot__line_items') }}
