{{ config(alias='customer_service_summary') }}
{{ bi_view(ref('customer_service_summary')) }}
