{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id'], 'unique': true},
            {'columns': ['user_id', 'activity_date']},
            {'columns': ['refreshed_by_invocation', 'activity_date']},
        ],
    )
}}
{%- set counts = user_day_count_measures() + ['purchase_days'] %}
{%- set amounts = user_day_amount_measures() %}
-- One row per (user_id, activity_date) on which the user has activity (the rows of
-- int_user_days_aggregated): running totals `cum_<measure>` of every daily measure up to and
-- including that day, and the first purchase and last event, order and purchase day so far.
-- The totals up to any day d are those of the user's latest row on or before d; running totals
-- never decrease, so they are also the maximum over the user's rows up to d, which is how the
-- as-of-date marts read them (window frames, no join per day).
with

calendar as (

    select min(first_data_day) as first_data_day
    from {{ ref('int_calendar_days_spined') }}

),

rebuild_window as (

    {%- if is_incremental() %}
    select
        coalesce(
            least(
                {{ earliest_day_loaded_since_watermark(ref('int_user_days_aggregated')) }},
                {{ lookback_start_day('activity_date') }}
            ),
            calendar.first_data_day
        ) as rebuild_from
    from calendar
    {%- else %}
    select calendar.first_data_day as rebuild_from
    from calendar
    {%- endif %}

),

user_days as (

    select
        *,
        case when purchases > 0 then 1 else 0 end as purchase_days
    from {{ ref('int_user_days_aggregated') }}
    where activity_date >= (select rebuild_window.rebuild_from from rebuild_window)

),

-- each rebuilt user's totals on their last active day before the rebuilt days (none on a
-- full build): one index probe per user, not a scan of the history
carried as (

    {%- if is_incremental() %}
    select built.*
    from (select distinct user_days.user_id from user_days) as rebuilt_users
    inner join lateral (
        select older.*
        from {{ this }} as older
        where
            older.user_id = rebuilt_users.user_id
            and older.activity_date < (select rebuild_window.rebuild_from from rebuild_window)
        order by older.activity_date desc
        limit 1
    ) as built on true
    {%- else %}
    select
        {%- for measure in counts %}
        0::bigint as cum_{{ measure }},
        {%- endfor %}
        {%- for measure in amounts %}
        0::numeric as cum_{{ measure }},
        {%- endfor %}
        null::text as user_id,
        null::date as first_purchase_date,
        null::date as last_event_date,
        null::date as last_order_date,
        null::date as last_purchase_date
    where false
    {%- endif %}

),

running as (

    select
        user_id,
        activity_date,
        {%- for measure in counts + amounts %}
        sum({{ measure }}) over running_window as {{ measure }}_running,
        {%- endfor %}
        min(last_purchase_date) over running_window as first_purchase_date_running,
        max(last_event_date) over running_window as last_event_date_running,
        max(last_order_date) over running_window as last_order_date_running,
        max(last_purchase_date) over running_window as last_purchase_date_running,
        source_loaded_at
    from user_days
    window running_window as (
        partition by user_id
        order by activity_date
        rows between unbounded preceding and current row
    )

)

select
    running.user_id,
    running.activity_date,
    {%- for measure in counts %}
    (coalesce(carried.cum_{{ measure }}, 0) + running.{{ measure }}_running)::bigint
        as cum_{{ measure }},
    {%- endfor %}
    {%- for measure in amounts %}
    (coalesce(carried.cum_{{ measure }}, 0) + running.{{ measure }}_running)::numeric
        as cum_{{ measure }},
    {%- endfor %}
    coalesce(carried.first_purchase_date, running.first_purchase_date_running)
        as first_purchase_date,
    coalesce(running.last_event_date_running, carried.last_event_date) as last_event_date,
    coalesce(running.last_order_date_running, carried.last_order_date) as last_order_date,
    coalesce(
        running.last_purchase_date_running, carried.last_purchase_date
    ) as last_purchase_date,
    running.source_loaded_at,
    '{{ invocation_id }}'::text as refreshed_by_invocation
from running
left join carried
    on running.user_id = carried.user_id
-- stored day by day: incremental runs read whole days
order by running.activity_date, running.user_id
