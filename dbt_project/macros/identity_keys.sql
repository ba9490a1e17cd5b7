{#
    Normalised identity keys: the values records are matched on across ERP, CRM and shop.
    Each macro is one SQL expression that returns null when the input cannot serve as a key,
    so a missing or junk value never links two records.
#}

{#
    Email: trimmed and lower-cased; null when blank or not shaped like `local@domain.tld`, except
    a big provider's name typed without its suffix (`juan@gmail`, var `email_providers`), which
    canonical_email reads as the provider.
#}
{% macro normalize_email(expression) -%}
    {%- set bare_providers = var('email_providers') | map('replace', '.com', '') | map('replace', '.es', '') | unique | list -%}
    (
        select case
            when email ~ '^[^@\s]+@[^@\s]+\.[^@\s.]+$' then email
            when email ~ '^[^@\s]+@[a-z]+$' and split_part(email, '@', 2) in ('{{ bare_providers | join("', '") }}') then email
        end
        from (select lower(trim({{ expression }})) as email) as typed
    )
{%- endmacro %}

{#
    Phone in E.164 (`+573001234567`). `country_code` (a SQL expression, e.g. the record's
    country column) says how to read a national number; without one, var
    `default_country_code` (CO). Digits only, then:
      - an international number written with `+` or `00`: kept, with `+`;
      - a national number of the country, with or without its calling code:
          CO  10 digits, mobile 3xx or landline 60x (national format since 2021)   -> +57
          MX  10 digits, also behind a prefix the 2019 reform dropped (044 or 045 of
              a mobile, 01 of a long-distance call)                                -> +52
          CL  9 digits                                                             -> +56
          AR  10 digits (a leading trunk 0 dropped)                                -> +54
          BR  10 or 11 digits, area code first (a leading trunk 0 dropped)         -> +55
    A Colombian landline typed the pre-2021 way, its one-digit area code and seven digits
    (`(1) 234 5678`, `01 2345678`), becomes its 60x number (`+576012345678`). An extension
    (`ext. 112`, `x12`, `extensión 3`) is dropped first. A Mexican mobile with the 1 that calls
    from abroad carried before 2019 (`+52 1 55 1234 5678`, `00 52 1 …`, in Mexico also `52 1 …`)
    is the number without it (`+525512345678`). Null for anything else (a 7-digit local
    number cannot be put in E.164 without guessing its area) and for placeholders typed when a
    form insists (is_placeholder_phone).
#}
{% macro normalize_phone(expression, country_code=none) -%}
    {%- set country = country_code if country_code else "'" ~ var('default_country_code') ~ "'" -%}
    (
        select
            case
                when {{ is_placeholder_phone('digits') }} then null
                when country = 'CO' and digits ~ '^(3\d{9}|60\d{8})$' then '+57' || digits
                when country = 'CO' and digits ~ '^0?[124-8]\d{7}$' then '+5760' || ltrim(digits, '0')
                when country = 'CO' and digits ~ '^57(3\d{9}|60\d{8})$' then '+' || digits
                when digits ~ '^(00)?521[1-9]\d{9}$' and (typed like '+%' or digits like '00%' or country = 'MX')
                    then '+52' || right(digits, 10)
                when digits ~ '^00[1-9]\d{7,13}$' then '+' || substr(digits, 3)
                when typed like '+%' and digits ~ '^[1-9]\d{7,14}$' then '+' || digits
                when country = 'MX' and digits ~ '^(52|044|045|01)?[1-9]\d{9}$' then '+52' || right(digits, 10)
                when country = 'CL' and digits ~ '^(56)?[2-9]\d{8}$' then '+56' || right(digits, 9)
                when country = 'AR' and digits ~ '^0?[1-9]\d{9}$' then '+54' || right(digits, 10)
                when country = 'AR' and digits ~ '^549?[1-9]\d{9}$' then '+' || digits
                when country = 'BR' and digits ~ '^0?[1-9]{2}9?\d{8}$' then '+55' || ltrim(digits, '0')
                when country = 'BR' and digits ~ '^55[1-9]{2}9?\d{8}$' then '+' || digits
            end
        from (
            select
                trim({{ expression }}) as typed,
                regexp_replace({{ phone_without_extension(expression) }}, '\D', '', 'g') as digits,
                coalesce(upper({{ country }}), '{{ var("default_country_code") }}') as country
        ) as phone
    )
{%- endmacro %}

{#
    Whether a phone in E.164 (normalize_phone's answer, a SQL expression) may be a line that a
    home or an office shares, rather than one person's mobile: Colombia's 60x lines; Argentina's
    and Chile's numbers without the 9 their mobiles carry after the country code; Brazil's
    eight-digit numbers after the area code (its mobiles have nine, the first a 9); and every
    Mexican number. Since the IFT's 2019 reform Mexico's fixed lines and mobiles share one plan of
    ten digits (libphonenumber: FIXED_LINE_OR_MOBILE), so the number cannot say which it is: it is
    read the cautious way, as a line others may share, which weighs less (exact_landline) when two
    records hold it; a Mexican mobile still links its holder's records with the names' help.
#}
{% macro is_landline_phone(e164) -%}
    ({{ e164 }} ~ '^\+(5760\d{8}|54[1-8]\d{9}|56[2-8]\d{8}|55[1-9]{2}[2-5]\d{7}|52\d{10})$')
{%- endmacro %}

{#
    Whether a phone's digits (a SQL expression) are a placeholder typed when a form insists on a
    phone: a local part of one repeated digit (`0000000`, `3000000000`) or a count up or down
    (`1234567`, `123456789`): a real number of another country may spell a count (`9 8765 4321`
    is a Chilean mobile), so only these few.
#}
{% macro is_placeholder_phone(digits) -%}
    (right({{ digits }}, 7) ~ '^(\d)\1{6}$'
     or {{ digits }} in ('1234567', '123456789', '1234567890', '0123456789', '7654321'))
{%- endmacro %}

{# A phone as typed without its extension (`601 234 5678 ext. 112` -> `601 234 5678`). #}
{% macro phone_without_extension(expression) -%}
    regexp_replace({{ expression }}, '\s*(ext|extension|extensión|ext\.|x)\s*\.?\s*\d{1,5}\s*$', '', 'i')
{%- endmacro %}

{#
    The last seven digits of a phone as typed (extension dropped): a local number written
    without its area code still meets its full form. Null below seven digits and for the
    placeholders normalize_phone refuses.
#}
{% macro phone_tail(expression) -%}
    (
        select case when length(digits) >= 7 and not {{ is_placeholder_phone('digits') }} then right(digits, 7) end
        from (select regexp_replace({{ phone_without_extension(expression) }}, '\D', '', 'g') as digits) as phone
    )
{%- endmacro %}

{#
    Colombian tax id (NIT or cédula) as digits only, without the NIT verification digit (DV).
    The rule, in order:
      1. a cédula prefix (`CC`, `C.C.`, `CE`, `TI`) means a personal id, which has no DV:
         all digits are kept (`CC 1020304050` -> 1020304050);
      2. a `-` before the last digit separates the DV: it is dropped
         (`900.123.456-8`, `NIT 900123456-8` -> 900123456; `79.123.456-1` -> 79123456);
      3. ten digits starting with 8 or 9 whose last digit is the DIAN check digit of the first
         nine are a company NIT written with its DV: it is dropped (`9001234568` -> 900123456).
         A ten-digit cédula starts with 1, and a ten-digit value whose last digit is not the DV
         stays whole, so it only matches the same ten digits elsewhere;
      4. otherwise all digits are kept.
    Null when fewer than 5 or more than 15 digits remain, or when every digit is the same:
    `222222222222` is the DIAN's generic "consumidor final", shared by every walk-in customer.
#}
{% macro normalize_tax_id(expression) -%}
    (
        select case when tax_id ~ '^\d{5,15}$' and tax_id !~ '^(\d)\1*$' then tax_id end
        from (
            select
                case
                    when compact ~ '^(CC|CE|TI)\d' then digits
                    when compact ~ '^\D*\d+-\d$' then substring(compact from '^\D*(\d+)-\d$')
                    when digits ~ '^[89]\d{9}$'
                        and right(digits, 1)::int = {{ nit_check_digit('left(digits, 9)') }}
                        then left(digits, 9)
                    else digits
                end as tax_id
            from (
                select
                    regexp_replace({{ expression }}, '\D', '', 'g') as digits,
                    regexp_replace(upper({{ expression }}), '[\s.,]', '', 'g') as compact
            ) as typed
        ) as candidate
    )
{%- endmacro %}

{#
    DIAN verification digit of a nine-digit NIT: weights 41, 37, ..., 3 from the left,
    sum modulo 11; a remainder of 0 or 1 is the digit itself, otherwise 11 minus it.
#}
{% macro nit_check_digit(nine_digits) -%}
    {%- set weights = [41, 37, 29, 23, 19, 17, 13, 7, 3] -%}
    (
        select case when remainder < 2 then remainder else 11 - remainder end
        from (
            select mod(
                {%- for weight in weights %}
                substr({{ nine_digits }}, {{ loop.index }}, 1)::int * {{ weight }}{{ ' +' if not loop.last }}
                {%- endfor %},
                11
            ) as remainder
        ) as dian
    )
{%- endmacro %}

{#
    Name for comparison: accents removed with translate() (the warehouse may run with the C
    locale, where lower() leaves `É` alone, and the unaccent extension is not assumed), lower
    case, runs of whitespace collapsed to one space.
#}
{% macro normalize_name(expression) -%}
    nullif(
        trim(regexp_replace(
            lower(translate(
                {{ expression }},
                'ÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇáàâäãéèêëíìîïóòôöõúùûüñç',
                'AAAAAEEEEIIIIOOOOOUUUUNCaaaaaeeeeiiiiooooouuuunc'
            )),
            '\s+', ' ', 'g'
        )),
        ''
    )
{%- endmacro %}

{#
    The key of one source record in identity resolution, `<record type>:<source id>`
    (`odoo_partner:42`, `hubspot_contact:901`, `shopify_customer:7001`, `shopify_guest_order:5001`).
    Both arguments are SQL expressions: pass a literal type quoted, `record_key("'odoo_partner'", 'partner_id')`.
#}
{% macro record_key(record_type, source_id) -%}
    ({{ record_type }} || ':' || {{ source_id }})
{%- endmacro %}


{#
    Person name for comparison: normalize_name without punctuation (`Juan P.` -> `juan p`).
#}
{% macro normalize_person_name(expression) -%}
    nullif(trim(regexp_replace(regexp_replace({{ normalize_name(expression) }}, '[^a-z0-9 ]', ' ', 'g'), ' +', ' ', 'g')), '')
{%- endmacro %}

{#
    Company name for comparison: normalize_person_name without the legal-form suffix, so
    `Distribuciones Andinas S.A.S.`, `DISTRIBUCIONES ANDINAS SAS` and `Distribuciones Andinas
    Ltda` compare equal. Suffixes: S.A.S., S.A., Ltda., S.A. de C.V., S. de R.L., S.R.L., SpA,
    E.I.R.L., S.C.A., S. en C., EU, Ltd, LLC, Inc (dots and spaces in them are ignored).
#}
{% macro normalize_company_name(expression) -%}
    nullif(trim(regexp_replace(
        ' ' || regexp_replace({{ normalize_name(expression) }}, '[^a-z0-9 ]', '', 'g') || ' ',
        ' (s ?a ?s|s ?a ?de ?c ?v|s ?a|s ?de ?r ?l|s ?r ?l|s ?en ?c ?s?|s ?c ?a|ltda|spa|e ?i ?r ?l|e ?u|ltd|llc|inc) ?$',
        ' '
    )), '')
{%- endmacro %}

{#
    A person's blocking key: the first letter of the first name and the last word
    (`Juan Pérez` and `J. Perez` -> `j perez`). Null for a single word.
#}
{% macro name_initial_key(expression) -%}
    (
        select case when words[2] is not null then left(words[1], 1) || ' ' || words[array_length(words, 1)] end
        from (select string_to_array({{ normalize_person_name(expression) }}, ' ') as words) as name
    )
{%- endmacro %}

{#
    City for comparison: normalize_person_name without district suffixes and leading `city of`
    words (`Bogotá D.C.`, `BOGOTA, DC`, `Santiago de Cali` -> `bogota`, `bogota`, `cali`).
#}
{% macro normalize_city(expression) -%}
    nullif(trim(regexp_replace(regexp_replace(
        regexp_replace({{ normalize_name(expression) }}, '[^a-z0-9 ]', ' ', 'g'),
        ' (d ?c|distrito capital|cdmx)\s*$', ''),
        '^(santiago de |san sebastian de |ciudad de )(cali|mariquita|mexico)', '\2')), '')
{%- endmacro %}


{#
    The mailbox an address reaches, for matching (the address as typed stays in `email`):
    normalize_email, then
      - plus-addressing dropped (`juan+tienda@x.com` -> `juan@x.com`: the provider delivers both
        to one mailbox);
      - Gmail: dots of the local part dropped and `googlemail.com` read as `gmail.com`;
      - a slip in a big provider's domain corrected (email_domain_typos): `corrected_domain`,
        a SQL expression giving the provider's domain when the typed one is a known slip of it
        (null otherwise), e.g. a column of a join to email_domain_typos(); by default a lookup,
        which corrects only a slip of one domain (`hotmial.com`, `gmail`), never one that may
        stand for two mailboxes (`hotmail`: hotmail.com or hotmail.es?).
    `normalized` is an expression already passed through normalize_email.
#}
{% macro canonical_email(normalized, corrected_domain=none) -%}
    {%- if corrected_domain is none -%}
        {%- set corrected_domain = "(select case when count(*) = 1 then min(typos.domain) end from " ~ email_domain_typos() ~ " as typos (typo, domain) where typos.typo = split_part(email, '@', 2))" -%}
    {%- endif -%}
    (
        select case when local is not null then
            case when domain = 'gmail.com' then replace(local, '.', '') else local end || '@' || domain
        end
        from (
            select
                nullif(split_part(split_part(email, '@', 1), '+', 1), '') as local,
                case
                    when coalesce({{ corrected_domain }}, split_part(email, '@', 2)) = 'googlemail.com' then 'gmail.com'
                    else coalesce({{ corrected_domain }}, split_part(email, '@', 2))
                end as domain
            from (select {{ normalized }} as email) as typed
        ) as parts
    )
{%- endmacro %}

{#
    Slips of the big mail providers' domains and the domain each stands for, as a VALUES list of
    (typo, domain): every domain of var `email_providers` with one letter of its name dropped,
    doubled or swapped with the next, its name alone (`gmail`), its suffix run into the name
    (`gmailcom`, `hotmailes`), and a `.com` mistyped (`gmail.co`, `gmail.con`, `gmail.cm`).
    A provider that really has a domain in two countries (hotmail.com and hotmail.es, yahoo.com
    and yahoo.es, outlook.com and outlook.es) has two mailboxes of one local part, often two
    people's; the one slip both domains make, the name alone (`hotmail`), gets one row for each:
    it cannot say which mailbox it is, and a consumer corrects it only where it can tell
    (int_customer_records_unioned: the one of them the other records hold). A slip that is
    itself a provider's domain is left out: `yahoo.es` is a mailbox, not a slip of `yahoo.com`.
#}
{% macro email_domain_typos() -%}
    {%- set providers = var('email_providers') -%}
    {%- set typos = {} -%}
    {%- for domain in providers -%}
        {%- set name = domain.split('.')[0] -%}
        {%- set suffix = domain[name | length + 1:] -%}
        {%- set names = [] -%}
        {%- for i in range(1, name | length) -%}
            {%- do names.append(name[:i] ~ name[i + 1:]) -%}
            {%- do names.append(name[:i] ~ name[i] ~ name[i:]) -%}
            {%- if i < (name | length) - 1 -%}{%- do names.append(name[:i] ~ name[i + 1] ~ name[i] ~ name[i + 2:]) -%}{%- endif -%}
        {%- endfor -%}
        {%- set slips = [] -%}
        {%- for typo_name in names -%}{%- do slips.append(typo_name ~ '.' ~ suffix) -%}{%- endfor -%}
        {%- do slips.extend([name, name ~ suffix | replace('.', '')]) -%}
        {%- if suffix == 'com' -%}{%- do slips.extend([name ~ '.co', name ~ '.con', name ~ '.cm', name ~ '.om', name ~ '.comm']) -%}{%- endif -%}
        {%- for typo in slips if typo not in providers -%}
            {%- do typos.setdefault(typo, []) -%}
            {%- if domain not in typos[typo] -%}{%- do typos[typo].append(domain) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    (values
    {%- set rows = [] -%}
    {%- for typo, domains in typos.items() -%}
        {%- for domain in domains -%}{%- do rows.append("('" ~ typo ~ "', '" ~ domain ~ "')") -%}{%- endfor -%}
    {%- endfor %}
        {{ rows | join(',\n        ') }}
    )
{%- endmacro %}

{#
    A name as the words that identify a person, for comparing names word by word: normalised,
    without punctuation, without the particles of surnames (`de`, `del`, `de la`, `y`), as an
    array in the order typed (`José de la Hoz Ruiz` -> {jose,hoz,ruiz}). Null when empty. With
    `compared`, the expression is already normalize_person_name's. The initials a name begins with
    are kept, whatever their letters: `Y. E. Mejía` is Yolanda Eugenia's {y,e,mejia}, not the
    conjunctions `y` and `e`.
#}
{% macro name_words(expression, compared=false) -%}
    {%- set name = expression if compared else normalize_person_name(expression) -%}
    {%- set leading_initials = "'^(?:[a-z] )+'" -%}
    {%- set particles = surname_particles() -%}
    nullif(array_remove(string_to_array(
        coalesce(substring({{ name }} from {{ leading_initials }}), '')
        || regexp_replace(' ' || regexp_replace({{ name }}, {{ leading_initials }}, '') || ' ',
                          '( ({{ (particles.prepositions + particles.articles + particles.conjunctions) | join("|") }}))+ ', ' ', 'g'),
        ' '), ''), '{}')
{%- endmacro %}

{#
    The particles of Spanish and Portuguese surnames, which name_words drops: the prepositions a
    surname begins with (`de la Hoz`, `del Castillo`, `dos Santos`), the articles after them, and
    the conjunctions between two surnames (`Ortega y Gasset`).
#}
{% macro surname_particles() -%}
    {{ return({
        'prepositions': ['de', 'del', 'da', 'do', 'dos', 'das'],
        'articles': ['la', 'las', 'los'],
        'conjunctions': ['y', 'e'],
    }) }}
{%- endmacro %}

{#
    A person's name words (`words`, name_words) read beside another name (`other`, its
    normalize_person_name) whose surname begins with a particle: a surname written as its initial
    `d` (`Lucía D.`, `Víctor d.`) stands for that surname (`Lucia de la Hoz`, `Víctor del Castillo`),
    whose particle name_words drops; so the `d` becomes the surname's own initial (`h`, `c`). Only
    after the first word: a given name is never a particle. Otherwise the words unchanged.
#}
{% macro particle_surname_initial(words, other) -%}
    {%- set particles = surname_particles() -%}
    {%- set particle_surname = "substring(" ~ other ~ " from ' (?:" ~ particles.prepositions | join("|")
        ~ ")(?: (?:" ~ particles.articles | join("|") ~ "))? ([a-z]+)')" -%}
    case
        when {{ words }}[2:] @> array['d'] and {{ particle_surname }} is not null
            then {{ words }}[1:1] || array_replace({{ words }}[2:], 'd', left({{ particle_surname }}, 1))
        else {{ words }}
    end
{%- endmacro %}

{#
    Whether two words of two names (SQL expressions) can be the same name: equal; one the
    initial of the other (`j` / `juan`); one edit apart when the longer has four letters or more
    (`gomz` / `gomez`, `ernandez` / `hernandez`); two neighbours swapped (`azpata` / `zapata`);
    or, with the same first letter, two edits apart when the longer has six or more.
#}
{% macro name_words_agree(a, b) -%}
    (
        {{ a }} = {{ b }}
        or (length({{ a }}) = 1 and {{ a }} = left({{ b }}, 1))
        or (length({{ b }}) = 1 and {{ b }} = left({{ a }}, 1))
        or (greatest(length({{ a }}), length({{ b }})) >= 4
            and ((levenshtein({{ a }}, {{ b }}) <= case when greatest(length({{ a }}), length({{ b }})) >= 6 then 2 else 1 end
                  and (left({{ a }}, 1) = left({{ b }}, 1) or levenshtein({{ a }}, {{ b }}) = 1))
                 or {{ _letters_swapped(a, b) }}))
    )
{%- endmacro %}

{# Whether two words are the same letters with two neighbours swapped (`gmoez` / `gomez`). #}
{% macro _letters_swapped(a, b) -%}
    (length({{ a }}) = length({{ b }}) and levenshtein({{ a }}, {{ b }}) = 2
     and (select string_agg(c, '' order by c) from regexp_split_to_table({{ a }}, '') as c)
         = (select string_agg(c, '' order by c) from regexp_split_to_table({{ b }}, '') as c))
{%- endmacro %}

{#
    A company's record beside a person's (`company`, `person`: the two records): what ties the
    person to that company.
    - `company_mailbox`: the person's mailbox is at a domain of its own (not a big provider's,
      var email_providers) whose name spells the company's, legal form aside
      (`ventas@restaurantepacificosas80.com.co` beside `Restaurante Pacífico S.A.S`); a company
      name of six letters or more, so that a short one (`Sol`) does not sit inside other domains.
    - `company_surname`: a surname of the person (a word of the name after the first, of four
      letters or more) is a word of the company's name (`Rubén Gutiérrez` beside `DISTRIBUCIONES
      GUTIÉRREZ LTDA.`): a family business's buyer, or anyone with a common surname.
    - `not_comparable` otherwise.
#}
{% macro company_person_level(company, person) -%}
    case
        when split_part({{ person }}.email_canonical, '@', 2) not in ('{{ var("email_providers") | join("', '") }}')
            and length(regexp_replace({{ company }}.company_name_compared, '[^a-z]', '', 'g')) >= 6
            and strpos(regexp_replace(split_part(split_part({{ person }}.email_canonical, '@', 2), '.', 1), '[^a-z]', '', 'g'),
                       regexp_replace({{ company }}.company_name_compared, '[^a-z]', '', 'g')) > 0
            then 'company_mailbox'
        when exists (
            select 1 from unnest({{ person }}.name_words[2:]) as word
            where length(word) >= 4 and word = any(string_to_array({{ company }}.company_name_compared, ' '))
        ) then 'company_surname'
        else 'not_comparable'
    end
{%- endmacro %}

{#
    Whether two given names can be the same person's, stricter than name_words_agree: equal, an
    initial (when `initials`), one slip apart that keeps the first and the last letter
    (`Juuan` / `Juan`, `ivn` / `ivan`), or two neighbours swapped (`Feilpe` / `Felipe`), so that
    `Camila` / `Camilo`, `Daniel` / `Daniela` stay two people.
#}
{% macro given_names_agree(a, b, initials=true) -%}
    (
        {{ a }} = {{ b }}
        {%- if initials %}
        or (length({{ a }}) = 1 and {{ a }} = left({{ b }}, 1))
        or (length({{ b }}) = 1 and {{ b }} = left({{ a }}, 1))
        {%- endif %}
        or (left({{ a }}, 1) = left({{ b }}, 1) and least(length({{ a }}), length({{ b }})) >= 3
            and ((right({{ a }}, 1) = right({{ b }}, 1) and levenshtein({{ a }}, {{ b }}) <= 1)
                 or {{ _letters_swapped(a, b) }}))
    )
{%- endmacro %}

{#
    An urban address as a comparable key. A Colombian one (the nomenclature every record is read
    in first, whatever its country): the street type (abbreviated as the DIAN's
    nomenclature does: cl, kr, av, tv, dg), the street's number and letter, the cross street's
    number and letter, the door's metres from the corner, and the quadrant (`sur`, `este`) when
    written (`Calle 38A # 12-45 Apto 301`, `CL. 38 A N° 12 - 45`, `cl 38a 12 45` all give
    `cl 38a 12 45`; `Dg 40 Sur # 3-12` and `Dg 40 # 3-12 Sur` give `dg 40 3 12 sur`). The unit
    (apartment, office) is left out: relatives and staff hold the same door under several units,
    and people often omit it. Null when the text does not read as such an address (a rural one,
    a P.O. box, a building's name, `Calle 5 Bis`): such records meet on other evidence only.
    Abroad (`country_code`, a SQL expression such as the record's country; without one, var
    `default_country_code`): a named street and the door's number, the form of Argentina,
    Chile, Mexico and Brazil (`Av. Corrientes 1234, piso 3 dto B`, `Av. Providencia 1234, depto
    56`, `Av. Insurgentes Sur 1234 int. 5, Col. Del Valle`, `Rua Augusta, 1234 - apto 56`): the
    street's name without its type (`Avenida`, `Av.`, `Calle`, `Rua`, `R.`, `Alameda`, which
    people abbreviate or leave out) and the number, `corrientes 1234`; the unit and the colonia
    after it are left out, as a Colombian door's unit is. Two streets of one name in one city
    (an `Avenida` and a `Calle`, or one name in two colonias of a Mexican city) give one key: a
    door then needs the names to agree, as any shared door does.
    Words, not one regular expression with groups, which PostgreSQL runs many times slower
    (the form abroad, a regular expression, runs only on records of another country).
#}
{% macro normalize_address(expression, country_code=none) -%}
    {%- set country = country_code if country_code else "'" ~ var('default_country_code') ~ "'" -%}
    (
        select case
            when t[2] ~ '^\d+[a-z]?$' and t[3 + q] ~ '^\d+[a-z]?$' and t[4 + q] ~ '^\d+$' then
                case
                    when t[1] in ('calle', 'clle', 'cll', 'cl') then 'cl'
                    when t[1] in ('carrera', 'cra', 'kra', 'kr', 'cr') then 'kr'
                    when t[1] in ('avenida', 'avda', 'av') then 'av'
                    when t[1] in ('transversal', 'transv', 'trans', 'tv', 'tr') then 'tv'
                    when t[1] in ('diagonal', 'diag', 'dg') then 'dg'
                end
                || ' ' || ltrim(t[2], '0') || ' ' || ltrim(t[3 + q], '0') || ' ' || ltrim(t[4 + q], '0')
                || case when q = 1 then ' ' || t[3] when t[5] in ('sur', 'este') then ' ' || t[5] else '' end
            -- abroad: the words of the street's name (letters only) before the door's number, the
            -- street's type dropped when a name follows it
            when coalesce(upper({{ country }}), '{{ var("default_country_code") }}') <> 'CO'
                and array_to_string(t, ' ') ~ '^([a-z]+ )+\d{1,5}( |$)' then
                regexp_replace(substring(array_to_string(t, ' ') from '^((?:[a-z]+ )+)\d'),
                    '^(avenida|avda|av|calle|rua|r|alameda|al|pasaje|pje|calzada|calz|boulevard|blvd) (?=[a-z])', '')
                || ltrim(substring(array_to_string(t, ' ') from '^(?:[a-z]+ )+(\d{1,5})(?: |$)'), '0')
        end
        from (
            select t, case when t[3] in ('sur', 'este') then 1 else 0 end as q
            from (
                -- the words: the number sign (#, No., N°, Nro) and punctuation dropped, a street
                -- number's letter joined to it (`38 A` is `38a`)
                select string_to_array(trim(regexp_replace(regexp_replace(regexp_replace(
                    {{ normalize_name(expression) }},
                    '\m(n[°º]|no\.?|nro\.?|num\.?|numero)(?=\s*\d)', ' ', 'g'),
                    '[^a-z0-9]+', ' ', 'g'),
                    '(\d) ([a-z])\M', '\1\2', 'g')), ' ') as t
                offset 0  -- computed once, not once per reference to t
            ) as words
        ) as address
    )
{%- endmacro %}

{#
    The units of an address (normalize_address leaves them out of the door's key): the numbers
    after the words that name one (`Apto 301` gives `{301}`, `Torre 3 Apto 502` `{502}`,
    `Int. 2 Ap 502B` `{2,502}`; `Of. 402`, `Local 12`, `Casa 7` of a gated estate, `depto 56` and
    `int. 5` abroad), without leading zeros. Null when none is written: a floor (`Piso 3`) or a
    neighbourhood's name with a number (`Barrio 20 de Julio`) is no unit. Two records at one door
    whose units have no number in common are two homes or offices of one building
    (int_customer_pairs_scored); `Int 3` beside `Int 3 Apto 502` may be one.
#}
{% macro address_units(expression) -%}
    nullif(array(
        select distinct ltrim(unit[1], '0')
        from regexp_matches(
            regexp_replace({{ normalize_name(expression) }}, '[^a-z0-9]+', ' ', 'g'),
            '\m(?:apartamento|apto|apt|ap|interior|int|casa|cs|oficina|of|local|lc|loc|bodega|bod|consultorio|depto|dpto|dto|departamento) ?(\d+)',
            'g'
        ) as unit
        order by 1
    ), '{}')
{%- endmacro %}

{#-
    ambiguous_holders(holders, conflicts): the holders (records) of a shared mailbox or door whose
    name fits two of its other holders who are two people (their names are among `conflicts`, or
    their valid tax ids differ): the shared value cannot say which of the two the holder is.
    `holders` is a relation of each holder's pairs, both ways (record_key, other_record_key,
    name_level, tax_id_level).
#}
{% macro ambiguous_holders(holders, conflicts) -%}
    select distinct fits.record_key
    from {{ holders }} as fits
    inner join {{ holders }} as fits_too
        on fits.record_key = fits_too.record_key
        and fits.other_record_key <> fits_too.other_record_key
    inner join {{ holders }} as two_people
        on fits.other_record_key = two_people.record_key
        and fits_too.other_record_key = two_people.other_record_key
    where
        fits.name_level in ('exact', 'compatible')
        and fits_too.name_level in ('exact', 'compatible')
        and (two_people.name_level in {{ conflicts }} or two_people.tax_id_level = 'different')
{%- endmacro %}
