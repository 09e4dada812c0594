-- One row per coupon_campaign_id: the latest version.
with

source as (

    select * from {{ source('raw', 'coupon_campaigns') }}

),

renamed as (

    select
        coupon_campaign_id,
        nullif(trim(name), '') as campaign_name,
        offer_date,
        coupon_values,
        horizon_days,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

deduplicated as (

    {{ latest_per_key(
        'renamed',
        ['coupon_campaign_id'],
        'updated_at desc, loaded_at desc, batch_id desc'
    ) }}

)

select * from deduplicated
