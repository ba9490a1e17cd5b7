{{ config(alias='dim_customers') }}
{{ bi_view(ref('dim_customers')) }}
