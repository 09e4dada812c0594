{#- Calendar helpers that never depend on the session time zone: every day is a UTC day. -#}

{#- The UTC calendar day of a timestamptz expression. -#}
{% macro utc_date(timestamp_expression) -%}
    ({{ timestamp_expression }} at time zone 'UTC')::date
{%- endmacro %}

{#- 00:00 UTC of a date expression, as a timestamptz. -#}
{% macro utc_midnight(date_expression) -%}
    (({{ date_expression }})::timestamp at time zone 'UTC')
{%- endmacro %}
