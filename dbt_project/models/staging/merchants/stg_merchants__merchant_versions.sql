-- One row per (merchant_id, updated_at): every version of a merchant with its validity range.
with

source as (

    select * from {{ source('raw', 'merchants') }}

),

renamed as (

    select
        merchant_id,
        nullif(trim(name), '') as merchant_name,
        shop_rating,
        service_score,
        delivery_score,
        review_count,
        opened_at,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

versions as (

    {{ latest_per_key('renamed', ['merchant_id', 'updated_at'], 'loaded_at desc, batch_id desc') }}

),

validity as (

    select
        *,
        row_number() over (partition by merchant_id order by updated_at) as version_number,
        lead(updated_at) over (partition by merchant_id order by updated_at) as next_updated_at
    from versions

)

select
    merchant_id,
    version_number::integer as version_number,
    merchant_name,
    shop_rating,
    service_score,
    delivery_score,
    review_count,
    opened_at,
    updated_at,
    case
        when version_number = 1 then '-infinity'::timestamptz else updated_at
    end as valid_from,
    coalesce(next_updated_at, 'infinity'::timestamptz) as valid_to,
    next_updated_at is null as is_current,
    batch_id,
    loaded_at
from validity
