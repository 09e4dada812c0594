{%- set window_days = var('attribution_window_days', 7) | int %}
-- One row per (campaign_id, activity_date) with ad events: impressions, clicks, CTR, cost, cost
-- per click, users reached, and the purchases attributed to that day's clicks (the clicking
-- user's orders within `attribution_window_days`, last click wins) with their revenue and ROAS
-- (attributed revenue / cost).
with

ad_user_days as (

    select * from {{ ref('int_ad_user_days_aggregated') }}

),

attributed_orders as (

    select * from {{ ref('int_orders_attributed') }}

),

campaigns as (

    select * from {{ ref('dim_ad_campaigns') }}

),

delivery as (

    select
        campaign_id,
        activity_date,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(cost) as cost,
        count(*) filter (where impressions > 0) as reached_users
    from ad_user_days
    group by campaign_id, activity_date

),

conversions as (

    select
        campaign_id,
        click_date as activity_date,
        count(*) as attributed_orders,
        sum(attributed_revenue) as attributed_revenue
    from attributed_orders
    group by campaign_id, click_date

)

select
    delivery.campaign_id,
    delivery.activity_date,
    campaigns.channel,
    campaigns.objective,
    delivery.impressions::integer as impressions,
    delivery.clicks::integer as clicks,
    {{ capped_ratio('delivery.clicks', 'delivery.impressions') }} as ctr,
    delivery.cost::numeric as cost,
    {{ safe_ratio('delivery.cost', 'delivery.clicks') }} as cost_per_click,
    delivery.reached_users::integer as reached_users,
    coalesce(conversions.attributed_orders, 0)::integer as attributed_orders,
    coalesce(conversions.attributed_revenue, 0)::numeric as attributed_revenue,
    {{ safe_ratio('coalesce(conversions.attributed_revenue, 0)', 'delivery.cost') }} as roas,
    {{ window_days }}::integer as attribution_window_days
from delivery
left join campaigns
    on delivery.campaign_id = campaigns.campaign_id
left join conversions
    on
        delivery.campaign_id = conversions.campaign_id
        and delivery.activity_date = conversions.activity_date
