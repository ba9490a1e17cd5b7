{#
    Tax ids of the region, by country (ISO 3166-1 alpha-2, a SQL expression such as a
    `country_code` column or a quoted literal): which kind of id a value is, whether its check
    digits hold, and its canonical key. Every macro is one SQL expression; a null or junk value
    gives null, never an error.

      CO  NIT (DIAN verification digit, mod 11 with weights 3, 7, 13, ... 71 from the right)
          and cédula (CC/CE/TI: no check digit, 5 to 10 digits);
      AR  CUIT/CUIL (11 digits, mod 11 with weights 5 4 3 2 7 6 5 4 3 2);
      CL  RUT/RUN (body + DV 0-9 or K, mod 11 with weights 2..7 cycling from the right);
      MX  RFC (3 letters for a company or 4 for a person, YYMMDD, 2 homoclave characters and
          the SAT check character: mod 11 over the first 12 characters, a company's padded
          with a leading space, weights 13 down to 2);
      BR  CPF (11 digits, two mod-11 digits) and CNPJ (14 digits, two mod-11 digits).
    Repeated-digit values (`111.111.111-11`, `222222222222`) are never valid, and the SAT's
    generic RFCs (`XAXX010101000` for the general public, `XEXX010101000` for foreigners) are
    no tax id of anyone. Some RFCs the SAT issued long ago fail their check character: such a
    value is doubtful here (flagged, compared on its body), never a key on its own.
#}

{# Sum of digit i of `digits` (text of exactly len(weights) digits) times weights[i]. #}
{% macro weighted_digit_sum(digits, weights) -%}
    (
        {%- for weight in weights %}
        substr({{ digits }}, {{ loop.index }}, 1)::int * {{ weight }}{{ ' +' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{# DIAN verification digit of a NIT body of up to 15 digits. #}
{% macro dian_check_digit(body) -%}
    (
        select case when remainder < 2 then remainder else 11 - remainder end
        from (
            select mod({{ weighted_digit_sum("lpad(" ~ body ~ ", 15, '0')", [71, 67, 59, 53, 47, 43, 41, 37, 29, 23, 19, 17, 13, 7, 3]) }}, 11) as remainder
        ) as dian
    )
{%- endmacro %}

{#
    The SAT check character of an RFC whose first characters (without it) are `body`, a SQL
    expression of 11 (a company) or 12 (a person) characters: each character's value in
    `0-9 A-N & O-Z space Ñ` (0 to 38) times 13, 12, ... 2, the body padded to 12 with a leading
    space; the sum modulo 11 gives '0' for 0, 'A' for 1, else 11 minus it.
#}
{% macro rfc_check_character(body) -%}
    (
        select case r when 0 then '0' when 1 then 'A' else (11 - r)::text end
        from (
            select mod(sum((strpos('0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ Ñ', substr(padded, i, 1)) - 1) * (14 - i)), 11) as r
            from (select lpad({{ body }}, 12, ' ') as padded) as rfc, generate_series(1, 12) as i
        ) as sat
    )
{%- endmacro %}

{# CUIT/CUIL check digit of its first ten digits (text), null where the remainder gives none (10). #}
{% macro cuit_check_digit(body) -%}
    (
        select case r when 11 then '0' when 10 then null else r::text end
        from (select 11 - mod({{ weighted_digit_sum(body, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as cuit
    )
{%- endmacro %}

{# RUT/RUN verification digit (`0`-`9` or `K`) of a body of digits. #}
{% macro rut_check_digit(body) -%}
    (
        select case r when 11 then '0' when 10 then 'K' else r::text end
        from (
            select 11 - mod(sum(substr(reverse({{ body }}), i, 1)::int * (2 + mod(i - 1, 6))), 11) as r
            from generate_series(1, length({{ body }})) as i
        ) as rut
    )
{%- endmacro %}

{# The two check digits (text) of a CPF's first nine digits. #}
{% macro cpf_check_digits(body) -%}
    (
        select d1::text || mod(mod({{ weighted_digit_sum("(" ~ body ~ ") || d1::text", [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) }} * 10, 11), 10)::text
        from (select mod(mod({{ weighted_digit_sum(body, [10, 9, 8, 7, 6, 5, 4, 3, 2]) }} * 10, 11), 10) as d1) as first_digit
    )
{%- endmacro %}

{# The two check digits (text) of a CNPJ's first twelve digits. #}
{% macro cnpj_check_digits(body) -%}
    (
        select d1::text || (
            select case when r < 2 then 0 else 11 - r end
            from (select mod({{ weighted_digit_sum("(" ~ body ~ ") || d1::text", [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as d2
        )::text
        from (
            select case when r < 2 then 0 else 11 - r end as d1
            from (select mod({{ weighted_digit_sum(body, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as d1r
        ) as first_digit
    )
{%- endmacro %}

{#
    The check digit(s) a body calls for, as text, by kind (tax_id_kind's answer, a SQL
    expression): NIT, CUIT, RUT, RFC one character, CPF and CNPJ two; null for a kind without
    one, or a CUIT body whose remainder gives none. The body must have the kind's length (a CUIT
    ten digits, a CPF nine, a CNPJ twelve).
#}
{% macro tax_id_check_digits(body, kind) -%}
    (
        case {{ kind }}
            when 'nit' then {{ dian_check_digit(body) }}::text
            when 'cuit' then {{ cuit_check_digit(body) }}
            when 'rut' then {{ rut_check_digit(body) }}
            when 'rfc' then {{ rfc_check_character(body) }}
            when 'cpf' then {{ cpf_check_digits(body) }}
            when 'cnpj' then {{ cnpj_check_digits(body) }}
        end
    )
{%- endmacro %}

{# The compact form every check reads: upper case, without spaces, dots, commas or slashes. #}
{% macro _tax_id_compact(expression) -%}
    regexp_replace(upper({{ expression }}), '[\s.,/]', '', 'g')
{%- endmacro %}

{#
    The kind of tax id: `nit`, `cedula`, `cuit`, `rut`, `rfc`, `cpf`, `cnpj`, or null when the
    value has no recognisable shape for the country.
#}
{% macro tax_id_kind(expression, country_code) -%}
    (
        select
            case upper({{ country_code }})
                when 'CO' then
                    case
                        when compact ~ '^(CC|CE|TI)\d{5,10}$' then 'cedula'
                        when compact ~ '^(NIT)?\d{5,15}-\d$' then 'nit'
                        when digits ~ '^[89]\d{8,9}$' and compact ~ '^(NIT)?\d+$' then 'nit'
                        when compact ~ '^[1-9]\d{4,9}$' then 'cedula'
                    end
                when 'AR' then case when compact ~ '^\d{2}-?\d{8}-?\d$' then 'cuit' end
                when 'CL' then case when compact ~ '^\d{1,8}-?[\dK]$' then 'rut' end
                -- the SAT's generic RFCs (the general public, foreigners) are nobody's
                when 'MX' then case when compact ~ '^[A-ZÑ&]{3,4}\d{6}[A-Z\d]{3}$'
                    and compact not in ('XAXX010101000', 'XEXX010101000') then 'rfc' end
                when 'BR' then
                    case
                        when compact ~ '^\d{3}\d{3}\d{3}-?\d{2}$' then 'cpf'
                        when compact ~ '^\d{8}\d{4}-?\d{2}$' then 'cnpj'
                    end
            end
        from (
            select
                {{ _tax_id_compact(expression) }} as compact,
                regexp_replace({{ expression }}, '\D', '', 'g') as digits
        ) as typed
    )
{%- endmacro %}

{#
    Whether the value's check digits hold for its kind (tax_id_kind); null when the kind is
    unknown. A NIT written without its verification digit and a cédula have no digit to check:
    their format is the test.
#}
{% macro tax_id_is_valid(expression, country_code) -%}
    (
        select
            case
                when kind is null then null
                when digits ~ '^(\d)\1*$' then false
                when kind = 'cedula' then digits ~ '^[1-9]\d{4,9}$'
                when kind = 'nit' and compact ~ '-\d$' then
                    right(digits, 1)::int = {{ dian_check_digit("left(digits, length(digits) - 1)") }}
                when kind = 'nit' and length(digits) = 10 then
                    right(digits, 1)::int = {{ dian_check_digit("left(digits, 9)") }}
                when kind = 'nit' then true
                when kind = 'cuit' then
                    digits ~ '^(20|23|24|27|30|33|34)'
                    and right(digits, 1)::int = (
                        select case r when 11 then 0 when 10 then -1 else r end
                        from (select 11 - mod({{ weighted_digit_sum('left(digits, 10)', [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as cuit
                    )
                when kind = 'rut' then
                    right(compact, 1) = (
                        select case r when 11 then '0' when 10 then 'K' else r::text end
                        from (
                            select 11 - mod(sum(substr(reverse(body), i, 1)::int * (2 + mod(i - 1, 6))), 11) as r
                            from (select regexp_replace(left(compact, length(compact) - 1), '\D', '', 'g') as body) as b,
                                generate_series(1, length(body)) as i
                            group by body
                        ) as rut
                    )
                when kind = 'rfc' then substr(compact, length(compact) - 6, 2)::int between 1 and 12
                    and substr(compact, length(compact) - 4, 2)::int between 1 and 31
                    and right(compact, 1) = {{ rfc_check_character('left(compact, length(compact) - 1)') }}
                when kind = 'cpf' then
                    substr(digits, 10, 1)::int = mod(mod({{ weighted_digit_sum('digits', [10, 9, 8, 7, 6, 5, 4, 3, 2]) }} * 10, 11), 10)
                    and substr(digits, 11, 1)::int = mod(mod({{ weighted_digit_sum('digits', [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) }} * 10, 11), 10)
                when kind = 'cnpj' then
                    substr(digits, 13, 1)::int = (
                        select case when r < 2 then 0 else 11 - r end
                        from (select mod({{ weighted_digit_sum('digits', [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as d1
                    )
                    and substr(digits, 14, 1)::int = (
                        select case when r < 2 then 0 else 11 - r end
                        from (select mod({{ weighted_digit_sum('digits', [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) }}, 11) as r) as d2
                    )
            end
        from (
            select
                {{ tax_id_kind(expression, country_code) }} as kind,
                {{ _tax_id_compact(expression) }} as compact,
                regexp_replace({{ expression }}, '\D', '', 'g') as digits
        ) as typed
    )
{%- endmacro %}

{#
    The matching key of a tax id in its country: Colombia as normalize_tax_id (digits without
    the NIT verification digit); elsewhere null unless tax_id_is_valid, then digits (CUIT, CPF,
    CNPJ), `<body>-<DV>` (RUT) or the compact upper-case RFC. Other countries: digits, as
    normalize_tax_id does. A value whose check digit fails links nobody. `is_valid`: an
    expression holding tax_id_is_valid's answer already (saves checking twice).
#}
{% macro normalize_tax_id_for_country(expression, country_code, is_valid=none) -%}
    (
        select
            case coalesce(upper({{ country_code }}), '{{ var("default_country_code") }}')
                when 'CO' then {{ normalize_tax_id(expression) }}
                when 'AR' then case when is_valid then digits end
                when 'BR' then case when is_valid then digits end
                when 'CL' then case when is_valid then ltrim(regexp_replace(left(compact, length(compact) - 1), '\D', '', 'g'), '0') || '-' || right(compact, 1) end
                when 'MX' then case when is_valid then compact end
                else {{ normalize_tax_id(expression) }}
            end
        from (
            select
                {{ is_valid or tax_id_is_valid(expression, "coalesce(upper(" ~ country_code ~ "), '" ~ var('default_country_code') ~ "')") }} as is_valid,
                {{ _tax_id_compact(expression) }} as compact,
                regexp_replace({{ expression }}, '\D', '', 'g') as digits
        ) as typed
    )
{%- endmacro %}


{#
    A tax id whose check digit fails, written with the digit its body calls for (`900123456-8`
    for `900.123.456-7`; CUIT `20-12345678-6`, RUT `12345678-5`, CPF and CNPJ with both digits):
    what the operator is shown beside the doubtful value. Null when the value is valid, has no
    check digit (a cédula, a NIT without its DV).
    `is_valid` and `kind`: expressions holding tax_id_is_valid's and tax_id_kind's answers.
#}
{% macro tax_id_corrected(expression, country_code, is_valid=none, kind=none) -%}
    (
        select
            case
                when is_valid is distinct from false then null
                when kind = 'nit' then body || '-' || {{ dian_check_digit('body') }}
                when kind = 'cuit' and length(body) = 10 then
                    left(body, 2) || '-' || substr(body, 3) || '-' || {{ cuit_check_digit('body') }}
                when kind = 'rfc' then body || {{ rfc_check_character('body') }}
                when kind = 'rut' and body <> '' then body || '-' || {{ rut_check_digit('body') }}
                when kind = 'cpf' and length(body) = 9 then body || {{ cpf_check_digits('body') }}
                when kind = 'cnpj' and length(body) = 12 then body || {{ cnpj_check_digits('body') }}
            end
        from (
            select
                is_valid,
                kind,
                case
                    when kind in ('cpf', 'cnpj') then left(digits, length(digits) - 2)
                    when kind = 'rut' then regexp_replace(left(compact, length(compact) - 1), '\D', '', 'g')
                    when kind = 'rfc' then left(compact, length(compact) - 1)
                    when kind = 'nit' and compact !~ '-\d$' and length(digits) = 10 then left(digits, 9)
                    else left(digits, length(digits) - 1)
                end as body
            from (
                select
                    {{ is_valid or tax_id_is_valid(expression, country_code) }} as is_valid,
                    {{ kind or tax_id_kind(expression, country_code) }} as kind,
                    {{ _tax_id_compact(expression) }} as compact,
                    regexp_replace({{ expression }}, '\D', '', 'g') as digits
            ) as typed
        ) as parsed
    )
{%- endmacro %}

{#
    The bodies one swap of two neighbouring characters away from a doubtful tax id's whose check
    digit(s) are the ones typed (text[], in tax_id_body's form: a RUT's without leading zeros; null
    when none): what the value may have been typed for. Swapping two neighbouring digits is a
    common slip in typing an id, and the one check digits are chosen to catch; when the digit
    typed is that of such a body, the slip was likely in the body (`967756305-5` for
    `967753605-5`, CUIT `20-21345678-6` for `20-12345678-6`), not in the check digit.
    Every kind with a check digit: NIT (written with its DV), CUIT/CUIL, RUT, RFC (any two
    neighbouring characters), CPF and CNPJ (both digits typed). The swapped body must call for
    the typed digit(s) (tax_id_check_digits, the kind's check-digit macro) and keep the rest of
    the kind's rules (a CUIT's prefix, an RFC's shape and date), as tax_id_is_valid has them:
    the swapped body written with the typed digits would be valid. (Not through tax_id_is_valid
    itself, whose kind test and regular expressions would run again for every swap.) Chance
    makes such neighbours often: one swap in eleven gives a given check digit, so a doubtful NIT,
    CUIT or RUT whose slip was in the check digit has 0.6 to 0.8
    of them (a CPF or CNPJ, whose two digits must both hold, under 0.1), and when the slip was a
    swap, another swap gives the digit(s) typed too about half the time, for every kind (the
    weights of CUIT, RUT, CPF and CNPJ mostly run one apart, so a swap of two digits d apart
    moves the sum by d almost wherever it is; figures from random bodies, simulated). So a swap
    says little on its own: a pair compares it as `doubtful`. A valid id's swaps keep its check
    digit(s) only where they cannot tell two sums apart: 0.13 such swaps per NIT (its DV 1 stands
    for the remainders 1 and 10), 0.06 per RFC (two characters whose values differ by 11, in its
    homoclave), 0.01 to 0.02 per CPF or CNPJ, none for a CUIT or a RUT (random ids of the
    generator, puente.simulators.latam, 3,000 to 20,000 each): a slip there reads as another
    valid id, and the pair compares the two as `doubtful` too. The swaps never cross into the
    check digit. `kind`: an expression holding tax_id_kind's answer already.
#}
{% macro tax_id_transpositions(expression, country_code, kind=none) -%}
    (
        select array_agg(case when parsed.kind = 'rut' then ltrim(swaps.swapped, '0') else swaps.swapped end order by swaps.i)
        from (
            select
                kind,
                case
                    when kind in ('cpf', 'cnpj') then left(digits, length(digits) - 2)
                    when kind = 'rut' then regexp_replace(left(compact, length(compact) - 1), '\D', '', 'g')
                    when kind = 'rfc' then left(compact, length(compact) - 1)
                    when kind = 'cuit' then left(digits, 10)
                    -- a NIT with its DV: after a dash, or the tenth digit of one written without it
                    when kind = 'nit' and (compact ~ '-\d$' or length(digits) = 10) then left(digits, length(digits) - 1)
                end as body,
                case
                    when kind in ('cpf', 'cnpj') then right(digits, 2)
                    when kind in ('rut', 'rfc') then right(compact, 1)
                    else right(digits, 1)
                end as check_digits
            from (
                select
                    {{ kind or tax_id_kind(expression, country_code) }} as kind,
                    {{ _tax_id_compact(expression) }} as compact,
                    regexp_replace({{ expression }}, '\D', '', 'g') as digits
            ) as typed
            -- (evaluated once: PostgreSQL would otherwise pull the subquery up and compute the
            -- kind, body and digits again for every swap)
            offset 0
        ) as parsed
        cross join lateral (
            select
                i,
                left(parsed.body, i - 1) || substr(parsed.body, i + 1, 1) || substr(parsed.body, i, 1) || substr(parsed.body, i + 2) as swapped
            from generate_series(1, length(parsed.body) - 1) as i
        ) as swaps
        where swaps.swapped <> parsed.body
            and {{ tax_id_check_digits('swaps.swapped', 'parsed.kind') }} = parsed.check_digits
            and case parsed.kind
                when 'cuit' then swaps.swapped ~ '^(20|23|24|27|30|33|34)'
                when 'rfc' then swaps.swapped ~ '^[A-ZÑ&]{3,4}\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])[A-Z\d]{2}$'
                else true
            end
    )
{%- endmacro %}

{#
    Whether two records' tax ids are one swap of neighbouring digits apart, the check digit typed
    fitting both: one side's valid id is among the other's tax_id_swapped_bodies (a doubtful id's
    slip in its body, or a valid id's slip its check digit cannot catch). Either way round, as an
    id typed without its check digit has no swaps of its own. `a`, `b`: relations with the columns
    of int_customer_records_unioned. The pairs compare them as `doubtful`
    (int_customer_pairs_scored); marts.data_issues and the warning on customers with two tax ids
    read them as one id mistyped.
#}
{% macro tax_ids_one_swap_apart(a, b) -%}
    (({{ b }}.tax_id_is_valid and {{ b }}.tax_id_body = any({{ a }}.tax_id_swapped_bodies))
     or ({{ a }}.tax_id_is_valid and {{ a }}.tax_id_body = any({{ b }}.tax_id_swapped_bodies)))
{%- endmacro %}
