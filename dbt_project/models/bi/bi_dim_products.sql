{{ config(alias='dim_products') }}
{{ bi_view(ref('dim_products')) }}
