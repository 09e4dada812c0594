-- One row per user_id known from the users source or from any activity (orders, events, ad
-- events, feedback, redemptions), so data with orders only still yields a user population.
with

users as (

    select * from {{ ref('stg_users__users') }}

),

user_days as (

    select * from {{ ref('int_user_days_aggregated') }}

),

first_activity as (

    select
        user_id,
        min(first_seen_at) as first_activity_at
    from user_days
    group by user_id

),

unioned as (

    select
        coalesce(users.user_id, first_activity.user_id) as user_id,
        users.email_hash,
        users.phone_hash,
        users.signup_at,
        users.country,
        users.city,
        users.gender,
        users.birth_year,
        users.updated_at,
        first_activity.first_activity_at,
        users.user_id is null as is_derived_from_activity
    from users
    full outer join first_activity
        on users.user_id = first_activity.user_id

)

select
    *,
    least(signup_at, first_activity_at) as known_since_at,
    {{ utc_date('least(signup_at, first_activity_at)') }} as known_since_date
from unioned
