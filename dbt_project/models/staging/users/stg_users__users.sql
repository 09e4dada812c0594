-- One row per user_id: the current (latest updated_at) version.
with

user_versions as (

    select * from {{ ref('stg_users__user_versions') }}

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
    updated_at,
    batch_id,
    loaded_at
from user_versions
where is_current
