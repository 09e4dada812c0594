{%- set default_horizon = var('label_horizon_days') | int %}
-- One row per (coupon_campaign_id, user_id) of every coupon campaign whose outcome window
-- [offer_date, offer_date + horizon_days) is fully loaded: the randomised arm (treatment,
-- coupon_value, 0 for control), the user's features as of offer_date (same columns as
-- fct_user_features_daily, so the uplift model scores with the propensity feature code), and
-- the outcome: a purchase (order not cancelled) in the window, its revenue, and whether the
-- user's coupon was redeemed in the window.
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

features as (

    select * from {{ ref('fct_user_features_daily') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

offers as (

    select
        assignments.coupon_campaign_id,
        assignments.user_id,
        assignments.is_treated,
        assignments.coupon_value,
        assignments.coupon_id,
        campaigns.offer_date,
        coalesce(campaigns.horizon_days, {{ default_horizon }}) as horizon_days
    from assignments
    inner join campaigns
        on assignments.coupon_campaign_id = campaigns.coupon_campaign_id
    cross join calendar
    where
        campaigns.offer_date + coalesce(campaigns.horizon_days, {{ default_horizon }})
        <= calendar.last_data_day + 1

),

-- running totals on the days that open and close each outcome window
accumulated as (

    select *
    from {{ ref('int_user_days_accumulated') }}
    where
        activity_date in (
            select offers.offer_date - 1 from offers
            union
            select offers.offer_date + offers.horizon_days - 1 from offers
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
    offers.horizon_days::integer as horizon_days
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
