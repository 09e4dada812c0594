-- One row per as-of date the feature and label marts hold: why it is there (training grid,
-- scoring day, coupon offer) and how many users have a feature row on it.
with

planned as (

    select * from {{ ref('int_as_of_dates_planned') }}

),

features as (

    select * from {{ ref('fct_user_features_daily') }}

),

users_per_date as (

    select
        as_of_date,
        count(*) as users
    from features
    group by as_of_date

)

select
    planned.as_of_date,
    planned.is_grid_date,
    planned.is_latest,
    planned.is_coupon_offer_date,
    coalesce(users_per_date.users, 0)::integer as users
from planned
left join users_per_date
    on planned.as_of_date = users_per_date.as_of_date
order by planned.as_of_date
