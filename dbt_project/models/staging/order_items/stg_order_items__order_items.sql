{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_no'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id', 'line_no'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['order_ts']},
        ],
    )
}}
-- One row per (order_id, line_no) (the latest load of each order line).
with

source as (

    select * from {{ source('raw', 'order_items') }}
    {{ raw_rows_loaded_since_last_run() }}

),

renamed as (

    select
        order_id,
        line_no,
        order_ts,
        item_id,
        quantity,
        unit_price,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

candidates as (

    {{ with_staged_versions('renamed', ['order_id', 'line_no']) }}

),

deduplicated as (

    {{ latest_per_key('candidates', ['order_id', 'line_no'], 'loaded_at desc, batch_id desc') }}

)

select * from deduplicated
