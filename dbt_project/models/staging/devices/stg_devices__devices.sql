-- One row per device: the latest version, keyed by the device pseudonym.
with

source as (

    select * from {{ source('raw', 'devices') }}

),

renamed as (

    select
        device_id as device_hash,
        user_id,
        nullif(lower(trim(os)), '') as os,
        nullif(lower(trim(browser)), '') as browser,
        nullif(trim(app_version), '') as app_version,
        nullif(trim(model), '') as device_model,
        nullif(trim(screen_resolution), '') as screen_resolution,
        ip_address as ip_address_hash,
        nullif(upper(trim(country)), '') as country,
        nullif(trim(city), '') as city,
        first_seen_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

deduplicated as (

    {{ latest_per_key(
        'renamed',
        ['device_hash'],
        'updated_at desc, loaded_at desc, batch_id desc'
    ) }}

)

select
    device_hash,
    user_id,
    os,
    coalesce(os in ('android', 'ios', 'ipados'), false) as is_mobile,
    browser,
    app_version,
    device_model,
    screen_resolution,
    ip_address_hash,
    country,
    city,
    first_seen_at,
    updated_at,
    batch_id,
    loaded_at
from deduplicated
