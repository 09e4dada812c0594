-- One row per user, rebuilt on every run for the day after the last loaded day: recency,
-- frequency and monetary value of the user's purchases (orders not cancelled), R/F/M scores 1-5
-- (quintiles among purchasers; 5 = most recent / most frequent / highest spend) and a named
-- segment from the rules below.
with

users as (

    select * from {{ ref('dim_users') }}

),

calendar as (

    select min(last_data_day) as last_data_day
    from {{ ref('int_calendar_days_spined') }}

),

-- running totals up to the last data day: each user's latest active day
purchasers as (

    select
        users.user_id,
        calendar.last_data_day + 1 - latest.last_purchase_date as recency_days,
        latest.cum_purchases as frequency,
        latest.cum_purchase_revenue as monetary
    from users
    cross join calendar
    left join lateral (
        {{ accumulated_as_of(
            'users.user_id',
            'calendar.last_data_day',
            ['purchases', 'purchase_revenue'],
            ['last_purchase_date'],
        ) }}
    ) as latest on true
    where latest.cum_purchases > 0

),

scored as (

    select
        *,
        ntile(5) over (order by recency_days desc, user_id asc) as r_score,
        ntile(5) over (order by frequency asc, user_id asc) as f_score,
        ntile(5) over (order by monetary asc, user_id asc) as m_score
    from purchasers

),

segmented as (

    select
        users.user_id,
        scored.recency_days,
        coalesce(scored.frequency, 0) as frequency,
        coalesce(scored.monetary, 0) as monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        case
            when scored.user_id is null then 'prospect'
            when scored.r_score >= 4 and scored.f_score >= 4 then 'champions'
            when scored.r_score >= 3 and scored.f_score >= 3 then 'loyal'
            when scored.frequency = 1 and scored.recency_days <= 30 then 'new'
            when scored.r_score >= 4 then 'potential_loyalists'
            when scored.r_score <= 2 and scored.f_score >= 3 then 'at_risk'
            when scored.r_score <= 2 then 'hibernating'
            else 'needs_attention'
        end as segment
    from users
    left join scored
        on users.user_id = scored.user_id

)

select
    (select calendar.last_data_day + 1 from calendar) as as_of_date,
    user_id,
    recency_days::integer as recency_days,
    frequency::integer as frequency,
    monetary::numeric as monetary,
    r_score::integer as r_score,
    f_score::integer as f_score,
    m_score::integer as m_score,
    case
        when r_score is not null then concat(r_score, f_score, m_score)
    end as rfm_cell,
    segment
from segmented
