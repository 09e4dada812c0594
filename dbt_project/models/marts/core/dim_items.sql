-- One row per catalogue item: its current version, with a price band for reporting.
with

items as (

    select * from {{ ref('stg_items__items') }}

)

select
    item_id,
    merchant_id,
    supplier_id,
    category,
    brand,
    title,
    price,
    {{ price_band('price') }} as price_band,
    stock,
    is_active,
    coalesce(is_active, true) and coalesce(stock, 1) > 0 as is_available,
    created_at,
    updated_at
from items
