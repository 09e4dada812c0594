{#- A fixed, readable price band for an amount (same bands for every category). -#}
{% macro price_band(price_expression) -%}
    case
        when {{ price_expression }} is null then null
        when {{ price_expression }} < 10 then 'under 10'
        when {{ price_expression }} < 25 then '10-25'
        when {{ price_expression }} < 50 then '25-50'
        when {{ price_expression }} < 100 then '50-100'
        when {{ price_expression }} < 250 then '100-250'
        else '250+'
    end
{%- endmacro %}
