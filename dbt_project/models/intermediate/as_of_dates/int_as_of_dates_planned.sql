{%- set spacing = var('as_of_spacing_days') | int %}
{%- set history = var('as_of_history_days') | int %}
-- One row per as-of date the feature and label marts hold: the training grid (every
-- `as_of_spacing_days`-th day counted from 1970-01-01, within `as_of_history_days` before the
-- last data day), the scoring day (the day after the last data day) and the offer date of every
-- coupon campaign. Nothing else is computed: feature rows cost what the models use.
with

calendar as (

    select
        min(first_data_day) as first_data_day,
        min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

campaigns as (

    select * from {{ ref('stg_coupon_campaigns__coupon_campaigns') }}

),

bounds as (

    select
        {{ earliest_as_of_date('calendar.first_data_day') }} as earliest_as_of_date,
        calendar.last_data_day + 1 as latest_as_of_date
    from calendar

),

grid_window as (

    select
        greatest(
            bounds.earliest_as_of_date, bounds.latest_as_of_date - {{ history }}
        ) as first_grid_day,
        bounds.latest_as_of_date as last_grid_day
    from bounds

),

grid as (

    select
        grid_window.first_grid_day + day_offset as as_of_date,
        'grid' as reason
    from grid_window
    cross join
        generate_series(0, grid_window.last_grid_day - grid_window.first_grid_day) as day_offset
    where (grid_window.first_grid_day + day_offset - date '1970-01-01') % {{ spacing }} = 0

),

latest as (

    select
        bounds.latest_as_of_date as as_of_date,
        'latest' as reason
    from bounds

),

offers as (

    select distinct
        campaigns.offer_date as as_of_date,
        'coupon_offer' as reason
    from campaigns
    cross join bounds
    where campaigns.offer_date between bounds.earliest_as_of_date and bounds.latest_as_of_date

),

reasons as (

    select * from grid
    union all
    select * from latest
    union all
    select * from offers

)

select
    as_of_date,
    bool_or(reason = 'grid') as is_grid_date,
    bool_or(reason = 'latest') as is_latest,
    bool_or(reason = 'coupon_offer') as is_coupon_offer_date
from reasons
where as_of_date is not null
group by as_of_date
order by as_of_date
