{#
    The accountant's DIAN work list (a company in Colombia, var `default_country_code` CO): every
    posted customer invoice or credit note the DIAN has not accepted, one row per invoice,
    measured on var `as_of_date` (today when null). Odoo's l10n_co_dian keeps the state of each
    invoice's latest DIAN document in `l10n_co_dian_state` (staging `dian_state`):
      - `invoice_pending`: sent, the DIAN is still validating (usually a day or two);
      - `invoice_rejected`: the DIAN refused it: fix what it names in Odoo and send it again;
      - `invoice_sending_failed`: the DIAN's web service could not be reached: send it again;
      - `false` on a posted invoice: never sent to the DIAN (`not_sent`).
    Only where the ERP sends its invoices to the DIAN itself (staging `is_dian_tracked`).
    `dian_message` is what the DIAN answered (the rules a rejected invoice broke), from the
    invoice's latest DIAN document: what the accountant fixes.
    Until accepted the invoice is not issued: order-to-cash does not count it. `days_pending`
    counts from the invoice date (Odoo sends it when it is posted). Empty for a company outside
    Colombia. The marts gate warns about rows pending for more than a day.
#}

{%- set as_of = as_of_date() %}

with

invoices as (
    select * from {{ ref('stg_odoo__invoices') }}
    where
        not is_deleted
        and move_type in ('out_invoice', 'out_refund')
        and state = 'posted'
        and {{ einvoice_is_pending() }}
),

invoice_customers as (
    select record_key, customer_id from {{ ref('int_customers_matched') }}
),

final as (
    select
        invoices.invoice_id,
        invoices.invoice_name,
        invoices.move_type,
        invoice_customers.customer_id,
        invoices.partner_id as odoo_partner_id,
        invoices.invoice_date,
        coalesce(invoices.dian_state, 'not_sent') as dian_state,
        {{ as_of }} - invoices.invoice_date as days_pending,
        case coalesce(invoices.dian_state, 'not_sent')
            when 'invoice_pending' then 'sent to the DIAN, still being validated: check its status in Odoo'
            when 'invoice_rejected' then 'rejected by the DIAN: fix what it names (customer tax id, address, '
                || 'numbering) in Odoo and send it again'
            when 'invoice_sending_failed' then 'the DIAN could not be reached: send it again from Odoo'
            when 'not_sent' then 'posted but never sent to the DIAN: send it from Odoo'
            else 'unknown DIAN state ' || invoices.dian_state
        end as reason,
        invoices.dian_message,
        'odoo' as fix_in,
        invoices.amount_total,
        invoices.currency_code
    from invoices
    left join invoice_customers
        on invoice_customers.record_key = {{ record_key("'odoo_partner'", 'invoices.partner_id') }}
)

select * from final
