{#- The data tests of a large day-grained incremental model check the days every incremental run
    rebuilds (the newest `lookback_days` + 1), not the whole history, when the model was built
    incrementally in the same `dbt build` (the daily run). A model opts in with
    `meta: {incremental_tests: {day_column: <date column>}}`. A first build, a `--full-refresh`
    and `dbt test` check every row. -#}

{#- Post-hook: mark the table as built incrementally by this invocation (a full build writes a
    new table, which has no mark). -#}
{% macro mark_incremental_build() -%}
    {%- if is_incremental() and config.get('meta', {}).get('incremental_tests') -%}
        comment on table {{ this }} is 'built incrementally by dbt invocation {{ invocation_id }}'
    {%- endif -%}
{%- endmacro %}

{#- The `incremental_tests` meta of the model behind `relation`, or none. -#}
{% macro incremental_tests_meta(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.schema == relation.schema
            and node.alias == relation.identifier -%}
            {{ return(node.config.meta.get('incremental_tests')) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{#- The condition that limits a test of `relation` to the rows its incremental build rebuilt;
    empty when the test must check every row. -#}
{% macro incremental_test_condition(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or flags.FULL_REFRESH -%}
        {{ return('') }}
    {%- endif -%}
    {%- set meta = incremental_tests_meta(relation) -%}
    {%- if not meta -%}
        {{ return('') }}
    {%- endif -%}
    {%- set mark = run_query(
        "select obj_description(to_regclass('" ~ relation ~ "'), 'pg_class')"
    ).columns[0].values()[0] -%}
    {%- if mark != 'built incrementally by dbt invocation ' ~ invocation_id -%}
        {{ return('') }}
    {%- endif -%}
    {%- set column = meta['day_column'] -%}
    {{ return(
        column ~ " >= (select max(" ~ column ~ ") - " ~ var('lookback_days')
        ~ " from " ~ relation ~ ")"
    ) }}
{%- endmacro %}

{#- dbt's `where` config and the incremental condition, both applied to the tested model. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), incremental_test_condition(relation)]
        | select | list -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
