-- A feature row for as-of date A exists exactly when the user was known before A: none before,
-- and none missing from the first as-of date after the user became known.
with

features as (

    select * from {{ ref('fct_user_features_daily') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

calendar as (

    select
        min(calendar_date) + 1 as first_as_of_date,
        max(calendar_date) as last_as_of_date
    from {{ ref('int_calendar_days_spined') }}

),

expected_rows as (

    select
        users.user_id,
        greatest(
            0,
            calendar.last_as_of_date + 1 - greatest(
                users.known_since_date + 1,
                calendar.first_as_of_date
                {%- if var('feature_start_date') %},
                '{{ var("feature_start_date") }}'::date
                {%- endif %}
            )
        ) as expected
    from users
    cross join calendar

),

actual_rows as (

    select
        features.user_id,
        count(*) as actual,
        count(*) filter (
            where features.as_of_date <= users.known_since_date
        ) as before_known
    from features
    inner join users
        on features.user_id = users.user_id
    group by features.user_id

)

select
    coalesce(expected_rows.user_id, actual_rows.user_id) as user_id,
    coalesce(expected_rows.expected, 0) as expected,
    coalesce(actual_rows.actual, 0) as actual,
    coalesce(actual_rows.before_known, 0) as before_known
from expected_rows
full outer join actual_rows
    on expected_rows.user_id = actual_rows.user_id
where
    coalesce(expected_rows.expected, 0) <> coalesce(actual_rows.actual, 0)
    or coalesce(actual_rows.before_known, 0) > 0
