-- The feature mart has rows for every as-of date from its first to its last (no gaps).
with

as_of_dates as (

    select distinct as_of_date from {{ ref('fct_user_features_daily') }}

),

bounds as (

    select
        min(as_of_date) as first_as_of_date,
        max(as_of_date) as last_as_of_date
    from as_of_dates

),

expected as (

    select bounds.first_as_of_date + day_offset as as_of_date
    from bounds
    cross join
        generate_series(0, bounds.last_as_of_date - bounds.first_as_of_date) as day_offset

)

select expected.as_of_date
from expected
left join as_of_dates
    on expected.as_of_date = as_of_dates.as_of_date
where as_of_dates.as_of_date is null
