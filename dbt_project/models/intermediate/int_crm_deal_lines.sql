{#
    The products of the CRM's deals: HubSpot line items, or Salesforce OpportunityLineItems
    (whose `Discount` is a percentage; they carry no discount per unit).
#}

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

union all

select
    line_item_id,
    opportunity_id,
    product_name,
    sku,
    quantity,
    unit_price,
    null::numeric,
    discount_percentage,
    is_deleted
from {{ ref('stg_salesforce__opportunity_line_items') }}
