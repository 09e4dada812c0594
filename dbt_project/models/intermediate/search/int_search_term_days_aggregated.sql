{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['activity_date', 'search_term'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (activity_date, search_term): how often a normalised query (lower-cased, single
-- spaces) was searched on a UTC day and by how many users. Incremental by whole days.
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
        event_type = 'search'
        and search_query is not null
        {%- if is_incremental() %}
        and event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
        {%- endif %}

),

normalised as (

    select
        user_id,
        loaded_at,
        {{ utc_date('event_ts') }} as activity_date,
        nullif(lower(regexp_replace(search_query, '\s+', ' ', 'g')), '') as search_term
    from events

)

select
    activity_date,
    search_term,
    count(*) as searches,
    count(distinct user_id) as searchers,
    max(loaded_at) as source_loaded_at
from normalised
where search_term is not null
group by activity_date, search_term
