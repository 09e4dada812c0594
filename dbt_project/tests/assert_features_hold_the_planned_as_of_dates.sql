-- The feature mart holds exactly the planned as-of dates (int_as_of_dates_planned) on which
-- some user was known: no date missing, no other date.
with

built_dates as (

    select distinct as_of_date from {{ ref('fct_user_features_daily') }}

),

planned_dates as (

    select planned.as_of_date
    from {{ ref('int_as_of_dates_planned') }} as planned
    where exists (
        select
        from {{ ref('dim_users') }} as users
        where users.known_since_date < planned.as_of_date
    )

)

select
    coalesce(planned_dates.as_of_date, built_dates.as_of_date) as as_of_date,
    planned_dates.as_of_date is null as is_unplanned,
    built_dates.as_of_date is null as is_missing
from planned_dates
full outer join built_dates
    on planned_dates.as_of_date = built_dates.as_of_date
where planned_dates.as_of_date is null or built_dates.as_of_date is null
