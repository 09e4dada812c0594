{{
    config(
        materialized='incremental',
        unique_key='user_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['user_id'], 'unique': true},
            {'columns': ['started_by_invocation']},
        ],
    )
}}
-- One row per user: the day the user is first known as the as-of-date marts were last built
-- from it, and the dbt invocation that started the user there. An incremental run writes only
-- the users it starts: new users, and users whose first known day moved (a users row arriving
-- after the first activity with an earlier sign-up, or a correction of the sign-up). The
-- as-of-date marts then build every as-of date of those users, and only the newest dates of
-- everyone else.
with

users as (

    select
        user_id,
        known_since_date
    from {{ ref('int_users_unioned') }}

),

built as (

    {%- if is_incremental() %}
    select * from {{ this }}
    {%- else %}
    select
        null::text as user_id,
        null::date as known_since_date
    where false
    {%- endif %}

)

select
    users.user_id,
    users.known_since_date,
    built.user_id is not null as is_restarted,
    '{{ invocation_id }}'::text as started_by_invocation
from users
left join built
    on users.user_id = built.user_id
where
    built.user_id is null
    or built.known_since_date is distinct from users.known_since_date
