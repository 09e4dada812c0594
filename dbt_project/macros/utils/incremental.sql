{#- Shared pieces of the incremental models. An incremental run re-reads the upstream rows
    loaded since the newest load it already holds (minus `load_overlap_minutes`, for clock
    differences between the machines that load) and rebuilds whole days from the earliest day
    those rows touch, or from `lookback_days` before its newest day, whichever is earlier. So a
    row that arrives late for any day lands on the next run. -#}

{#- `select <expression> from this` as a literal of `type` when the model runs (the subquery
    when dbt only parses), so the planner knows the value: a watermark then finds the few new
    rows through the index on its column instead of scanning the table. -#}
{% macro value_from_this(expression, type) -%}
    {%- if execute -%}
        {%- set value = run_query(
            "select (" ~ expression ~ ")::text from " ~ this
        ).columns[0].values()[0] -%}
        {%- if value is none -%}
            null::{{ type }}
        {%- else -%}
            '{{ value }}'::{{ type }}
        {%- endif -%}
    {%- else -%}
        (select ({{ expression }})::{{ type }} from {{ this }})
    {%- endif -%}
{%- endmacro %}

{#- The load time from which an incremental run re-reads upstream rows. -#}
{% macro loaded_since_cutoff(watermark_column='loaded_at') -%}
    {{ value_from_this(
        "coalesce(max(" ~ watermark_column ~ "), '-infinity'::timestamptz) - interval '"
        ~ var("load_overlap_minutes") ~ " minutes'",
        "timestamptz",
    ) }}
{%- endmacro %}

{#- `lookback_days` before the newest day already built. -#}
{% macro lookback_start_day(day_column) -%}
    {{ value_from_this("max(" ~ day_column ~ ") - " ~ var("lookback_days"), "date") }}
{%- endmacro %}

{#- The earliest `day_column` of the rows of a day-grained upstream `relation` loaded since
    this model's watermark (`source_loaded_at` on both). -#}
{% macro earliest_day_loaded_since_watermark(relation, day_column='activity_date') -%}
    (
        -- `+ 0`: find the few new rows through the load-time index, rather than walk the day
        -- index in order until a new row turns up
        select min(changed.{{ day_column }} + 0)
        from {{ relation }} as changed
        where changed.source_loaded_at >= {{ loaded_since_cutoff('source_loaded_at') }}
    )
{%- endmacro %}

{#- The first day an incremental day-grained model rebuilds: the earliest UTC day of any
    upstream row loaded since this model's watermark (`source_loaded_at`), or the look-back
    start, whichever is earlier. `upstreams` is a list of (relation, timestamp column). -#}
{% macro rebuild_from_day(upstreams, day_column) -%}
    (
        select coalesce(min(changed_day), '-infinity'::date)
        from (
            {%- for relation, timestamp_column in upstreams %}
            select min({{ utc_date(timestamp_column) }}) as changed_day
            from {{ relation }}
            where loaded_at >= {{ loaded_since_cutoff('source_loaded_at') }}
            union all
            {%- endfor %}
            select {{ lookback_start_day(day_column) }} as changed_day
        ) as changed_days
    )
{%- endmacro %}
