{#
    Salesforce OpportunityLineItems in contract `crm_deal_lines` (int_crm_deal_lines): their
    `Discount` is a percentage; they carry no discount per unit.
#}

select
    line_item_id,
    opportunity_id as deal_id,
    product_name,
    sku,
    quantity,
    unit_price,
    null::numeric as unit_discount,
    discount_percentage,
    is_deleted
from {{ ref('stg_salesforce__opportunity_line_items') }}
