{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
            {'columns': ['refreshed_by_invocation', 'activity_date']},
        ],
        pre_hook="{{ forget_users_whose_span_start_moved() }}",
    )
}}
{%- set counts = user_day_count_measures() %}
{%- set amounts = user_day_amount_measures() %}
-- One row per (user_id, activity_date) for every day of the user's span, from the day the user
-- is first known (at the earliest the first data day) to the last data day: running totals
-- `cum_<measure>` of every daily measure up to and including that day, and the last event,
-- order and purchase day so far.
-- A w-day window ending on day d is then cum(d) - cum(d - w), whatever the day.
with

users as (

    select * from {{ ref('int_users_unioned') }}

),

calendar as (

    select
        min(first_data_day) as first_data_day,
        min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

{% if is_incremental() -%}
rebuild_window as (

    select
        coalesce(
            least(
                {{ earliest_day_loaded_since_watermark(ref('int_user_days_aggregated')) }},
                {{ lookback_start_day('activity_date') }}
            ),
            (select calendar.first_data_day from calendar)
        ) as rebuild_from

),

-- running totals up to the day before the rebuilt days (users whose span start moved were
-- deleted by the pre-hook, so they start again like new users)
carried as (

    select * from {{ this }}
    where activity_date = (select rebuild_window.rebuild_from - 1 from rebuild_window)

),
{%- else %}
rebuild_window as (

    select calendar.first_data_day as rebuild_from
    from calendar

),

-- a full build starts every running total at 0
carried as (

    select
        {%- for measure in counts %}
        0::bigint as cum_{{ measure }},
        {%- endfor %}
        {%- for measure in amounts %}
        0::numeric as cum_{{ measure }},
        {%- endfor %}
        null::text as user_id,
        null::date as span_start_date,
        null::date as last_event_date,
        null::date as last_order_date,
        null::date as last_purchase_date
    where false

),
{%- endif %}

user_spans as (

    select
        users.user_id,
        calendar.last_data_day,
        {{ span_start_date('users.known_since_date', 'calendar.first_data_day') }}
            as span_start_date,
        -- users already built continue from the rebuilt days, the others start when known
        case
            when carried.user_id is not null
                then (select rebuild_window.rebuild_from from rebuild_window)
            else {{ span_start_date('users.known_since_date', 'calendar.first_data_day') }}
        end as first_day
    from users
    cross join calendar
    left join carried
        on users.user_id = carried.user_id

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}
    where activity_date >= (select rebuild_window.rebuild_from from rebuild_window)
    {%- if any_span_start_moved() %}

    union all

    -- the earlier days of the users who start again
    select * from {{ ref('int_user_days_aggregated') }}
    where
        activity_date < (select rebuild_window.rebuild_from from rebuild_window)
        and user_id in (
            select user_spans.user_id
            from user_spans
            where user_spans.first_day < (select rebuild_window.rebuild_from from rebuild_window)
        )
    {%- endif %}

),

spine as (

    select
        user_spans.user_id,
        user_spans.first_day + day_offset as activity_date
    from user_spans
    cross join
        lateral generate_series(0, user_spans.last_data_day - user_spans.first_day) as day_offset

),

daily as (

    select
        spine.user_id,
        spine.activity_date,
        {%- for measure in counts + amounts %}
        coalesce(user_days.{{ measure }}, 0) as {{ measure }},
        {%- endfor %}
        user_days.last_event_date,
        user_days.last_order_date,
        user_days.last_purchase_date,
        user_days.source_loaded_at
    from spine
    left join user_days
        on
            spine.user_id = user_days.user_id
            and spine.activity_date = user_days.activity_date

),

running as (

    select
        user_id,
        activity_date,
        {%- for measure in counts + amounts %}
        sum({{ measure }}) over running_window as {{ measure }}_running,
        {%- endfor %}
        max(last_event_date) over running_window as last_event_date_running,
        max(last_order_date) over running_window as last_order_date_running,
        max(last_purchase_date) over running_window as last_purchase_date_running,
        source_loaded_at
    from daily
    window running_window as (
        partition by user_id
        order by activity_date
        rows between unbounded preceding and current row
    )

)

select
    running.user_id,
    running.activity_date,
    user_spans.span_start_date,
    {%- for measure in counts %}
    (coalesce(carried.cum_{{ measure }}, 0) + running.{{ measure }}_running)::bigint
        as cum_{{ measure }},
    {%- endfor %}
    {%- for measure in amounts %}
    (coalesce(carried.cum_{{ measure }}, 0) + running.{{ measure }}_running)::numeric
        as cum_{{ measure }},
    {%- endfor %}
    coalesce(running.last_event_date_running, carried.last_event_date) as last_event_date,
    coalesce(running.last_order_date_running, carried.last_order_date) as last_order_date,
    coalesce(
        running.last_purchase_date_running, carried.last_purchase_date
    ) as last_purchase_date,
    running.source_loaded_at,
    '{{ invocation_id }}'::text as refreshed_by_invocation
from running
inner join user_spans
    on running.user_id = user_spans.user_id
left join carried
    on running.user_id = carried.user_id
-- stored day by day: incremental runs and the feature marts read whole days
order by running.activity_date, running.user_id
