{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'as_of_date'}},
        indexes=[
            {'columns': ['as_of_date', 'user_id'], 'unique': true},
        ],
        pre_hook="{{ forget_rows_before_span_start() }}",
    )
}}
{%- set window_measures = {
    7: ['orders', 'revenue', 'views', 'searches', 'carts'],
    30: [
        'orders', 'revenue', 'views', 'searches', 'favorites', 'likes', 'comments', 'carts',
        'sessions', 'active_days', 'viewed_price_sum', 'viewed_price_count',
        'ad_impressions', 'ad_clicks',
    ],
    90: [
        'orders', 'revenue', 'views', 'carts', 'discounted_orders', 'coupons_redeemed',
        'feedback_entries', 'rating_sum', 'rating_count',
        'viewed_merchant_rating_sum', 'viewed_merchant_rating_count',
    ],
} %}
-- One row per (user_id, as_of_date): what was known about the user at 00:00 UTC of as_of_date.
-- Point in time: every value uses rows with timestamps < as_of_date only. A w-day window is the
-- days as_of_date - w .. as_of_date - 1, read as the difference of two running totals of
-- int_user_days_accumulated (no scan over events per as-of date).
-- Incremental runs rebuild every user's as-of dates from the day after the first day the
-- accumulated model rebuilt for all (or the look-back), and all as-of dates of the users it
-- started from their span start.
with

calendar as (

    select
        min(first_data_day) as first_data_day,
        min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

earliest_as_of as (

    select
        {{ earliest_as_of_date('calendar.first_data_day') }} as earliest_as_of_date,
        calendar.last_data_day + 1 as last_as_of_date
    from calendar

),

as_of_window as (

    select
        greatest(
            earliest_as_of.earliest_as_of_date
            {%- if is_incremental() %},
            least(
                {{ first_day_rebuilt_for_continued_users() }} + 1,
                {{ lookback_start_day('as_of_date') }}
            )
            {%- endif %}
        ) as first_as_of_date,
        earliest_as_of.earliest_as_of_date,
        earliest_as_of.last_as_of_date
    from earliest_as_of

),

-- users whose every as-of date is rebuilt
started_users as (

    {{ users_started_by_invocation() }}

),

-- running totals of the days that close or open a window of the as-of dates to build
accumulated as (

    select *
    from {{ ref('int_user_days_accumulated') }}
    where
        activity_date between (select as_of_window.first_as_of_date - 1 from as_of_window)
        and (select as_of_window.last_as_of_date - 1 from as_of_window)
        {%- for days in window_measures %}
        or activity_date between (
            select as_of_window.first_as_of_date - {{ days + 1 }} from as_of_window
        ) and (
            select as_of_window.last_as_of_date - {{ days + 1 }} from as_of_window
        )
        {%- endfor %}
        -- every row of a started user (all rebuilt by this invocation)
        or (
            refreshed_by_invocation = '{{ invocation_id }}'
            and user_id in (select started_users.user_id from started_users)
        )

),

-- the day before each as-of date: its running totals close every window
as_of_days as (

    select
        accumulated.*,
        accumulated.activity_date + 1 as as_of_date
    from accumulated
    cross join as_of_window
    where
        accumulated.activity_date
        between as_of_window.first_as_of_date - 1 and as_of_window.last_as_of_date - 1
        or (
            accumulated.activity_date >= as_of_window.earliest_as_of_date - 1
            and accumulated.user_id in (select started_users.user_id from started_users)
        )

),
{%- for days, measures in window_measures.items() %}

-- running totals on the day before a {{ days }}-day window opens
window_{{ days }}d_opening as (

    select
        accumulated.user_id,
        accumulated.activity_date + {{ days + 1 }} as as_of_date,
        {%- for measure in measures %}
        accumulated.cum_{{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from accumulated
    cross join as_of_window
    where
        accumulated.activity_date
        between as_of_window.first_as_of_date - {{ days + 1 }}
        and as_of_window.last_as_of_date - {{ days + 1 }}
        or accumulated.user_id in (select started_users.user_id from started_users)

),
{%- endfor %}

-- every window total: running total at the close minus running total before the opening
windows as (

    select
        {%- for days, measures in window_measures.items() %}
        {%- for measure in measures %}
        as_of_days.cum_{{ measure }} - coalesce(window_{{ days }}d_opening.cum_{{ measure }}, 0)
            as {{ measure }}_{{ days }}d,
        {%- endfor %}
        {%- endfor %}
        as_of_days.user_id,
        as_of_days.as_of_date,
        as_of_days.activity_date,
        as_of_days.last_order_date,
        as_of_days.last_event_date
    from as_of_days
    left join window_7d_opening
        on
            as_of_days.user_id = window_7d_opening.user_id
            and as_of_days.as_of_date = window_7d_opening.as_of_date
    left join window_30d_opening
        on
            as_of_days.user_id = window_30d_opening.user_id
            and as_of_days.as_of_date = window_30d_opening.as_of_date
    left join window_90d_opening
        on
            as_of_days.user_id = window_90d_opening.user_id
            and as_of_days.as_of_date = window_90d_opening.as_of_date

),

users as (

    select * from {{ ref('int_users_unioned') }}

),

user_versions as (

    select * from {{ ref('stg_users__user_versions') }}

),

devices as (

    select * from {{ ref('stg_devices__devices') }}

),

top_categories as (

    select * from {{ ref('int_user_categories_ranked') }}

),

-- the user's record as it stood just before the as-of date
country_as_of as (

    select
        as_of_days.user_id,
        as_of_days.as_of_date,
        user_versions.country
    from as_of_days
    inner join user_versions
        on
            as_of_days.user_id = user_versions.user_id
            and user_versions.valid_from < {{ utc_midnight('as_of_days.as_of_date') }}
            and user_versions.valid_to >= {{ utc_midnight('as_of_days.as_of_date') }}

),

-- the newest device first seen before the as-of date
device_as_of as (

    select distinct on (as_of_days.user_id, as_of_days.as_of_date)
        as_of_days.user_id,
        as_of_days.as_of_date,
        devices.os,
        devices.is_mobile
    from as_of_days
    inner join devices
        on
            as_of_days.user_id = devices.user_id
            and coalesce(devices.first_seen_at, '-infinity'::timestamptz)
            < {{ utc_midnight('as_of_days.as_of_date') }}
    order by
        as_of_days.user_id asc,
        as_of_days.as_of_date asc,
        devices.first_seen_at desc nulls last,
        devices.device_hash asc

),

features as (

    select
        windows.user_id,
        windows.as_of_date,
        (windows.as_of_date - users.known_since_date)::integer as tenure_days,
        country_as_of.country,
        windows.orders_7d::integer as orders_7d,
        windows.orders_30d::integer as orders_30d,
        windows.orders_90d::integer as orders_90d,
        windows.revenue_7d::numeric as revenue_7d,
        windows.revenue_30d::numeric as revenue_30d,
        windows.revenue_90d::numeric as revenue_90d,
        {{ safe_ratio('windows.revenue_90d', 'windows.orders_90d') }} as avg_order_value_90d,
        (windows.as_of_date - windows.last_order_date)::integer as days_since_last_order,
        (windows.as_of_date - windows.last_event_date)::integer as days_since_last_event,
        windows.views_7d::integer as views_7d,
        windows.views_30d::integer as views_30d,
        windows.searches_7d::integer as searches_7d,
        windows.searches_30d::integer as searches_30d,
        windows.favorites_30d::integer as favorites_30d,
        windows.likes_30d::integer as likes_30d,
        windows.comments_30d::integer as comments_30d,
        windows.carts_7d::integer as carts_7d,
        windows.carts_30d::integer as carts_30d,
        windows.sessions_30d::integer as sessions_30d,
        windows.active_days_30d::integer as active_days_30d,
        {{ capped_ratio('windows.orders_90d', 'windows.views_90d') }} as view_to_order_rate_90d,
        {{ capped_ratio('windows.orders_90d', 'windows.carts_90d') }} as cart_to_order_rate_90d,
        top_categories.top_category_90d::text as top_category_90d,
        top_categories.top_category_share_90d::numeric as top_category_share_90d,
        coalesce(top_categories.distinct_categories_90d, 0)::integer as distinct_categories_90d,
        {{ safe_ratio('windows.viewed_price_sum_30d', 'windows.viewed_price_count_30d') }}
            as avg_item_price_viewed_30d,
        {{ safe_ratio('windows.discounted_orders_90d', 'windows.orders_90d') }}
            as discount_share_90d,
        windows.coupons_redeemed_90d::integer as coupons_redeemed_90d,
        windows.ad_impressions_30d::integer as ad_impressions_30d,
        windows.ad_clicks_30d::integer as ad_clicks_30d,
        {{ capped_ratio('windows.ad_clicks_30d', 'windows.ad_impressions_30d') }} as ad_ctr_30d,
        device_as_of.os::text as device_os,
        device_as_of.is_mobile::integer as is_mobile,
        windows.feedback_entries_90d::integer as feedback_count_90d,
        {{ safe_ratio('windows.rating_sum_90d', 'windows.rating_count_90d') }} as avg_rating_90d,
        {{ safe_ratio(
            'windows.viewed_merchant_rating_sum_90d', 'windows.viewed_merchant_rating_count_90d'
        ) }} as avg_merchant_rating_90d
    from windows
    inner join users
        on windows.user_id = users.user_id
    left join country_as_of
        on
            windows.user_id = country_as_of.user_id
            and windows.as_of_date = country_as_of.as_of_date
    left join device_as_of
        on
            windows.user_id = device_as_of.user_id
            and windows.as_of_date = device_as_of.as_of_date
    left join top_categories
        on
            windows.user_id = top_categories.user_id
            and windows.activity_date = top_categories.activity_date

)

select * from features
-- stored day by day: readers and incremental runs take whole as-of dates
order by as_of_date, user_id
