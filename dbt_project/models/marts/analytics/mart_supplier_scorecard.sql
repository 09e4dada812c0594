-- One row per supplier: its profile and reach (stores, items, merchants) and the performance of
-- its items over the 30 days up to the last loaded day (views, purchases, units, revenue,
-- conversion), cancellations over 90 days and average item price.
with

suppliers as (

    select * from {{ ref('dim_suppliers') }}

),

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

catalogue as (

    select
        supplier_id,
        avg(price) as avg_item_price,
        count(*) filter (where is_available) as available_item_count
    from items
    where supplier_id is not null
    group by supplier_id

),

performance as (

    select
        items.supplier_id,
        sum(item_days.views) filter (
            where item_days.activity_date > calendar.last_data_day - 30
        ) as views_30d,
        sum(item_days.purchased_lines) filter (
            where item_days.activity_date > calendar.last_data_day - 30
        ) as purchases_30d,
        sum(item_days.units) filter (
            where item_days.activity_date > calendar.last_data_day - 30
        ) as units_30d,
        sum(item_days.revenue) filter (
            where item_days.activity_date > calendar.last_data_day - 30
        ) as revenue_30d,
        sum(item_days.purchased_lines) filter (
            where item_days.activity_date > calendar.last_data_day - 90
        ) as purchases_90d,
        sum(item_days.cancelled_lines) filter (
            where item_days.activity_date > calendar.last_data_day - 90
        ) as cancelled_lines_90d
    from item_days
    cross join calendar
    inner join items
        on item_days.item_id = items.item_id
    where items.supplier_id is not null
    group by items.supplier_id

)

select
    (select calendar.last_data_day + 1 from calendar) as as_of_date,
    suppliers.supplier_id,
    suppliers.supplier_name,
    suppliers.business_scope,
    suppliers.tags,
    suppliers.store_count,
    suppliers.item_count,
    coalesce(catalogue.available_item_count, 0)::integer as available_item_count,
    suppliers.merchant_count,
    round(catalogue.avg_item_price, 6) as avg_item_price,
    coalesce(performance.views_30d, 0)::integer as views_30d,
    coalesce(performance.purchases_30d, 0)::integer as purchases_30d,
    coalesce(performance.units_30d, 0)::integer as units_30d,
    coalesce(performance.revenue_30d, 0)::numeric as revenue_30d,
    {{ capped_ratio('performance.purchases_30d', 'performance.views_30d') }}
        as view_to_purchase_rate_30d,
    {{ safe_ratio(
        'performance.cancelled_lines_90d',
        'performance.cancelled_lines_90d + performance.purchases_90d'
    ) }} as cancellation_rate_90d,
    (
        rank() over (order by coalesce(performance.revenue_30d, 0) desc)
    )::integer as revenue_rank_30d
from suppliers
left join catalogue
    on suppliers.supplier_id = catalogue.supplier_id
left join performance
    on suppliers.supplier_id = performance.supplier_id
