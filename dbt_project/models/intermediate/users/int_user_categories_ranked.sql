{{
    config(
        materialized='incremental',
        unique_key=['user_id', 'activity_date'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['activity_date', 'user_id'], 'unique': true},
            {'columns': ['source_loaded_at']},
        ],
    )
}}
-- One row per (user_id, activity_date) where the user interacted with items in the 90 days
-- ending that day (d - 89 .. d): the top category, its share of the interactions and the
-- number of distinct categories. Ties go to the alphabetically first category.
-- Incremental runs recompute every day from the first day whose window has new rows.
with

category_days as (

    select * from {{ ref('int_user_category_days_aggregated') }}

),

calendar as (

    select
        min(first_data_day) as first_data_day,
        min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

target_days as (

    select calendar.first_data_day + day_offset as activity_date
    from calendar
    cross join
        generate_series(0, calendar.last_data_day - calendar.first_data_day) as day_offset
    {%- if is_incremental() %}
    where
        calendar.first_data_day + day_offset >= (
            select
                least(
                    (
                        select min(activity_date) from category_days
                        where
                            source_loaded_at
                            >= {{ loaded_since_cutoff('source_loaded_at') }}
                    ),
                    {{ lookback_start_day('activity_date') }}
                )
        )
    {%- endif %}

),

windowed as (

    select
        category_days.user_id,
        target_days.activity_date,
        category_days.category,
        sum(category_days.interactions) as interactions,
        max(category_days.source_loaded_at) as source_loaded_at
    from target_days
    inner join category_days
        on
            category_days.activity_date between target_days.activity_date - 89
            and target_days.activity_date
    group by category_days.user_id, target_days.activity_date, category_days.category

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
