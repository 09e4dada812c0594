-- One row per (item_id, updated_at): every version of an item with the time range it was current.
with

source as (

    select * from {{ source('raw', 'items') }}

),

renamed as (

    select
        item_id,
        merchant_id,
        nullif(supplier_id, '') as supplier_id,
        lower(trim(category)) as category,
        nullif(trim(brand), '') as brand,
        nullif(trim(title), '') as title,
        price,
        stock,
        is_active,
        created_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

versions as (

    {{ latest_per_key('renamed', ['item_id', 'updated_at'], 'loaded_at desc, batch_id desc') }}

),

validity as (

    select
        *,
        row_number() over (partition by item_id order by updated_at) as version_number,
        lead(updated_at) over (partition by item_id order by updated_at) as next_updated_at
    from versions

)

select
    item_id,
    version_number::integer as version_number,
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
    case
        when version_number = 1 then '-infinity'::timestamptz else updated_at
    end as valid_from,
    coalesce(next_updated_at, 'infinity'::timestamptz) as valid_to,
    next_updated_at is null as is_current,
    batch_id,
    loaded_at
from validity
