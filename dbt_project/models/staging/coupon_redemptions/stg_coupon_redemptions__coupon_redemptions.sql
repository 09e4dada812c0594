{{
    config(
        materialized='incremental',
        unique_key='coupon_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['coupon_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['redeemed_at']},
        ],
    )
}}
-- One row per coupon_id: the redemption of a coupon.
with

source as (

    select * from {{ source('raw', 'coupon_redemptions') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        coupon_id,
        redeemed_at,
        user_id,
        nullif(order_id, '') as order_id,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['coupon_id']) }}

),

deduplicated as (

    {{ latest_per_key('candidates', ['coupon_id'], 'loaded_at desc, batch_id desc') }}

)

select * from deduplicated
