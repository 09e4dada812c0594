{{
    config(
        materialized='incremental',
        unique_key='ad_event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['ad_event_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['event_ts']},
        ],
    )
}}
-- One row per ad_event_id (the latest load of each ad event).
with

source as (

    select * from {{ source('raw', 'ad_events') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        ad_event_id,
        event_ts,
        campaign_id,
        user_id,
        lower(trim(event_type)) as event_type,
        nullif(item_id, '') as item_id,
        cost,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['ad_event_id']) }}

),

deduplicated as (

    {{ latest_per_key('candidates', ['ad_event_id'], 'loaded_at desc, batch_id desc') }}

)

select * from deduplicated
