{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id'], 'unique': true},
            {'columns': ['order_date']},
            {'columns': ['loaded_at']},
        ],
    )
}}
-- One row per order, in its latest version (a later cancellation updates the row).
-- Incremental like fct_events: orders loaded since the last run plus the look-back days.
with

orders as (

    select * from {{ ref('stg_orders__orders') }}
    {%- if is_incremental() %}
    where
        loaded_at >= {{ loaded_since_cutoff() }}
        or order_ts >= {{ utc_midnight(lookback_start_day('order_date')) }}
    {%- endif %}

)

select
    order_id,
    user_id,
    order_ts,
    {{ utc_date('order_ts') }} as order_date,
    status,
    status in {{ cancelled_statuses() }} as is_cancelled,
    total_amount,
    coalesce(discount_amount, 0) as discount_amount,
    coupon_id,
    coalesce(discount_amount, 0) > 0 or coupon_id is not null as is_discounted,
    device_hash,
    updated_at,
    loaded_at
from orders
