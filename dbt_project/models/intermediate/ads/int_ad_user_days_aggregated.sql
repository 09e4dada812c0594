{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['activity_date', 'campaign_id', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (campaign_id, user_id, activity_date) with ad events: impressions, clicks and
-- cost of a campaign for a user on a UTC day. Incremental by whole days.
with

{% if is_incremental() -%}
rebuild_window as (

    select
        {{ utc_midnight('rebuild_from_day') }} as rebuild_from_ts
    from (
        select {{ rebuild_from_day([
            (ref('stg_ad_events__ad_events'), 'event_ts'),
        ], 'activity_date') }} as rebuild_from_day
    ) as first_changed_day

),
{%- endif %}

ad_events as (

    select * from {{ ref('stg_ad_events__ad_events') }}
    {%- if is_incremental() %}
    where event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

)

select
    campaign_id,
    user_id,
    {{ utc_date('event_ts') }} as activity_date,
    count(*) filter (where event_type = 'impression') as impressions,
    count(*) filter (where event_type = 'click') as clicks,
    coalesce(sum(cost), 0) as cost,
    max(loaded_at) as source_loaded_at
from ad_events
group by campaign_id, user_id, activity_date
