{#- Vocabulary shared by the activity aggregates. -#}

{#- Order statuses that do not count as a purchase. -#}
{% macro cancelled_statuses() -%}
    ('cancelled', 'canceled')
{%- endmacro %}

{#- Count measures of `int_user_days_aggregated`; `int_user_days_accumulated` carries each
    as a running total (`cum_<measure>`, bigint). -#}
{% macro user_day_count_measures() -%}
    {{ return([
        'orders', 'discounted_orders', 'purchases',
        'events', 'views', 'searches', 'favorites', 'likes', 'comments', 'carts', 'sessions',
        'active_days', 'viewed_price_count', 'viewed_merchant_rating_count',
        'ad_impressions', 'ad_clicks',
        'feedback_entries', 'rating_sum', 'rating_count', 'coupons_redeemed',
    ]) }}
{%- endmacro %}

{#- Amount measures (numeric), carried as running totals like the counts. -#}
{% macro user_day_amount_measures() -%}
    {{ return([
        'revenue', 'purchase_revenue', 'viewed_price_sum', 'viewed_merchant_rating_sum', 'ad_cost',
    ]) }}
{%- endmacro %}

{#- The feature columns of fct_user_features_daily (every column but user_id and as_of_date),
    in table order; fct_coupon_training_set carries the same columns. -#}
{% macro user_feature_columns() -%}
    {{ return([
        'tenure_days', 'country',
        'orders_7d', 'orders_30d', 'orders_90d', 'revenue_7d', 'revenue_30d', 'revenue_90d',
        'avg_order_value_90d', 'days_since_last_order', 'days_since_last_event',
        'purchases_lifetime', 'purchase_days_lifetime', 'revenue_lifetime',
        'days_since_first_purchase', 'days_since_last_purchase', 'avg_days_between_purchases',
        'purchases_per_30d',
        'views_7d', 'views_30d', 'searches_7d', 'searches_30d', 'favorites_30d', 'likes_30d',
        'comments_30d', 'carts_7d', 'carts_30d', 'sessions_30d', 'active_days_30d',
        'view_to_order_rate_90d', 'cart_to_order_rate_90d',
        'top_category_90d', 'top_category_share_90d', 'distinct_categories_90d',
        'avg_item_price_viewed_30d', 'discount_share_90d', 'coupons_redeemed_90d',
        'ad_impressions_30d', 'ad_clicks_30d', 'ad_ctr_30d',
        'device_os', 'is_mobile',
        'feedback_count_90d', 'avg_rating_90d', 'avg_merchant_rating_90d',
    ]) }}
{%- endmacro %}
