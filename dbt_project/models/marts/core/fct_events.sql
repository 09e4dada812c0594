{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['event_id'], 'unique': true},
            {'columns': ['event_date']},
            {'columns': ['loaded_at']},
        ],
    )
}}
-- One row per behaviour event. Incremental: each run takes the staged events loaded since the
-- newest load already here (minus `load_overlap_minutes`) and every event of the last
-- `lookback_days` days.
with

events as (

    select * from {{ ref('stg_events__events') }}
    {%- if is_incremental() %}
    where
        loaded_at >= {{ loaded_since_cutoff() }}
        or event_ts >= {{ utc_midnight(lookback_start_day('event_date')) }}
    {%- endif %}

)

select
    event_id,
    event_ts,
    {{ utc_date('event_ts') }} as event_date,
    user_id,
    event_type,
    item_id,
    merchant_id,
    search_query,
    nullif(lower(regexp_replace(search_query, '\s+', ' ', 'g')), '') as search_term,
    session_id,
    device_hash,
    loaded_at
from events
