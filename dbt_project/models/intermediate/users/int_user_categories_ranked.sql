{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        meta={'incremental_tests': {'day_column': 'as_of_date'}},
        indexes=[
            {'columns': ['as_of_date', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
        pre_hook="{{ forget_unplanned_rows(per_user=false) }}",
    )
}}
-- One row per (user_id, as_of_date) of the planned as-of dates where the user interacted with
-- items in the 90 days before as_of_date (A - 90 .. A - 1): the top category, its share of the
-- interactions and the number of distinct categories. Ties go to the alphabetically first
-- category. Each (user, category) pair is evaluated only on the as-of dates its 90-day window
-- can reach, with a 90-day range window over its daily rows (no join of days against days).
-- Incremental runs rebuild the as-of dates from the day after the first day with newly loaded
-- rows (or the look-back), and the planned dates not built yet.
with

rebuild_window as (

    {%- if is_incremental() %}
    select
        coalesce(
            least(
                {{ earliest_day_loaded_since_watermark(ref('int_user_category_days_aggregated')) }}
                + 1,
                {{ lookback_start_day('as_of_date') }}
            ),
            '-infinity'::date
        ) as first_as_of_date
    {%- else %}
    select '-infinity'::date as first_as_of_date
    {%- endif %}

),

dates_to_build as (

    {{ as_of_dates_to_build() }}

),

category_days as (

    select category_days.*
    from {{ ref('int_user_category_days_aggregated') }} as category_days
    where
        category_days.activity_date
        between (select min(dates_to_build.as_of_date) - 90 from dates_to_build)
        and (select max(dates_to_build.as_of_date) - 1 from dates_to_build)

),

-- the first and last day of each pair's interactions
category_spans as (

    select
        user_id,
        category,
        min(activity_date) as first_day,
        max(activity_date) as last_day
    from category_days
    group by user_id, category

),

-- the pair's daily rows, and a point on every as-of date its 90-day window can reach
points as (

    select
        user_id,
        category,
        activity_date,
        interactions,
        source_loaded_at,
        false as is_as_of_date
    from category_days

    union all

    select
        category_spans.user_id,
        category_spans.category,
        dates_to_build.as_of_date as activity_date,
        0 as interactions,
        null::timestamptz as source_loaded_at,
        true as is_as_of_date
    from category_spans
    inner join dates_to_build
        on
            dates_to_build.as_of_date
            between category_spans.first_day + 1 and category_spans.last_day + 90

),

windowed as (

    select
        user_id,
        category,
        activity_date as as_of_date,
        is_as_of_date,
        sum(interactions) over last_90_days as interactions,
        max(source_loaded_at) over last_90_days as source_loaded_at
    from points
    window last_90_days as (
        partition by user_id, category
        order by activity_date
        range between interval '90 days' preceding and interval '1 day' preceding
    )

),

ranked as (

    select
        *,
        sum(interactions) over user_as_of as user_interactions,
        count(*) over user_as_of as distinct_categories,
        max(source_loaded_at) over user_as_of as user_loaded_at,
        row_number() over (
            partition by user_id, as_of_date
            order by interactions desc, category asc
        ) as category_rank
    from windowed
    where is_as_of_date and interactions > 0
    window user_as_of as (partition by user_id, as_of_date)

)

select
    user_id,
    as_of_date,
    category as top_category_90d,
    round(interactions::numeric / user_interactions, 6) as top_category_share_90d,
    distinct_categories::integer as distinct_categories_90d,
    user_loaded_at as source_loaded_at
from ranked
where category_rank = 1
order by as_of_date, user_id
