{#
    Stripe's charges (every attempt) in contract `provider_payments` (fct_payments). A charge names
    the WooCommerce order in its metadata (its id, written by the store's Stripe gateway):
    `shop_order_key` is that order's key in the marts (int_web_orders_unioned's `order_id`), and
    `external_reference` its name (`WC-1042`). Its status is said in Mercado Pago's words:
    `approved` (succeeded), `refunded` (in full), `charged_back` (disputed: the funds are withdrawn
    while the dispute lasts, and for good once it is lost; a dispute won is `approved` again,
    though Stripe leaves the charge `disputed`), `rejected` (failed), `pending`; `status_detail`
    keeps Stripe's own (`succeeded`, `failed: card_declined`, `disputed: won`). Its fee and net are
    those of its balance transaction, converted to the charge's currency when the account settles
    in another (`exchange_rate`), plus the fees of its disputes (on the dispute's own balance
    transactions, which name the dispute, not the charge), which also come out of what the charge
    left in the account.
#}

with

charges as (
    select * from {{ ref('stg_stripe__charges') }}
    where not is_deleted
),

-- the balance transaction that credited each charge, in the charge's currency
credited as (
    select
        source_object_id as charge_id,
        sum(fee_amount / coalesce(nullif(exchange_rate, 0), 1)) as fee_amount,
        sum(net_amount / coalesce(nullif(exchange_rate, 0), 1)) as net_received_amount
    from {{ ref('stg_stripe__balance_transactions') }}
    where transaction_type in ('charge', 'payment') and not is_deleted
    group by source_object_id
),

-- the fees of a charge's disputes, in the charge's currency (the dispute's withdrawal carries the
-- fee; a reinstatement may return it)
dispute_fees as (
    select
        disputes.charge_id,
        sum(movements.fee_amount / coalesce(nullif(movements.exchange_rate, 0), 1)) as fee_amount
    from {{ ref('stg_stripe__balance_transactions') }} as movements
    inner join {{ ref('stg_stripe__disputes') }} as disputes
        on movements.source_object_id = disputes.dispute_id
    where movements.transaction_type = 'adjustment' and not movements.is_deleted and not disputes.is_deleted
    group by disputes.charge_id
),

-- a charge's latest dispute: won gives the money back, lost or still open keeps it withdrawn
disputed as (
    select distinct on (charge_id) charge_id, dispute_status
    from {{ ref('stg_stripe__disputes') }}
    where not is_deleted
    order by charge_id, created_at desc, dispute_id desc
),

refunded as (
    select charge_id, count(*) as refund_count, max(created_at) as last_refunded_at
    from {{ ref('stg_stripe__refunds') }}
    where refund_status in ('succeeded', 'pending') and not is_deleted
    group by charge_id
),

stripe_charges as (
    select
        charges.*,
        case
            when charges.charge_status = 'failed' then 'rejected'
            when charges.charge_status is distinct from 'succeeded' then charges.charge_status
            when charges.is_disputed and disputed.dispute_status is distinct from 'won' then 'charged_back'
            when charges.is_refunded then 'refunded'
            else 'approved'
        end as payment_status,
        disputed.dispute_status
    from charges
    left join disputed
        on disputed.charge_id = charges.charge_id
)

select
    stripe_charges.charge_id as payment_id,
    'stripe' as provider,
    'WC-' || stripe_charges.order_number as external_reference,
    case when stripe_charges.woocommerce_order_id is not null
        then md5({{ record_key("'woocommerce_order'", 'stripe_charges.woocommerce_order_id') }})
    end as shop_order_key,
    stripe_charges.payment_status,
    case
        when stripe_charges.failure_code is not null then stripe_charges.charge_status || ': ' || stripe_charges.failure_code
        when stripe_charges.is_disputed then 'disputed: ' || coalesce(stripe_charges.dispute_status, 'open')
        when stripe_charges.refunded_amount > 0 and not stripe_charges.is_refunded then 'partially_refunded'
        else stripe_charges.charge_status
    end as status_detail,
    stripe_charges.payment_method,
    stripe_charges.payment_method as payment_type,
    stripe_charges.currency_code,
    stripe_charges.amount,
    case when stripe_charges.charge_status = 'succeeded' then stripe_charges.amount else 0 end as collected_amount,
    stripe_charges.refunded_amount,
    case when stripe_charges.payment_status = 'charged_back' then stripe_charges.amount - stripe_charges.refunded_amount
         else 0 end as charged_back_amount,
    case when stripe_charges.payment_status = 'approved' then stripe_charges.amount - stripe_charges.refunded_amount
         else 0 end as net_amount,
    coalesce(credited.fee_amount, 0) + coalesce(dispute_fees.fee_amount, 0) as fee_amount,
    coalesce(credited.net_received_amount, 0) - coalesce(dispute_fees.fee_amount, 0) as net_received_amount,
    coalesce(refunded.refund_count, 0) as refund_count,
    refunded.last_refunded_at,
    stripe_charges.created_at,
    case when stripe_charges.charge_status = 'succeeded' then stripe_charges.created_at end as approved_at,
    stripe_charges.updated_at
from stripe_charges
left join credited
    on credited.charge_id = stripe_charges.charge_id
left join refunded
    on refunded.charge_id = stripe_charges.charge_id
left join dispute_fees
    on dispute_fees.charge_id = stripe_charges.charge_id
