{#- Post-hook of every model: `analyze` a model stored as a table, so the next models and the
    next incremental run plan with its real row counts and value ranges (a rebuilt table has no
    statistics until autovacuum comes by, and autovacuum may be off). A small sample (statistics
    target 10, 3,000 rows) costs a tenth of the default and is enough for those estimates. -#}
{% macro analyze_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        set local default_statistics_target = 10; analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
