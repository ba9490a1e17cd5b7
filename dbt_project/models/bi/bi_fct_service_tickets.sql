{{ config(alias='fct_service_tickets') }}
{{ bi_view(ref('fct_service_tickets')) }}
