{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['event_ts']},
        ],
    )
}}
-- One row per event_id (the latest load of each event).
with

source as (

    select * from {{ source('raw', 'events') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        event_id,
        event_ts,
        user_id,
        lower(trim(event_type)) as event_type,
        nullif(item_id, '') as item_id,
        nullif(merchant_id, '') as merchant_id,
        nullif(trim(search_query), '') as search_query,
        device_id as device_hash,
        nullif(session_id, '') as session_id,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['event_id']) }}

),

deduplicated as (

    {{ latest_per_key('candidates', ['event_id'], 'loaded_at desc, batch_id desc') }}

)

select * from deduplicated
