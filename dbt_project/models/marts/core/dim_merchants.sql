-- One row per merchant: its current ratings and the size of its catalogue.
with

merchants as (

    select * from {{ ref('stg_merchants__merchants') }}

),

items as (

    select * from {{ ref('stg_items__items') }}

),

catalogue as (

    select
        merchant_id,
        count(*) as item_count,
        count(*) filter (where coalesce(is_active, true)) as active_item_count
    from items
    group by merchant_id

)

select
    merchants.merchant_id,
    merchants.merchant_name,
    merchants.shop_rating,
    merchants.service_score,
    merchants.delivery_score,
    merchants.review_count,
    merchants.opened_at,
    coalesce(catalogue.item_count, 0)::integer as item_count,
    coalesce(catalogue.active_item_count, 0)::integer as active_item_count,
    merchants.updated_at
from merchants
left join catalogue
    on merchants.merchant_id = catalogue.merchant_id
