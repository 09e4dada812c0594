{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (user_id, activity_date) on which the user left any row: UTC-day totals of
-- events, orders, ad events, feedback and coupon redemptions. Incremental runs rebuild whole
-- days (unique_key = activity_date) from the first day with newly loaded rows.
with

{% if is_incremental() -%}
rebuild_window as (

    select
        {{ utc_midnight('rebuild_from_day') }} as rebuild_from_ts
    from (
        select {{ rebuild_from_day([
            (ref('stg_events__events'), 'event_ts'),
            (ref('stg_orders__orders'), 'order_ts'),
            (ref('stg_ad_events__ad_events'), 'event_ts'),
            (ref('stg_feedback__feedback_entries'), 'feedback_ts'),
            (ref('stg_coupon_redemptions__coupon_redemptions'), 'redeemed_at'),
        ], 'activity_date') }} as rebuild_from_day
    ) as first_changed_day

),
{%- endif %}

events as (

    select * from {{ ref('stg_events__events') }}
    {%- if is_incremental() %}
    where event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

orders as (

    select * from {{ ref('stg_orders__orders') }}
    {%- if is_incremental() %}
    where order_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

ad_events as (

    select * from {{ ref('stg_ad_events__ad_events') }}
    {%- if is_incremental() %}
    where event_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

feedback_entries as (

    select * from {{ ref('stg_feedback__feedback_entries') }}
    {%- if is_incremental() %}
    where feedback_ts >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

coupon_redemptions as (

    select * from {{ ref('stg_coupon_redemptions__coupon_redemptions') }}
    {%- if is_incremental() %}
    where redeemed_at >= (select rebuild_window.rebuild_from_ts from rebuild_window)
    {%- endif %}

),

item_versions as (

    select * from {{ ref('stg_items__item_versions') }}

),

merchant_versions as (

    select * from {{ ref('stg_merchants__merchant_versions') }}

),

-- price and merchant rating of the viewed item as they were at event time
events_in_context as (

    select
        events.user_id,
        events.event_type,
        events.session_id,
        events.event_ts,
        events.loaded_at,
        item_versions.price as item_price,
        merchant_versions.shop_rating as merchant_rating,
        {{ utc_date('events.event_ts') }} as activity_date
    from events
    left join item_versions
        on
            events.item_id = item_versions.item_id
            and events.event_ts >= item_versions.valid_from
            and events.event_ts < item_versions.valid_to
    left join merchant_versions
        on
            coalesce(events.merchant_id, item_versions.merchant_id)
            = merchant_versions.merchant_id
            and events.event_ts >= merchant_versions.valid_from
            and events.event_ts < merchant_versions.valid_to

),

daily_events as (

    select
        user_id,
        activity_date,
        count(*) as events,
        count(*) filter (where event_type = 'view') as views,
        count(*) filter (where event_type = 'search') as searches,
        count(*) filter (where event_type = 'favorite') as favorites,
        count(*) filter (where event_type = 'like') as likes,
        count(*) filter (where event_type = 'comment') as comments,
        count(*) filter (where event_type = 'add_to_cart') as carts,
        count(distinct session_id) as sessions,
        coalesce(sum(item_price) filter (where event_type = 'view'), 0) as viewed_price_sum,
        count(item_price) filter (where event_type = 'view') as viewed_price_count,
        coalesce(
            sum(merchant_rating) filter (where event_type = 'view'), 0
        ) as viewed_merchant_rating_sum,
        count(merchant_rating) filter (
            where event_type = 'view'
        ) as viewed_merchant_rating_count,
        min(event_ts) as first_seen_at,
        max(loaded_at) as loaded_at
    from events_in_context
    group by user_id, activity_date

),

daily_orders as (

    select
        user_id,
        {{ utc_date('order_ts') }} as activity_date,
        count(*) as orders,
        sum(total_amount) as revenue,
        count(*) filter (
            where coalesce(discount_amount, 0) > 0 or coupon_id is not null
        ) as discounted_orders,
        count(*) filter (where status not in {{ cancelled_statuses() }}) as purchases,
        coalesce(
            sum(total_amount) filter (where status not in {{ cancelled_statuses() }}), 0
        ) as purchase_revenue,
        min(order_ts) as first_seen_at,
        max(loaded_at) as loaded_at
    from orders
    group by user_id, activity_date

),

daily_ad_events as (

    select
        user_id,
        {{ utc_date('event_ts') }} as activity_date,
        count(*) filter (where event_type = 'impression') as ad_impressions,
        count(*) filter (where event_type = 'click') as ad_clicks,
        coalesce(sum(cost), 0) as ad_cost,
        min(event_ts) as first_seen_at,
        max(loaded_at) as loaded_at
    from ad_events
    group by user_id, activity_date

),

daily_feedback as (

    select
        user_id,
        {{ utc_date('feedback_ts') }} as activity_date,
        count(*) as feedback_entries,
        coalesce(sum(rating), 0) as rating_sum,
        count(rating) as rating_count,
        min(feedback_ts) as first_seen_at,
        max(loaded_at) as loaded_at
    from feedback_entries
    group by user_id, activity_date

),

daily_redemptions as (

    select
        user_id,
        {{ utc_date('redeemed_at') }} as activity_date,
        count(*) as coupons_redeemed,
        min(redeemed_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from coupon_redemptions
    group by user_id, activity_date

),

user_days as (

    select
        user_id,
        activity_date
    from daily_events
    union
    select
        user_id,
        activity_date
    from daily_orders
    union
    select
        user_id,
        activity_date
    from daily_ad_events
    union
    select
        user_id,
        activity_date
    from daily_feedback
    union
    select
        user_id,
        activity_date
    from daily_redemptions

),

joined as (

    select
        user_days.user_id,
        user_days.activity_date,
        coalesce(daily_orders.orders, 0) as orders,
        coalesce(daily_orders.revenue, 0) as revenue,
        coalesce(daily_orders.discounted_orders, 0) as discounted_orders,
        coalesce(daily_orders.purchases, 0) as purchases,
        coalesce(daily_orders.purchase_revenue, 0) as purchase_revenue,
        coalesce(daily_events.events, 0) as events,
        coalesce(daily_events.views, 0) as views,
        coalesce(daily_events.searches, 0) as searches,
        coalesce(daily_events.favorites, 0) as favorites,
        coalesce(daily_events.likes, 0) as likes,
        coalesce(daily_events.comments, 0) as comments,
        coalesce(daily_events.carts, 0) as carts,
        coalesce(daily_events.sessions, 0) as sessions,
        case
            when daily_events.events > 0 or daily_orders.orders > 0 then 1 else 0
        end as active_days,
        coalesce(daily_events.viewed_price_sum, 0) as viewed_price_sum,
        coalesce(daily_events.viewed_price_count, 0) as viewed_price_count,
        coalesce(daily_events.viewed_merchant_rating_sum, 0) as viewed_merchant_rating_sum,
        coalesce(daily_events.viewed_merchant_rating_count, 0) as viewed_merchant_rating_count,
        coalesce(daily_ad_events.ad_impressions, 0) as ad_impressions,
        coalesce(daily_ad_events.ad_clicks, 0) as ad_clicks,
        coalesce(daily_ad_events.ad_cost, 0) as ad_cost,
        coalesce(daily_feedback.feedback_entries, 0) as feedback_entries,
        coalesce(daily_feedback.rating_sum, 0) as rating_sum,
        coalesce(daily_feedback.rating_count, 0) as rating_count,
        coalesce(daily_redemptions.coupons_redeemed, 0) as coupons_redeemed,
        case when daily_events.events > 0 then user_days.activity_date end as last_event_date,
        case when daily_orders.orders > 0 then user_days.activity_date end as last_order_date,
        case
            when daily_orders.purchases > 0 then user_days.activity_date
        end as last_purchase_date,
        least(
            daily_events.first_seen_at,
            daily_orders.first_seen_at,
            daily_ad_events.first_seen_at,
            daily_feedback.first_seen_at,
            daily_redemptions.first_seen_at
        ) as first_seen_at,
        greatest(
            daily_events.loaded_at,
            daily_orders.loaded_at,
            daily_ad_events.loaded_at,
            daily_feedback.loaded_at,
            daily_redemptions.loaded_at
        ) as source_loaded_at
    from user_days
    left join daily_events
        on
            user_days.user_id = daily_events.user_id
            and user_days.activity_date = daily_events.activity_date
    left join daily_orders
        on
            user_days.user_id = daily_orders.user_id
            and user_days.activity_date = daily_orders.activity_date
    left join daily_ad_events
        on
            user_days.user_id = daily_ad_events.user_id
            and user_days.activity_date = daily_ad_events.activity_date
    left join daily_feedback
        on
            user_days.user_id = daily_feedback.user_id
            and user_days.activity_date = daily_feedback.activity_date
    left join daily_redemptions
        on
            user_days.user_id = daily_redemptions.user_id
            and user_days.activity_date = daily_redemptions.activity_date

)

select * from joined
