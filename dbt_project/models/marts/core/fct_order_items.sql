{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_no'],
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id', 'line_no'], 'unique': true},
            {'columns': ['order_date']},
        ],
    )
}}
-- One row per order line (order_id, line_no) with its amount. Incremental like fct_orders.
with

order_items as (

    select * from {{ ref('stg_order_items__order_items') }}
    {%- if is_incremental() %}
    where
        loaded_at >= {{ loaded_since_cutoff() }}
        or order_ts >= {{ utc_midnight(lookback_start_day('order_date')) }}
    {%- endif %}

)

select
    order_id,
    line_no,
    order_ts,
    {{ utc_date('order_ts') }} as order_date,
    item_id,
    quantity,
    unit_price,
    quantity * unit_price as line_amount,
    loaded_at
from order_items
