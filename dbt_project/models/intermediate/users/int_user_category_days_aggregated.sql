{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id', 'category'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (user_id, category, activity_date): the user's item interactions (events that
-- name an item) in a catalogue category on a UTC day, with the category as it was at event
-- time. Incremental runs rebuild whole days from the first day with newly loaded events.
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
        item_id is not null
        {%- if is_incremental() %}
        and event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
        {%- endif %}

),

item_versions as (

    select * from {{ ref('stg_items__item_versions') }}

),

categorised as (

    select
        events.user_id,
        item_versions.category,
        events.loaded_at,
        {{ utc_date('events.event_ts') }} as activity_date
    from events
    inner join item_versions
        on
            events.item_id = item_versions.item_id
            and events.event_ts >= item_versions.valid_from
            and events.event_ts < item_versions.valid_to

)

select
    user_id,
    category,
    activity_date,
    count(*) as interactions,
    max(loaded_at) as source_loaded_at
from categorised
group by user_id, category, activity_date
