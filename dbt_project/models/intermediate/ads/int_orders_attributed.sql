{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['order_date']},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
{%- set window_days = var('attribution_window_days', 7) | int %}
-- One row per purchase (order not cancelled) that followed an ad click of the same user within
-- `attribution_window_days` (default 7): the order credited to the user's last click before it
-- (last-click attribution). Incremental by whole order days.
with

{% if is_incremental() -%}
rebuild_window as (

    select
        {{ utc_midnight('rebuild_from_day') }} as rebuild_from_ts
    from (
        select {{ rebuild_from_day([
            (ref('stg_orders__orders'), 'order_ts'),
            (ref('stg_ad_events__ad_events'), 'event_ts'),
        ], 'order_date') }} as rebuild_from_day
    ) as first_changed_day

),
{%- endif %}

orders as (

    select * from {{ ref('stg_orders__orders') }}
    where
        status not in {{ cancelled_statuses() }}
        {%- if is_incremental() %}
        and order_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
        {%- endif %}

),

clicks as (

    select * from {{ ref('stg_ad_events__ad_events') }}
    where
        event_type = 'click'
        {%- if is_incremental() %}
        and event_ts >= (
            select rebuild_window.rebuild_from_ts - interval '{{ window_days }} days'
            from rebuild_window
        )
        {%- endif %}

),

last_clicks as (

    select distinct on (orders.order_id)
        orders.order_id,
        orders.user_id,
        orders.order_ts,
        orders.total_amount,
        clicks.ad_event_id,
        clicks.campaign_id,
        clicks.event_ts as click_ts,
        greatest(orders.loaded_at, clicks.loaded_at) as source_loaded_at
    from orders
    inner join clicks
        on
            orders.user_id = clicks.user_id
            and orders.order_ts >= clicks.event_ts
            and orders.order_ts - interval '{{ window_days }} days' < clicks.event_ts
    order by orders.order_id asc, clicks.event_ts desc, clicks.ad_event_id desc

)

select
    order_id,
    user_id,
    order_ts,
    {{ utc_date('order_ts') }} as order_date,
    total_amount as attributed_revenue,
    ad_event_id as click_event_id,
    campaign_id,
    click_ts,
    {{ utc_date('click_ts') }} as click_date,
    source_loaded_at
from last_clicks
