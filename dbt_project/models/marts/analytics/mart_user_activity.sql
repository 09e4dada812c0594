{%- set measures = [
    'active_days', 'sessions', 'events', 'purchases', 'purchase_revenue', 'ad_impressions',
    'ad_clicks',
] %}
-- One row per user: how active the user has been, all time and over the 30 days up to the last
-- loaded day: active days, last activity, sessions, orders, conversion rate, device share and
-- ad click-through rate overall and on the user's best channel.
with

users as (

    select * from {{ ref('dim_users') }}

),

device_days as (

    select * from {{ ref('int_user_device_days_aggregated') }}

),

devices as (

    select * from {{ ref('stg_devices__devices') }}

),

ad_user_days as (

    select * from {{ ref('int_ad_user_days_aggregated') }}

),

campaigns as (

    select * from {{ ref('dim_ad_campaigns') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

device_use as (

    select
        device_days.user_id,
        coalesce(devices.os, 'unknown') as os,
        coalesce(devices.is_mobile, false) as is_mobile,
        sum(device_days.events) as events
    from device_days
    cross join calendar
    left join devices
        on device_days.device_hash = devices.device_hash
    where device_days.activity_date > calendar.last_data_day - 30
    group by
        device_days.user_id,
        coalesce(devices.os, 'unknown'),
        coalesce(devices.is_mobile, false)

),

device_share as (

    select
        user_id,
        sum(events) filter (where is_mobile)::numeric / sum(events) as mobile_event_share_30d,
        (array_agg(os order by events desc, os asc))[1] as top_device_os_30d
    from device_use
    group by user_id

),

channel_use as (

    select
        ad_user_days.user_id,
        campaigns.channel,
        sum(ad_user_days.impressions) as impressions,
        sum(ad_user_days.clicks) as clicks
    from ad_user_days
    cross join calendar
    inner join campaigns
        on ad_user_days.campaign_id = campaigns.campaign_id
    where ad_user_days.activity_date > calendar.last_data_day - 30
    group by ad_user_days.user_id, campaigns.channel

),

best_channel as (

    select distinct on (user_id)
        user_id,
        channel as best_ctr_channel_30d,
        {{ capped_ratio('clicks', 'impressions') }} as best_channel_ctr_30d
    from channel_use
    where impressions > 0
    order by user_id asc, clicks::numeric / impressions desc, channel asc

)

select
    calendar.last_data_day + 1 as as_of_date,
    users.user_id,
    users.known_since_date,
    coalesce(latest.cum_active_days, 0)::integer as active_days_total,
    (
        coalesce(latest.cum_active_days, 0) - coalesce(before_30_days.cum_active_days, 0)
    )::integer as active_days_30d,
    greatest(latest.last_event_date, latest.last_order_date) as last_active_date,
    (
        coalesce(latest.cum_sessions, 0) - coalesce(before_30_days.cum_sessions, 0)
    )::integer as sessions_30d,
    (
        coalesce(latest.cum_events, 0) - coalesce(before_30_days.cum_events, 0)
    )::integer as events_30d,
    (
        coalesce(latest.cum_purchases, 0) - coalesce(before_30_days.cum_purchases, 0)
    )::integer as purchases_30d,
    (
        coalesce(latest.cum_purchase_revenue, 0)
        - coalesce(before_30_days.cum_purchase_revenue, 0)
    )::numeric as revenue_30d,
    {{ capped_ratio(
        'coalesce(latest.cum_purchases, 0) - coalesce(before_30_days.cum_purchases, 0)',
        'coalesce(latest.cum_sessions, 0) - coalesce(before_30_days.cum_sessions, 0)'
    ) }} as conversion_rate_30d,
    round(device_share.mobile_event_share_30d, 6) as mobile_event_share_30d,
    device_share.top_device_os_30d,
    (
        coalesce(latest.cum_ad_impressions, 0) - coalesce(before_30_days.cum_ad_impressions, 0)
    )::integer as ad_impressions_30d,
    (
        coalesce(latest.cum_ad_clicks, 0) - coalesce(before_30_days.cum_ad_clicks, 0)
    )::integer as ad_clicks_30d,
    {{ capped_ratio(
        'coalesce(latest.cum_ad_clicks, 0) - coalesce(before_30_days.cum_ad_clicks, 0)',
        'coalesce(latest.cum_ad_impressions, 0) - coalesce(before_30_days.cum_ad_impressions, 0)'
    ) }} as ad_ctr_30d,
    best_channel.best_ctr_channel_30d,
    best_channel.best_channel_ctr_30d
from users
cross join calendar
-- running totals up to the last data day and up to 30 days before: each user's latest active
-- day on or before it
left join lateral (
    {{ accumulated_as_of(
        'users.user_id', 'calendar.last_data_day', measures, ['last_event_date', 'last_order_date']
    ) }}
) as latest on true
left join lateral (
    {{ accumulated_as_of('users.user_id', 'calendar.last_data_day - 30', measures) }}
) as before_30_days on true
left join device_share
    on users.user_id = device_share.user_id
left join best_channel
    on users.user_id = best_channel.user_id
