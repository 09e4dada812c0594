-- One row per merchant: its ratings and catalogue, and its shop performance over the 30 days up
-- to the last loaded day (views, carts, purchases, units, revenue, conversion), cancellations
-- and customer feedback over 90 days.
with

merchants as (

    select * from {{ ref('dim_merchants') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

item_days as (

    select * from {{ ref('int_item_days_aggregated') }}

),

feedback_entries as (

    select * from {{ ref('stg_feedback__feedback_entries') }}

),

order_items as (

    select * from {{ ref('stg_order_items__order_items') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

merchant_days as (

    select
        items.merchant_id,
        item_days.activity_date,
        item_days.views,
        item_days.carts,
        item_days.purchased_lines,
        item_days.cancelled_lines,
        item_days.units,
        item_days.revenue
    from item_days
    inner join items
        on item_days.item_id = items.item_id

),

performance as (

    select
        merchant_days.merchant_id,
        sum(merchant_days.views) filter (
            where merchant_days.activity_date > calendar.last_data_day - 30
        ) as views_30d,
        sum(merchant_days.carts) filter (
            where merchant_days.activity_date > calendar.last_data_day - 30
        ) as carts_30d,
        sum(merchant_days.purchased_lines) filter (
            where merchant_days.activity_date > calendar.last_data_day - 30
        ) as purchases_30d,
        sum(merchant_days.units) filter (
            where merchant_days.activity_date > calendar.last_data_day - 30
        ) as units_30d,
        sum(merchant_days.revenue) filter (
            where merchant_days.activity_date > calendar.last_data_day - 30
        ) as revenue_30d,
        sum(merchant_days.purchased_lines) filter (
            where merchant_days.activity_date > calendar.last_data_day - 90
        ) as purchases_90d,
        sum(merchant_days.cancelled_lines) filter (
            where merchant_days.activity_date > calendar.last_data_day - 90
        ) as cancelled_lines_90d
    from merchant_days
    cross join calendar
    group by merchant_days.merchant_id

),

-- feedback about an item, or about an order (credited to the merchants of its lines)
feedback_items as (

    select
        feedback_entries.feedback_id,
        feedback_entries.rating,
        feedback_entries.feedback_ts,
        coalesce(feedback_entries.item_id, order_items.item_id) as item_id
    from feedback_entries
    left join order_items
        on
            feedback_entries.item_id is null
            and feedback_entries.order_id = order_items.order_id

),

feedback as (

    select
        items.merchant_id,
        count(distinct feedback_items.feedback_id) as feedback_count_90d,
        avg(feedback_items.rating) as avg_feedback_rating_90d
    from feedback_items
    cross join calendar
    inner join items
        on feedback_items.item_id = items.item_id
    where
        feedback_items.feedback_ts
        >= {{ utc_midnight('calendar.last_data_day - 89') }}
    group by items.merchant_id

)

select
    (select calendar.last_data_day + 1 from calendar) as as_of_date,
    merchants.merchant_id,
    merchants.merchant_name,
    merchants.shop_rating,
    merchants.service_score,
    merchants.delivery_score,
    merchants.review_count,
    merchants.item_count,
    merchants.active_item_count,
    coalesce(performance.views_30d, 0)::integer as views_30d,
    coalesce(performance.carts_30d, 0)::integer as carts_30d,
    coalesce(performance.purchases_30d, 0)::integer as purchases_30d,
    coalesce(performance.units_30d, 0)::integer as units_30d,
    coalesce(performance.revenue_30d, 0)::numeric as revenue_30d,
    {{ capped_ratio('performance.purchases_30d', 'performance.views_30d') }}
        as view_to_purchase_rate_30d,
    {{ safe_ratio(
        'performance.cancelled_lines_90d',
        'performance.cancelled_lines_90d + performance.purchases_90d'
    ) }} as cancellation_rate_90d,
    coalesce(feedback.feedback_count_90d, 0)::integer as feedback_count_90d,
    round(feedback.avg_feedback_rating_90d, 6) as avg_feedback_rating_90d,
    (
        rank() over (order by coalesce(performance.revenue_30d, 0) desc)
    )::integer as revenue_rank_30d
from merchants
left join performance
    on merchants.merchant_id = performance.merchant_id
left join feedback
    on merchants.merchant_id = feedback.merchant_id
