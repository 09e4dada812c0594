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
-- day int_user_days_accumulated rebuilt in the same invocation (else the last
-- `lookback_days`), and those with assignment or campaign rows loaded since this model's
-- watermark; and every offer to a user int_users_tracked started (new or restarted).
-- depends_on: {{ ref('int_users_tracked') }}
-- depends_on: {{ ref('int_user_days_accumulated') }}
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
            {{ first_day_rebuilt() }},
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

-- the as-of dates every user is read on (the rebuilt campaigns'); the other (date, user)
-- pairs are a started user's other offers (arrays and pairs, so the (as_of_date, user_id)
-- index finds the rows)
rebuilt_offer_dates as (

    select array_agg(distinct offers.offer_date) as offer_dates
    from offers
    where offers.is_campaign_rebuilt

),

features as (

    select *
    from {{ ref('fct_user_features_daily') }}
    where
        as_of_date = any((select rebuilt_offer_dates.offer_dates from rebuilt_offer_dates)::date[])
    union all
    select *
    from {{ ref('fct_user_features_daily') }}
    where
        (as_of_date, user_id) in (
            select
                offers.offer_date,
                offers.user_id
            from offers
            where not offers.is_campaign_rebuilt
        )
        and not coalesce(
            as_of_date
            = any((select rebuilt_offer_dates.offer_dates from rebuilt_offer_dates)::date[]),
            false
        )

),

user_days as (

    select user_days.*
    from {{ ref('int_user_days_aggregated') }} as user_days
    where
        user_days.activity_date >= (select min(offers.offer_date) from offers)
        and user_days.activity_date
        < (select max(offers.offer_date + offers.horizon_days) from offers)

),

-- purchases (orders not cancelled) and their revenue in [offer_date, offer_date + horizon)
outcomes as (

    select
        offers.coupon_campaign_id,
        offers.user_id,
        coalesce(sum(user_days.purchases), 0) as purchases_in_horizon,
        coalesce(sum(user_days.purchase_revenue), 0) as revenue_in_horizon
    from offers
    left join user_days
        on
            offers.user_id = user_days.user_id
            and offers.offer_date <= user_days.activity_date
            and user_days.activity_date < offers.offer_date + offers.horizon_days
    group by offers.coupon_campaign_id, offers.user_id

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
