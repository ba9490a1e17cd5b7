with

source as (
    select * from {{ source('ml', 'churn_scores') }}
),

renamed as (
    select
        customer_id,
        scored_for_date,
        churn_probability,
        risk_band,
        reasons as churn_reasons,
        model_run_id,
        scored_at
    from source
)

select * from renamed
