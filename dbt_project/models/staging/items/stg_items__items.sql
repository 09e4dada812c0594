-- One row per item_id: the current (latest updated_at) version.
with

item_versions as (

    select * from {{ ref('stg_items__item_versions') }}

)

select
    item_id,
    merchant_id,
    supplier_id,
    category,
    brand,
    title,
    price,
    stock,
    is_active,
    created_at,
    updated_at,
    batch_id,
    loaded_at
from item_versions
where is_current
