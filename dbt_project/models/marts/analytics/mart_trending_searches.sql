-- One row per (activity_date, term_type, term): the daily volume of a search term
-- (term_type 'search_term': searches) or of a category (term_type 'category': item views), its
-- change against the day before and its rank by volume that day (1 = most searched / viewed).
with

search_term_days as (

    select * from {{ ref('int_search_term_days_aggregated') }}

),

item_days as (

    select * from {{ ref('int_item_days_aggregated') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

daily_terms as (

    select
        activity_date,
        'search_term' as term_type,
        search_term as term,
        searches as volume,
        searchers as users
    from search_term_days

),

daily_categories as (

    select
        item_days.activity_date,
        'category' as term_type,
        items.category as term,
        sum(item_days.views) as volume,
        sum(item_days.viewers) as users
    from item_days
    inner join items
        on item_days.item_id = items.item_id
    group by item_days.activity_date, items.category
    having sum(item_days.views) > 0

),

daily_volumes as (

    select * from daily_terms
    union all
    select * from daily_categories

),

with_previous_day as (

    select
        today.*,
        coalesce(yesterday.volume, 0) as previous_day_volume
    from daily_volumes as today
    left join daily_volumes as yesterday
        on
            today.term_type = yesterday.term_type
            and today.term = yesterday.term
            and today.activity_date = yesterday.activity_date + 1

)

select
    activity_date,
    term_type,
    term,
    volume::integer as volume,
    users::integer as users,
    previous_day_volume::integer as previous_day_volume,
    {{ safe_ratio('volume - previous_day_volume', 'previous_day_volume') }}
        as day_over_day_growth,
    (
        rank() over (partition by activity_date, term_type order by volume desc)
    )::integer as volume_rank,
    (volume >= 3 and volume >= 2 * previous_day_volume) as is_trending
from with_previous_day
