{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['activity_date', 'item_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (item_id, activity_date) with any interaction or order line on that UTC day:
-- views, favorites, likes, comments, carts and purchased lines, units and revenue (lines of
-- orders that are not cancelled). Incremental runs rebuild whole days from the first day with
-- newly loaded events, order lines or order updates.
with

{% if is_incremental() -%}
rebuild_window as (

    select
        {{ utc_midnight('rebuild_from_day') }} as rebuild_from_ts
    from (
        select {{ rebuild_from_day([
            (ref('stg_events__events'), 'event_ts'),
            (ref('stg_order_items__order_items'), 'order_ts'),
            (ref('stg_orders__orders'), 'order_ts'),
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

order_items as (

    select * from {{ ref('stg_order_items__order_items') }}
    {%- if is_incremental() %}
    where order_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

orders as (

    select * from {{ ref('stg_orders__orders') }}

),

daily_interactions as (

    select
        item_id,
        {{ utc_date('event_ts') }} as activity_date,
        count(*) filter (where event_type = 'view') as views,
        count(*) filter (where event_type = 'favorite') as favorites,
        count(*) filter (where event_type = 'like') as likes,
        count(*) filter (where event_type = 'comment') as comments,
        count(*) filter (where event_type = 'add_to_cart') as carts,
        count(distinct user_id) filter (where event_type = 'view') as viewers,
        max(loaded_at) as loaded_at
    from events
    group by item_id, activity_date

),

daily_lines as (

    select
        order_items.item_id,
        {{ utc_date('order_items.order_ts') }} as activity_date,
        count(*) filter (
            where orders.status not in {{ cancelled_statuses() }}
        ) as purchased_lines,
        count(*) filter (where orders.status in {{ cancelled_statuses() }}) as cancelled_lines,
        coalesce(
            sum(order_items.quantity) filter (
                where orders.status not in {{ cancelled_statuses() }}
            ),
            0
        ) as units,
        coalesce(
            sum(order_items.quantity * order_items.unit_price) filter (
                where orders.status not in {{ cancelled_statuses() }}
            ),
            0
        ) as revenue,
        count(distinct orders.user_id) filter (
            where orders.status not in {{ cancelled_statuses() }}
        ) as buyers,
        max(greatest(order_items.loaded_at, orders.loaded_at)) as loaded_at
    from order_items
    left join orders
        on order_items.order_id = orders.order_id
    group by order_items.item_id, activity_date

),

item_days as (

    select
        item_id,
        activity_date
    from daily_interactions
    union
    select
        item_id,
        activity_date
    from daily_lines

)

select
    item_days.item_id,
    item_days.activity_date,
    coalesce(daily_interactions.views, 0) as views,
    coalesce(daily_interactions.favorites, 0) as favorites,
    coalesce(daily_interactions.likes, 0) as likes,
    coalesce(daily_interactions.comments, 0) as comments,
    coalesce(daily_interactions.carts, 0) as carts,
    coalesce(daily_interactions.viewers, 0) as viewers,
    coalesce(daily_lines.purchased_lines, 0) as purchased_lines,
    coalesce(daily_lines.cancelled_lines, 0) as cancelled_lines,
    coalesce(daily_lines.units, 0) as units,
    coalesce(daily_lines.revenue, 0) as revenue,
    coalesce(daily_lines.buyers, 0) as buyers,
    greatest(daily_interactions.loaded_at, daily_lines.loaded_at) as source_loaded_at
from item_days
left join daily_interactions
    on
        item_days.item_id = daily_interactions.item_id
        and item_days.activity_date = daily_interactions.activity_date
left join daily_lines
    on
        item_days.item_id = daily_lines.item_id
        and item_days.activity_date = daily_lines.activity_date
