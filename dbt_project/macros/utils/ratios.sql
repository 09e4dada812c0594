{#- numerator / denominator capped at 1, rounded to 6 decimals; null when the denominator is
    0 or null (a rate without a base is unknown, not 0 and not 1). -#}
{% macro capped_ratio(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then round(least(1, ({{ numerator }})::numeric / ({{ denominator }})), 6)
    end
{%- endmacro %}

{#- numerator / denominator rounded to 6 decimals; null when the denominator is 0 or null. -#}
{% macro safe_ratio(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then round(({{ numerator }})::numeric / ({{ denominator }}), 6)
    end
{%- endmacro %}
