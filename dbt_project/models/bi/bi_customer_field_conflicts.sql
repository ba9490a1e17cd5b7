{{ config(alias='customer_field_conflicts') }}
{{ bi_view(ref('customer_field_conflicts')) }}
