{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id', 'device_hash'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (user_id, device_hash, activity_date): the user's events from one device on a
-- UTC day (events without a device are left out). Incremental by whole days.
with

{% if is_incremental() -%}
rebuild_window as (

    select
        {{ utc_midnight('rebuild_from_day') }} as rebuild_from_ts
    from (
        select {{ rebuild_from_day([
            (ref('stg_events__events'), 'event_ts'),
        ], 'activity_date') }} as rebuild_from_day
    ) as first_changed_day

),
{%- endif %}

events as (

    select * from {{ ref('stg_events__events') }}
    where
        device_hash is not null
        {%- if is_incremental() %}
        and event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
        {%- endif %}

)

select
    user_id,
    device_hash,
    {{ utc_date('event_ts') }} as activity_date,
    count(*) as events,
    max(loaded_at) as source_loaded_at
from events
group by user_id, device_hash, activity_date
