{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'as_of_date'}},
        indexes=[
            {'columns': ['as_of_date', 'user_id'], 'unique': true},
        ],
        pre_hook="{{ forget_unplanned_rows() }}",
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
{%- set lifetime_measures = ['purchases', 'purchase_days', 'purchase_revenue'] %}
{%- set read_measures = (window_measures.values() | sum(start=[])) + lifetime_measures %}
{%- set read_measures = read_measures | unique | list %}
{%- set read_days = [
    'first_purchase_date', 'last_event_date', 'last_order_date', 'last_purchase_date',
] %}
-- One row per (user_id, as_of_date) for the planned as-of dates (int_as_of_dates_planned: the
-- training grid, the scoring day, the coupon offer dates) and the users known before
-- as_of_date: what was known about the user at 00:00 UTC of as_of_date. Point in time: every
-- value uses rows with timestamps < as_of_date only. A w-day window is the days
-- as_of_date - w .. as_of_date - 1: the running totals of int_user_days_accumulated up to
-- A - 1 minus those up to A - w - 1: on a full build each read as the maximum over a window
-- frame of the user's active days (one sort of active days and as-of points, no join per
-- day), on an incremental one from the user's latest active day by index.
-- Incremental runs build the planned dates from the day after the first day the accumulated
-- model rebuilt (or the look-back), the planned dates not built yet, and every date of the
-- users int_users_tracked started; the pre-hook forgets unplanned dates and restarted users.
-- depends_on: {{ ref('int_users_tracked') }}
with

rebuild_window as (

    {%- if is_incremental() %}
    select
        coalesce(
            least({{ first_day_rebuilt() }} + 1, {{ lookback_start_day('as_of_date') }}),
            '-infinity'::date
        ) as first_as_of_date
    {%- else %}
    select '-infinity'::date as first_as_of_date
    {%- endif %}

),

dates_to_build as (

    {{ as_of_dates_to_build() }}

),

users as (

    select * from {{ ref('int_users_unioned') }}

),

-- the (user, as-of date) rows to build: everyone known before the dates to build, and the
-- started users on the other planned dates
population as (

    {{ as_of_population() }}

),

{%- if is_incremental() %}

-- an incremental run builds few as-of dates: every running total is read from the user's
-- latest active day on or before the day it is needed for (one index probe each)
windows as (

    select
        population.user_id,
        population.as_of_date,
        {%- for days, measures in window_measures.items() %}
        {%- for measure in measures %}
        coalesce(closing.cum_{{ measure }}, 0)
        - coalesce(opening_{{ days }}d.cum_{{ measure }}, 0) as {{ measure }}_{{ days }}d,
        {%- endfor %}
        {%- endfor %}
        {%- for measure in lifetime_measures %}
        coalesce(closing.cum_{{ measure }}, 0) as {{ measure }}_lifetime,
        {%- endfor %}
        {%- for day in read_days %}
        closing.{{ day }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from population
    left join lateral (
        {{ accumulated_as_of(
            'population.user_id', 'population.as_of_date - 1', read_measures, read_days
        ) }}
    ) as closing on true
    {%- for days, measures in window_measures.items() %}
    left join lateral (
        {{ accumulated_as_of(
            'population.user_id', 'population.as_of_date - ' ~ (days + 1), measures
        ) }}
    ) as opening_{{ days }}d on true
    {%- endfor %}

),

{%- else %}

-- a full build reads every planned date at once: one sort of the users' active days and the
-- as-of points, each total the maximum over a window frame
read_window as (

    select
        min(as_of_date) - 91 as read_from,
        max(as_of_date) as read_until
    from population

),

accumulated as (

    select * from {{ ref('int_user_days_accumulated') }}

),

-- each user's latest active day before the days the windows can reach: it carries the older
-- totals
carried_days as (

    select distinct on (accumulated.user_id) accumulated.*
    from accumulated
    cross join read_window
    where accumulated.activity_date < read_window.read_from
    order by accumulated.user_id asc, accumulated.activity_date desc

),

-- the active days the windows of the rows to build can reach, and the carried ones
active_days as (

    select accumulated.*
    from accumulated
    cross join read_window
    where
        accumulated.activity_date >= read_window.read_from
        and accumulated.activity_date < read_window.read_until

    union all

    select * from carried_days

),

points as (

    select
        user_id,
        activity_date as point_date,
        false as is_as_of_date,
        {%- for measure in read_measures %}
        cum_{{ measure }},
        {%- endfor %}
        {{ read_days | join(', ') }}
    from active_days

    union all

    select
        user_id,
        as_of_date as point_date,
        true as is_as_of_date,
        {%- for measure in read_measures %}
        null as cum_{{ measure }},
        {%- endfor %}
        {%- for day in read_days %}
        null::date as {{ day }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from population

),

-- on each as-of point: the totals up to A - 1 and up to the day before each window opens
framed as (

    select
        user_id,
        point_date as as_of_date,
        {%- for day in read_days %}
        max({{ day }}) over up_to_the_day_before as {{ day }},
        {%- endfor %}
        {%- for measure in read_measures %}
        max(cum_{{ measure }}) over up_to_the_day_before as closing_{{ measure }},
        {%- endfor %}
        {%- for days, measures in window_measures.items() %}
        {%- for measure in measures %}
        max(cum_{{ measure }}) over before_{{ days }}d_window
            as opening_{{ days }}d_{{ measure }},
        {%- endfor %}
        {%- endfor %}
        is_as_of_date
    from points
    window
        by_user as (partition by user_id order by point_date),
        up_to_the_day_before as (
            by_user range between unbounded preceding and interval '1 day' preceding
        ),
        before_7d_window as (
            by_user range between unbounded preceding and interval '8 days' preceding
        ),
        before_30d_window as (
            by_user range between unbounded preceding and interval '31 days' preceding
        ),
        before_90d_window as (
            by_user range between unbounded preceding and interval '91 days' preceding
        )

),

-- every window total: the running total before A minus the one before the window opened
windows as (

    select
        framed.user_id,
        framed.as_of_date,
        {%- for days, measures in window_measures.items() %}
        {%- for measure in measures %}
        coalesce(framed.closing_{{ measure }}, 0)
        - coalesce(framed.opening_{{ days }}d_{{ measure }}, 0) as {{ measure }}_{{ days }}d,
        {%- endfor %}
        {%- endfor %}
        {%- for measure in lifetime_measures %}
        coalesce(framed.closing_{{ measure }}, 0) as {{ measure }}_lifetime,
        {%- endfor %}
        {{ read_days | join(', ') }}
    from framed
    where framed.is_as_of_date

),

{%- endif %}

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
        windows.user_id,
        windows.as_of_date,
        user_versions.country
    from windows
    inner join user_versions
        on
            windows.user_id = user_versions.user_id
            and user_versions.valid_from < {{ utc_midnight('windows.as_of_date') }}
            and user_versions.valid_to >= {{ utc_midnight('windows.as_of_date') }}

),

-- the newest device first seen before the as-of date
device_as_of as (

    select distinct on (windows.user_id, windows.as_of_date)
        windows.user_id,
        windows.as_of_date,
        devices.os,
        devices.is_mobile
    from windows
    inner join devices
        on
            windows.user_id = devices.user_id
            and coalesce(devices.first_seen_at, '-infinity'::timestamptz)
            < {{ utc_midnight('windows.as_of_date') }}
    order by
        windows.user_id asc,
        windows.as_of_date asc,
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
        windows.purchases_lifetime::integer as purchases_lifetime,
        windows.purchase_days_lifetime::integer as purchase_days_lifetime,
        windows.purchase_revenue_lifetime::numeric as revenue_lifetime,
        (windows.as_of_date - windows.first_purchase_date)::integer as days_since_first_purchase,
        (windows.as_of_date - windows.last_purchase_date)::integer as days_since_last_purchase,
        case
            when windows.purchase_days_lifetime >= 2
                then round(
                    (windows.last_purchase_date - windows.first_purchase_date)::numeric
                    / (windows.purchase_days_lifetime - 1),
                    6
                )
        end as avg_days_between_purchases,
        round(
            windows.purchases_lifetime * 30.0
            / greatest(windows.as_of_date - users.known_since_date, 1),
            6
        ) as purchases_per_30d,
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
            and windows.as_of_date = top_categories.as_of_date

)

select * from features
-- stored day by day: readers and incremental runs take whole as-of dates
order by as_of_date, user_id
