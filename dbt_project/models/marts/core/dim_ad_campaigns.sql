-- One row per ad campaign: its channel, objective, flight dates and daily budget.
with

campaigns as (

    select * from {{ ref('stg_ad_campaigns__ad_campaigns') }}

)

select
    campaign_id,
    campaign_name,
    channel,
    objective,
    start_date,
    end_date,
    daily_budget,
    updated_at
from campaigns
