-- A feature row for as-of date A exists exactly when the user was known before A: none
-- before, and one on every planned as-of date after the user became known.
with

features as (

    select * from {{ ref('fct_user_features_daily') }}

),

users as (

    select * from {{ ref('dim_users') }}

),

planned as (

    select * from {{ ref('int_as_of_dates_planned') }}

),

expected_rows as (

    select
        users.user_id,
        count(planned.as_of_date) as expected
    from users
    left join planned
        on users.known_since_date < planned.as_of_date
    group by users.user_id

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
