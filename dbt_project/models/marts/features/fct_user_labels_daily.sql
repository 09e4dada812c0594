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
{%- set horizon = var('label_horizon_days') | int %}
-- One row per (user_id, as_of_date), the same population as fct_user_features_daily: did the
-- user place a purchase (an order not cancelled) with as_of_date <= order_ts < as_of_date + H
-- days, and for how much. A label is mature once all H days of its window are loaded.
-- Incremental runs rebuild like fct_user_features_daily, H - 1 days further back.
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
        calendar.last_data_day
    from calendar

),

as_of_window as (

    select
        greatest(
            earliest_as_of.earliest_as_of_date
            {%- if is_incremental() %},
            -- a changed day d moves the labels of as-of dates d - H + 1 .. d; a changed
            -- horizon rebuilds every as-of date
            case
                when
                    (
                        select built.label_horizon_days
                        from {{ this }} as built
                        order by built.as_of_date desc
                        limit 1
                    )
                    = {{ horizon }}
                    then
                        least(
                            {{ first_day_rebuilt_for_continued_users() }} - {{ horizon - 1 }},
                            {{ lookback_start_day('as_of_date') }} - {{ horizon }}
                        )
            end
            {%- endif %}
        ) as first_as_of_date,
        earliest_as_of.earliest_as_of_date,
        earliest_as_of.last_data_day + 1 as last_as_of_date,
        earliest_as_of.last_data_day
    from earliest_as_of

),

-- users whose every as-of date is rebuilt
started_users as (

    {{ users_started_by_invocation() }}

),

-- running totals from the day before the first as-of date to build
accumulated as (

    select *
    from {{ ref('int_user_days_accumulated') }}
    where
        activity_date >= (select as_of_window.first_as_of_date - 1 from as_of_window)
        -- every row of a started user (all rebuilt by this invocation)
        or (
            refreshed_by_invocation = '{{ invocation_id }}'
            and user_id in (select started_users.user_id from started_users)
        )

),

-- running totals on the day before each as-of date (this also fixes the population)
window_openings as (

    select
        accumulated.user_id,
        accumulated.activity_date + 1 as as_of_date,
        accumulated.cum_purchases,
        accumulated.cum_purchase_revenue,
        least(accumulated.activity_date + {{ horizon }}, as_of_window.last_data_day)
            as window_close_date
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

-- running totals on the last day of each label window that is loaded
window_closings as (

    select
        accumulated.user_id,
        accumulated.activity_date,
        accumulated.cum_purchases,
        accumulated.cum_purchase_revenue
    from accumulated
    cross join as_of_window
    where
        accumulated.activity_date >= as_of_window.first_as_of_date - 1
        or accumulated.user_id in (select started_users.user_id from started_users)

),

labels as (

    select
        window_openings.user_id,
        window_openings.as_of_date,
        {{ horizon }}::integer as label_horizon_days,
        (window_closings.cum_purchases > window_openings.cum_purchases)::integer
            as purchased_in_horizon,
        (
            window_closings.cum_purchase_revenue - window_openings.cum_purchase_revenue
        )::numeric as revenue_in_horizon,
        window_openings.as_of_date + {{ horizon }} as label_window_end,
        window_openings.as_of_date + {{ horizon }} <= as_of_window.last_data_day + 1
            as is_label_mature
    from window_openings
    cross join as_of_window
    inner join window_closings
        on
            window_openings.user_id = window_closings.user_id
            and window_openings.window_close_date = window_closings.activity_date

)

select * from labels
-- stored day by day: readers and incremental runs take whole as-of dates
order by as_of_date, user_id
