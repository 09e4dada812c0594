{{
    config(
        materialized='incremental',
        unique_key='feedback_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['feedback_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['feedback_ts']},
        ],
    )
}}
-- One row per feedback_id (the latest load of each feedback entry).
with

source as (

    select * from {{ source('raw', 'feedback') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        feedback_id,
        feedback_ts,
        user_id,
        lower(trim(kind)) as feedback_kind,
        rating,
        nullif(order_id, '') as order_id,
        nullif(item_id, '') as item_id,
        nullif(trim(review_text), '') as review_text,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['feedback_id']) }}

),

deduplicated as (

    {{ latest_per_key('candidates', ['feedback_id'], 'loaded_at desc, batch_id desc') }}

)

select * from deduplicated
