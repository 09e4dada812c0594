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
{%- set horizon = var('label_horizon_days') | int %}
-- One row per (user_id, as_of_date), the same population as fct_user_features_daily (the
-- planned as-of dates, the users known before them): did the user place a purchase (an order
-- not cancelled) with as_of_date <= order_ts < as_of_date + H days, and for how much. A label
-- is mature once all H days of its window are loaded. The totals come from the running totals
-- of int_user_days_accumulated up to A - 1 and up to A + H - 1 (or the last loaded day): on a
-- full build read as maxima over window frames, on an incremental one by index.
-- Incremental runs build the planned dates whose window reaches the first day the accumulated
-- model rebuilt (or the look-back), the planned dates not built yet, and every date of the
-- users int_users_tracked started; a changed horizon rebuilds every date.
-- depends_on: {{ ref('int_users_tracked') }}
with

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

rebuild_window as (

    {%- if is_incremental() %}
    select
        coalesce(
            -- a changed day d moves the labels of as-of dates d - H + 1 .. d; a changed horizon
            -- rebuilds every as-of date
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
                            {{ first_day_rebuilt() }} - {{ horizon - 1 }},
                            {{ lookback_start_day('as_of_date') }} - {{ horizon }}
                        )
            end,
            '-infinity'::date
        ) as first_as_of_date
    {%- else %}
    select '-infinity'::date as first_as_of_date
    {%- endif %}

),

dates_to_build as (

    {{ as_of_dates_to_build() }}

),

population as (

    {{ as_of_population() }}

),

{%- if is_incremental() %}

-- an incremental run builds few as-of dates: the totals up to A - 1 and up to A + H - 1 are
-- read from the user's latest active day on or before each (one index probe each)
framed as (

    select
        population.user_id,
        population.as_of_date,
        true as is_as_of_date,
        opening.cum_purchases as opening_purchases,
        opening.cum_purchase_revenue as opening_purchase_revenue,
        closing.cum_purchases as closing_purchases,
        closing.cum_purchase_revenue as closing_purchase_revenue
    from population
    left join lateral (
        {{ accumulated_as_of(
            'population.user_id', 'population.as_of_date - 1', ['purchases', 'purchase_revenue']
        ) }}
    ) as opening on true
    left join lateral (
        {{ accumulated_as_of(
            'population.user_id',
            'population.as_of_date + ' ~ (horizon - 1),
            ['purchases', 'purchase_revenue'],
        ) }}
    ) as closing on true

),

{%- else %}

-- a full build reads every planned date at once: one sort of the users' active days and the
-- as-of points, each total the maximum over a window frame
read_window as (

    select min(as_of_date) - 1 as read_from
    from population

),

accumulated as (

    select * from {{ ref('int_user_days_accumulated') }}

),

-- each user's latest active day before the label windows: it carries the older totals
carried_days as (

    select distinct on (accumulated.user_id) accumulated.*
    from accumulated
    cross join read_window
    where accumulated.activity_date < read_window.read_from
    order by accumulated.user_id asc, accumulated.activity_date desc

),

points as (

    select
        accumulated.user_id,
        accumulated.activity_date as point_date,
        false as is_as_of_date,
        accumulated.cum_purchases,
        accumulated.cum_purchase_revenue
    from accumulated
    cross join read_window
    where accumulated.activity_date >= read_window.read_from

    union all

    select
        carried_days.user_id,
        carried_days.activity_date as point_date,
        false as is_as_of_date,
        carried_days.cum_purchases,
        carried_days.cum_purchase_revenue
    from carried_days

    union all

    select
        population.user_id,
        population.as_of_date as point_date,
        true as is_as_of_date,
        null as cum_purchases,
        null as cum_purchase_revenue
    from population

),

-- on each as-of point: the totals up to A - 1 (window opening) and up to A + H - 1
framed as (

    select
        user_id,
        point_date as as_of_date,
        is_as_of_date,
        max(cum_purchases) over before_the_window as opening_purchases,
        max(cum_purchase_revenue) over before_the_window as opening_purchase_revenue,
        max(cum_purchases) over through_the_window as closing_purchases,
        max(cum_purchase_revenue) over through_the_window as closing_purchase_revenue
    from points
    window
        by_user as (partition by user_id order by point_date),
        before_the_window as (
            by_user range between unbounded preceding and interval '1 day' preceding
        ),
        through_the_window as (
            by_user range between unbounded preceding
            and interval '{{ horizon - 1 }} days' following
        )

),

{%- endif %}

labels as (

    select
        framed.user_id,
        framed.as_of_date,
        {{ horizon }}::integer as label_horizon_days,
        (
            coalesce(framed.closing_purchases, 0) > coalesce(framed.opening_purchases, 0)
        )::integer as purchased_in_horizon,
        (
            coalesce(framed.closing_purchase_revenue, 0)
            - coalesce(framed.opening_purchase_revenue, 0)
        )::numeric as revenue_in_horizon,
        framed.as_of_date + {{ horizon }} as label_window_end,
        framed.as_of_date + {{ horizon }} <= calendar.last_data_day + 1 as is_label_mature
    from framed
    cross join calendar
    where framed.is_as_of_date

)

select * from labels
-- stored day by day: readers and incremental runs take whole as-of dates
order by as_of_date, user_id
