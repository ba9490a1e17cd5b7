with

source as (
    select * from {{ source('ml', 'next_best_actions') }}
),

renamed as (
    select
        customer_id,
        scored_for_date,
        action as next_action,
        product_id as next_action_product_id,
        reason as next_action_reason,
        is_marketing as is_marketing_action,
        scored_at
    from source
)

select * from renamed
