-- One row per (user_id, updated_at): every version of a user with the time range it was current.
with

source as (

    select * from {{ source('raw', 'users') }}

),

renamed as (

    select
        user_id,
        email as email_hash,
        phone as phone_hash,
        signup_at,
        nullif(upper(trim(country)), '') as country,
        nullif(trim(city), '') as city,
        nullif(lower(trim(gender)), '') as gender,
        birth_year,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

versions as (

    {{ latest_per_key('renamed', ['user_id', 'updated_at'], 'loaded_at desc, batch_id desc') }}

),

validity as (

    select
        *,
        row_number() over (partition by user_id order by updated_at) as version_number,
        lead(updated_at) over (partition by user_id order by updated_at) as next_updated_at
    from versions

)

select
    user_id,
    version_number::integer as version_number,
    email_hash,
    phone_hash,
    signup_at,
    country,
    city,
    gender,
    birth_year,
    updated_at,
    case
        when version_number = 1 then '-infinity'::timestamptz else updated_at
    end as valid_from,
    coalesce(next_updated_at, 'infinity'::timestamptz) as valid_to,
    next_updated_at is null as is_current,
    batch_id,
    loaded_at
from validity
