{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['order_ts']},
        ],
    )
}}
-- One row per order_id: the latest version (latest updated_at, then latest load).
with

source as (

    select * from {{ source('raw', 'orders') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        order_id,
        user_id,
        order_ts,
        lower(trim(status)) as status,
        total_amount,
        discount_amount,
        nullif(coupon_id, '') as coupon_id,
        device_id as device_hash,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['order_id']) }}

),

deduplicated as (

    {{ latest_per_key(
        'candidates',
        ['order_id'],
        'updated_at desc nulls last, loaded_at desc, batch_id desc'
    ) }}

)

select * from deduplicated
