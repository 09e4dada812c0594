-- One row per user: the current profile from the users source, or, for users that appear only
-- in activity (orders, events, ...), a row derived from their first activity.
with

users as (

    select * from {{ ref('int_users_unioned') }}

)

select
    user_id,
    email_hash,
    phone_hash,
    signup_at,
    country,
    city,
    gender,
    birth_year,
    first_activity_at,
    known_since_at,
    known_since_date,
    is_derived_from_activity,
    updated_at
from users
