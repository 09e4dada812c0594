{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'activity_date'}},
        indexes=[
            {'columns': ['activity_date', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (user_id, activity_date) where the user interacted with items in the 90 days
-- ending that day (d - 89 .. d): the top category, its share of the interactions and the
-- number of distinct categories. Ties go to the alphabetically first category.
-- Each (user, category) pair is evaluated on every day its 90-day total can be non-zero, with
-- a 90-day range window over its daily rows (no join of days against days). Incremental runs
-- recompute every day from the first day whose window has newly loaded rows.
with

calendar as (

    select
        min(first_data_day) as first_data_day,
        min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

rebuild_window as (

    select
        {%- if is_incremental() %}
        coalesce(
            least(
                {{ earliest_day_loaded_since_watermark(ref('int_user_category_days_aggregated')) }},
                {{ lookback_start_day('activity_date') }}
            ),
            calendar.first_data_day
        ) as rebuild_from,
        {%- else %}
        calendar.first_data_day as rebuild_from,
        {%- endif %}
        calendar.last_data_day
    from calendar

),

category_days as (

    select category_days.*
    from {{ ref('int_user_category_days_aggregated') }} as category_days
    cross join rebuild_window
    where category_days.activity_date >= rebuild_window.rebuild_from - 89

),

-- the days on which a pair's 90-day window can hold interactions, within the rebuilt days
category_spans as (

    select
        category_days.user_id,
        category_days.category,
        greatest(min(category_days.activity_date), rebuild_window.rebuild_from) as first_day,
        least(max(category_days.activity_date) + 89, rebuild_window.last_data_day) as last_day
    from category_days
    cross join rebuild_window
    group by
        category_days.user_id,
        category_days.category,
        rebuild_window.rebuild_from,
        rebuild_window.last_data_day

),

points as (

    select
        user_id,
        category,
        activity_date,
        interactions,
        source_loaded_at,
        false as is_evaluated
    from category_days

    union all

    select
        category_spans.user_id,
        category_spans.category,
        category_spans.first_day + day_offset as activity_date,
        0 as interactions,
        null::timestamptz as source_loaded_at,
        true as is_evaluated
    from category_spans
    cross join
        lateral generate_series(0, category_spans.last_day - category_spans.first_day)
            as day_offset

),

windowed as (

    select
        user_id,
        category,
        activity_date,
        is_evaluated,
        sum(interactions) over last_90_days as interactions,
        max(source_loaded_at) over last_90_days as source_loaded_at
    from points
    window last_90_days as (
        partition by user_id, category
        order by activity_date
        range between interval '89 days' preceding and current row
    )

),

ranked as (

    select
        *,
        sum(interactions) over user_day as user_day_interactions,
        count(*) over user_day as distinct_categories,
        max(source_loaded_at) over user_day as user_day_loaded_at,
        row_number() over (
            partition by user_id, activity_date
            order by interactions desc, category asc
        ) as category_rank
    from windowed
    where is_evaluated and interactions > 0
    window user_day as (partition by user_id, activity_date)

)

select
    user_id,
    activity_date,
    category as top_category_90d,
    round(interactions::numeric / user_day_interactions, 6) as top_category_share_90d,
    distinct_categories::integer as distinct_categories_90d,
    user_day_loaded_at as source_loaded_at
from ranked
where category_rank = 1
order by activity_date, user_id
