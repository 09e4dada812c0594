-- One row per merchant_id: the current (latest updated_at) version.
with

merchant_versions as (

    select * from {{ ref('stg_merchants__merchant_versions') }}

)

select
    merchant_id,
    merchant_name,
    shop_rating,
    service_score,
    delivery_score,
    review_count,
    opened_at,
    updated_at,
    batch_id,
    loaded_at
from merchant_versions
where is_current
