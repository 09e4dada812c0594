-- One row per campaign_id: the latest version.
with

source as (

    select * from {{ source('raw', 'ad_campaigns') }}

),

renamed as (

    select
        campaign_id,
        nullif(trim(name), '') as campaign_name,
        lower(trim(channel)) as channel,
        nullif(lower(trim(objective)), '') as objective,
        start_date,
        end_date,
        daily_budget,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

deduplicated as (

    {{ latest_per_key(
        'renamed',
        ['campaign_id'],
        'updated_at desc, loaded_at desc, batch_id desc'
    ) }}

)

select * from deduplicated
