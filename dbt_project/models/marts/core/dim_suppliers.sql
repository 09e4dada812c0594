-- One row per supplier: its current profile and how many items and merchants it supplies.
with

suppliers as (

    select * from {{ ref('stg_suppliers__suppliers') }}

),

items as (

    select * from {{ ref('stg_items__items') }}

),

supplied as (

    select
        supplier_id,
        count(*) as item_count,
        count(distinct merchant_id) as merchant_count
    from items
    where supplier_id is not null
    group by supplier_id

)

select
    suppliers.supplier_id,
    suppliers.supplier_name,
    suppliers.supplier_description,
    suppliers.business_scope,
    suppliers.tags,
    suppliers.store_count,
    suppliers.contact_email_hash,
    coalesce(supplied.item_count, 0)::integer as item_count,
    coalesce(supplied.merchant_count, 0)::integer as merchant_count,
    suppliers.updated_at
from suppliers
left join supplied
    on suppliers.supplier_id = supplied.supplier_id
