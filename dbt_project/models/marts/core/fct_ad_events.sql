{{
    config(
        materialized='incremental',
        unique_key='ad_event_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['ad_event_id'], 'unique': true},
            {'columns': ['event_date']},
            {'columns': ['loaded_at']},
        ],
    )
}}
-- One row per ad event (impression, click, ...) with its cost. Incremental like fct_events.
with

ad_events as (

    select * from {{ ref('stg_ad_events__ad_events') }}
    {%- if is_incremental() %}
    where
        loaded_at >= {{ loaded_since_cutoff() }}
        or event_ts >= {{ utc_midnight(lookback_start_day('event_date')) }}
    {%- endif %}

)

select
    ad_event_id,
    event_ts,
    {{ utc_date('event_ts') }} as event_date,
    campaign_id,
    user_id,
    event_type,
    item_id,
    coalesce(cost, 0) as cost,
    loaded_at
from ad_events
