{#- Shared pieces of the incremental models. An incremental run re-reads the upstream rows
    loaded since the newest load it already holds (minus `load_overlap_hours`, for loads that
    committed out of order) and rebuilds whole days from the earliest day those rows touch, or
    from `lookback_days` before its newest day, whichever is earlier. So a row that arrives late
    for any day lands on the next run. -#}

{#- The load time from which an incremental run re-reads upstream rows. -#}
{% macro loaded_since_cutoff(watermark_column='loaded_at') -%}
    (
        select coalesce(max({{ watermark_column }}), '-infinity'::timestamptz)
            - interval '{{ var("load_overlap_hours") }} hours'
        from {{ this }}
    )
{%- endmacro %}

{#- `lookback_days` before the newest day already built. -#}
{% macro lookback_start_day(day_column) -%}
    (
        select max({{ day_column }}) - {{ var("lookback_days") }}
        from {{ this }}
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
