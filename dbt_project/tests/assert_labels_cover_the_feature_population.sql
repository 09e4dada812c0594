-- Every (user_id, as_of_date) of the feature mart has a label row and vice versa.
with

features as (

    select user_id, as_of_date from {{ ref('fct_user_features_daily') }}

),

labels as (

    select user_id, as_of_date from {{ ref('fct_user_labels_daily') }}

)

select
    coalesce(features.user_id, labels.user_id) as user_id,
    coalesce(features.as_of_date, labels.as_of_date) as as_of_date,
    features.user_id is null as missing_features,
    labels.user_id is null as missing_label
from features
full outer join labels
    on
        features.user_id = labels.user_id
        and features.as_of_date = labels.as_of_date
where features.user_id is null or labels.user_id is null
