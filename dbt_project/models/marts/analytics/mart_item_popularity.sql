-- One row per catalogue item: its views, favorites, carts and purchases over the 30 days up to
-- the last loaded day, with a popularity score and its rank overall, within its category and
-- within its category and price band (1 = most popular).
with

items as (

    select * from {{ ref('dim_items') }}

),

item_days as (

    select * from {{ ref('int_item_days_aggregated') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

last_30_days as (

    select
        item_days.item_id,
        sum(item_days.views) as views_30d,
        sum(item_days.favorites) as favorites_30d,
        sum(item_days.carts) as carts_30d,
        sum(item_days.purchased_lines) as purchases_30d,
        sum(item_days.units) as units_30d,
        sum(item_days.revenue) as revenue_30d
    from item_days
    cross join calendar
    where item_days.activity_date > calendar.last_data_day - 30
    group by item_days.item_id

),

scored as (

    select
        items.item_id,
        items.title,
        items.category,
        items.brand,
        items.merchant_id,
        items.supplier_id,
        items.price,
        items.price_band,
        items.is_available,
        coalesce(last_30_days.views_30d, 0)::integer as views_30d,
        coalesce(last_30_days.favorites_30d, 0)::integer as favorites_30d,
        coalesce(last_30_days.carts_30d, 0)::integer as carts_30d,
        coalesce(last_30_days.purchases_30d, 0)::integer as purchases_30d,
        coalesce(last_30_days.units_30d, 0)::integer as units_30d,
        coalesce(last_30_days.revenue_30d, 0)::numeric as revenue_30d,
        {{ capped_ratio('last_30_days.purchases_30d', 'last_30_days.views_30d') }}
            as view_to_purchase_rate_30d,
        -- purchases weigh most, then carts and favorites, then views
        (
            10 * coalesce(last_30_days.purchases_30d, 0)
            + 3 * coalesce(last_30_days.carts_30d, 0)
            + 2 * coalesce(last_30_days.favorites_30d, 0)
            + coalesce(last_30_days.views_30d, 0)
        )::integer as popularity_score
    from items
    left join last_30_days
        on items.item_id = last_30_days.item_id

)

select
    (select calendar.last_data_day + 1 from calendar) as as_of_date,
    scored.*,
    (rank() over (order by scored.popularity_score desc))::integer as rank_overall,
    (
        rank() over (partition by scored.category order by scored.popularity_score desc)
    )::integer as rank_in_category,
    (
        rank() over (
            partition by scored.category, scored.price_band
            order by scored.popularity_score desc
        )
    )::integer as rank_in_category_price_band
from scored
