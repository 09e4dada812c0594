-- One row per supplier_id: the latest version (latest updated_at, then latest load).
with

source as (

    select * from {{ source('raw', 'suppliers') }}

),

renamed as (

    select
        supplier_id,
        nullif(trim(name), '') as supplier_name,
        nullif(trim(description), '') as supplier_description,
        nullif(trim(business_scope), '') as business_scope,
        nullif(trim(tags), '') as tags,
        store_count,
        contact_email as contact_email_hash,
        updated_at,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from source

),

deduplicated as (

    {{ latest_per_key(
        'renamed',
        ['supplier_id'],
        'updated_at desc, loaded_at desc, batch_id desc'
    ) }}

)

select * from deduplicated
