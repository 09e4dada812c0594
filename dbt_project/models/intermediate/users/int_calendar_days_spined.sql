-- One row per calendar day from the first data day to the last data day + 1: the as-of dates
-- of the feature marts, with the bounds of the loaded data.
with

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}

),

bounds as (

    select
        min(activity_date) as first_data_day,
        max(activity_date) as last_data_day
    from user_days

),

spine as (

    select
        bounds.first_data_day,
        bounds.last_data_day,
        bounds.first_data_day + day_offset as calendar_date
    from bounds
    cross join
        generate_series(0, bounds.last_data_day - bounds.first_data_day + 1) as day_offset

)

select
    calendar_date,
    first_data_day,
    last_data_day,
    calendar_date <= last_data_day as is_data_day
from spine
