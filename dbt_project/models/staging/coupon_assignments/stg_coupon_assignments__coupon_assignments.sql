{{
    config(
        materialized='incremental',
        unique_key=['coupon_campaign_id', 'user_id'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['coupon_campaign_id', 'user_id'], 'unique': true},
            {'columns': ['loaded_at']},
        ],
    )
}}
-- One row per (coupon_campaign_id, user_id): the user's arm in the campaign.
with

source as (

    select * from {{ source('raw', 'coupon_assignments') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        coupon_campaign_id,
        user_id,
        assigned_at,
        treatment as is_treated,
        coupon_value,
        nullif(coupon_id, '') as coupon_id,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['coupon_campaign_id', 'user_id']) }}

),

deduplicated as (

    {{ latest_per_key(
        'candidates',
        ['coupon_campaign_id', 'user_id'],
        'loaded_at desc, batch_id desc'
    ) }}

)

select * from deduplicated
