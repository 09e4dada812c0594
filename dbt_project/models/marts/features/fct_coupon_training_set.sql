{{
    config(
        materialized='incremental',
        unique_key=['coupon_campaign_id', 'user_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['coupon_campaign_id', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
{%- set default_horizon = var('label_horizon_days') | int %}
-- One row per (coupon_campaign_id, user_id) of every coupon campaign whose outcome window
-- [offer_date, offer_date + horizon_days) is fully loaded: the randomised arm (treatment,
-- coupon_value, 0 for control), the user's features as of offer_date (same columns as
-- fct_user_features_daily, so the uplift model scores with the propensity feature code), and
-- the outcome: a purchase (order not cancelled) in the window, its revenue, and whether the
-- user's coupon was redeemed in the window.
-- Incremental runs rebuild whole campaigns: those not here yet, those whose window reaches a
-- day int_user_days_accumulated rebuilt for all users in the same invocation (else the last
-- `lookback_days`), and those with assignment or campaign rows loaded since this model's
-- watermark; and every offer to a user it started from the span start.
with

assignments as (

    select * from {{ ref('stg_coupon_assignments__coupon_assignments') }}

),

campaigns as (

    select * from {{ ref('stg_coupon_campaigns__coupon_campaigns') }}

),

redemptions as (

    select * from {{ ref('stg_coupon_redemptions__coupon_redemptions') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

complete_campaigns as (

    select
        campaigns.coupon_campaign_id,
        campaigns.offer_date,
        coalesce(campaigns.horizon_days, {{ default_horizon }}) as horizon_days,
        campaigns.loaded_at
    from campaigns
    cross join calendar
    where
        campaigns.offer_date + coalesce(campaigns.horizon_days, {{ default_horizon }})
        <= calendar.last_data_day + 1

),

rebuilt_campaigns as (

    select complete_campaigns.*
    from complete_campaigns
    {%- if is_incremental() %}
    {%- set loaded_since = loaded_since_cutoff('source_loaded_at') %}
    where
        not exists (
            select
            from {{ this }} as built
            where built.coupon_campaign_id = complete_campaigns.coupon_campaign_id
        )
        or complete_campaigns.offer_date + complete_campaigns.horizon_days - 1 >= coalesce(
            {{ first_day_rebuilt_for_continued_users() }},
            (select calendar.last_data_day from calendar) - {{ var('lookback_days') }}
        )
        or complete_campaigns.loaded_at >= {{ loaded_since }}
        or complete_campaigns.coupon_campaign_id in (
            select changed.coupon_campaign_id
            from assignments as changed
            where changed.loaded_at >= {{ loaded_since }}
        )
    {%- endif %}

),

-- users whose features changed on every day: their offers in the other campaigns are rebuilt too
started_users as (

    {{ users_started_by_invocation() }}

),

offers as (

    select
        assignments.coupon_campaign_id,
        assignments.user_id,
        assignments.is_treated,
        assignments.coupon_value,
        assignments.coupon_id,
        complete_campaigns.offer_date,
        complete_campaigns.horizon_days,
        greatest(assignments.loaded_at, complete_campaigns.loaded_at) as source_loaded_at,
        rebuilt_campaigns.coupon_campaign_id is not null as is_campaign_rebuilt
    from assignments
    inner join complete_campaigns
        on assignments.coupon_campaign_id = complete_campaigns.coupon_campaign_id
    left join rebuilt_campaigns
        on assignments.coupon_campaign_id = rebuilt_campaigns.coupon_campaign_id
    where
        rebuilt_campaigns.coupon_campaign_id is not null
        or assignments.user_id in (select started_users.user_id from started_users)

),

-- the days each offer reads: every user's on the days of the rebuilt campaigns, one user's on
-- the days of a started user's other offers (arrays and pairs, so the (day, user_id) indexes
-- find the rows)
offer_days as (

    select
        offers.user_id,
        offers.offer_date,
        offers.offer_date - 1 as window_open_date,
        offers.offer_date + offers.horizon_days - 1 as window_close_date,
        offers.is_campaign_rebuilt
    from offers

),

-- the days every user is read on (the rebuilt campaigns') and the other (day, user) pairs
rebuilt_days as (

    select
        array_agg(distinct offer_days.offer_date) as offer_dates,
        array_agg(distinct offer_days.window_open_date)
        || array_agg(distinct offer_days.window_close_date) as window_dates
    from offer_days
    where offer_days.is_campaign_rebuilt

),

one_user_offers as (

    select offer_days.*
    from offer_days
    where not offer_days.is_campaign_rebuilt

),

features as (

    select *
    from {{ ref('fct_user_features_daily') }}
    where as_of_date = any((select rebuilt_days.offer_dates from rebuilt_days)::date[])
    union all
    select *
    from {{ ref('fct_user_features_daily') }}
    where
        (as_of_date, user_id) in (
            select
                one_user_offers.offer_date,
                one_user_offers.user_id
            from one_user_offers
        )
        and not coalesce(
            as_of_date = any((select rebuilt_days.offer_dates from rebuilt_days)::date[]),
            false
        )

),

-- running totals on the days that open and close each outcome window
accumulated as (

    select *
    from {{ ref('int_user_days_accumulated') }}
    where activity_date = any((select rebuilt_days.window_dates from rebuilt_days)::date[])
    union all
    select *
    from {{ ref('int_user_days_accumulated') }}
    where
        (activity_date, user_id) in (
            select
                window_day.window_date,
                one_user_offers.user_id
            from one_user_offers
            cross join lateral unnest(
                array[one_user_offers.window_open_date, one_user_offers.window_close_date]
            ) as window_day (window_date)
        )
        and not coalesce(
            activity_date = any((select rebuilt_days.window_dates from rebuilt_days)::date[]),
            false
        )

),

outcomes as (

    select
        offers.coupon_campaign_id,
        offers.user_id,
        coalesce(window_close.cum_purchases, 0) - coalesce(window_open.cum_purchases, 0)
            as purchases_in_horizon,
        coalesce(window_close.cum_purchase_revenue, 0)
        - coalesce(window_open.cum_purchase_revenue, 0) as revenue_in_horizon
    from offers
    left join accumulated as window_open
        on
            offers.user_id = window_open.user_id
            and window_open.activity_date = offers.offer_date - 1
    left join accumulated as window_close
        on
            offers.user_id = window_close.user_id
            and window_close.activity_date = offers.offer_date + offers.horizon_days - 1

),

redeemed as (

    select distinct
        offers.coupon_campaign_id,
        offers.user_id
    from offers
    inner join redemptions
        on
            offers.coupon_id = redemptions.coupon_id
            and redemptions.redeemed_at >= {{ utc_midnight('offers.offer_date') }}
            and redemptions.redeemed_at
            < {{ utc_midnight('offers.offer_date + offers.horizon_days') }}

)

select
    offers.coupon_campaign_id,
    offers.user_id,
    offers.offer_date,
    offers.is_treated::integer as treatment,
    (case when offers.is_treated then offers.coupon_value else 0 end)::numeric as coupon_value,
    {%- for column in user_feature_columns() %}
    features.{{ column }},
    {%- endfor %}
    (outcomes.purchases_in_horizon > 0)::integer as converted_in_horizon,
    outcomes.revenue_in_horizon::numeric as revenue_in_horizon,
    (redeemed.user_id is not null)::integer as redeemed,
    offers.horizon_days::integer as horizon_days,
    offers.source_loaded_at
from offers
inner join outcomes
    on
        offers.coupon_campaign_id = outcomes.coupon_campaign_id
        and offers.user_id = outcomes.user_id
left join features
    on
        offers.user_id = features.user_id
        and offers.offer_date = features.as_of_date
left join redeemed
    on
        offers.coupon_campaign_id = redeemed.coupon_campaign_id
        and offers.user_id = redeemed.user_id
