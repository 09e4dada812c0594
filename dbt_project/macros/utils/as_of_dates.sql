{#- Pieces shared by the as-of-date marts (fct_user_features_daily, fct_user_labels_daily,
    int_user_categories_ranked, fct_coupon_training_set). They hold rows only for the dates of
    int_as_of_dates_planned. An incremental run builds the planned dates from the first one the
    newly loaded rows can change (or the look-back), the planned dates not built yet, and every
    date of the users int_users_tracked started in the same invocation; it forgets the dates no
    longer planned (yesterday's scoring day, grid dates that left the history) and the rows of
    restarted users. -#}

{#- The first as-of date of the feature and label marts: the day after the first data day, or
    `feature_start_date` when later. -#}
{% macro earliest_as_of_date(first_data_day) -%}
    greatest(
        {{ first_data_day }} + 1
        {%- if var('feature_start_date') %},
        '{{ var("feature_start_date") }}'::date
        {%- endif %}
    )
{%- endmacro %}

{#- A SQL date array literal of the rows `query` returns (one date column), read when the
    model runs, so the planner sees constants; an empty array while dbt only parses. -#}
{% macro date_array_from(query) -%}
    {%- if execute -%}
        {%- set dates = run_query(query).columns[0].values() -%}
        '{{ "{" ~ (dates | map("string") | join(",")) ~ "}" }}'::date[]
    {%- else -%}
        '{}'::date[]
    {%- endif -%}
{%- endmacro %}

{#- The planned as-of dates (int_as_of_dates_planned). -#}
{% macro planned_as_of_dates() -%}
    {{ date_array_from("select as_of_date from " ~ ref('int_as_of_dates_planned')) }}
{%- endmacro %}

{#- The as-of dates this model holds, found by a skip scan of its (as_of_date, user_id) index
    (one probe per date, not a scan of the rows). -#}
{% macro built_as_of_dates() -%}
    {%- if is_incremental() -%}
        {%- set skip_scan -%}
            with recursive built (as_of_date) as (
                select min(as_of_date) from {{ this }}
                union all
                select (select min(later.as_of_date) from {{ this }} as later
                        where later.as_of_date > built.as_of_date)
                from built
                where built.as_of_date is not null
            )
            select as_of_date from built where as_of_date is not null
        {%- endset -%}
        {{ date_array_from(skip_scan) }}
    {%- else -%}
        '{}'::date[]
    {%- endif -%}
{%- endmacro %}

{#- The planned as-of dates a run builds: from `first_as_of_date` of the one-row CTE
    `rebuild_window` on ('-infinity' builds all) and, on an incremental run, every planned date
    the model does not hold yet. -#}
{% macro as_of_dates_to_build(rebuild_window='rebuild_window') -%}
    select planned.as_of_date
    from {{ ref('int_as_of_dates_planned') }} as planned
    cross join {{ rebuild_window }}
    where
        planned.as_of_date >= {{ rebuild_window }}.first_as_of_date
        {%- if is_incremental() %}
        or not (planned.as_of_date = any({{ built_as_of_dates() }}))
        {%- endif %}
{%- endmacro %}

{#- The (user_id, as_of_date) rows a per-user as-of-date mart builds: every user known before
    each date of the CTE `dates_to_build`, and the users started in this invocation on the other
    planned dates. -#}
{% macro as_of_population(dates_to_build='dates_to_build') -%}
    select
        users.user_id,
        {{ dates_to_build }}.as_of_date
    from {{ ref('int_users_unioned') }} as users
    inner join {{ dates_to_build }}
        on users.known_since_date < {{ dates_to_build }}.as_of_date

    union all

    select
        started_users.user_id,
        planned.as_of_date
    from ({{ users_started_by_invocation() }}) as started_users
    inner join {{ ref('int_as_of_dates_planned') }} as planned
        on started_users.known_since_date < planned.as_of_date
    left join {{ dates_to_build }}
        on planned.as_of_date = {{ dates_to_build }}.as_of_date
    where {{ dates_to_build }}.as_of_date is null
{%- endmacro %}

{#- (user_id, known_since_date) of the users int_users_tracked started in this invocation: new
    users and restarted ones. None on a full build, which builds every user anyway. -#}
{% macro users_started_by_invocation() -%}
    {%- if is_incremental() %}
    select
        started.user_id,
        started.known_since_date
    from {{ ref('int_users_tracked') }} as started
    where started.started_by_invocation = '{{ invocation_id }}'
    {%- else %}
    select
        null::text as user_id,
        null::date as known_since_date
    where false
    {%- endif %}
{%- endmacro %}

{#- A lateral subquery: the running totals `cum_<measure>` of `measures` and the `day_columns`
    of the user's latest row of int_user_days_accumulated on or before `day`, so the totals up
    to that day; one probe of the model's (user_id, activity_date) index. -#}
{% macro accumulated_as_of(user_id, day, measures, day_columns=[]) -%}
    {%- set columns = [] -%}
    {%- for measure in measures %}{% do columns.append('cum_' ~ measure) %}{% endfor -%}
    select
        {%- for column in columns + day_columns %}
        accumulated.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_user_days_accumulated') }} as accumulated
    where
        accumulated.user_id = {{ user_id }}
        and accumulated.activity_date <= {{ day }}
    order by accumulated.activity_date desc
    limit 1
{%- endmacro %}

{#- The first activity day this invocation rebuilt in int_user_days_accumulated (null when it
    rebuilt none): running totals may have changed from here on. -#}
{% macro first_day_rebuilt() -%}
    (
        select min(refreshed.activity_date)
        from {{ ref('int_user_days_accumulated') }} as refreshed
        where refreshed.refreshed_by_invocation = '{{ invocation_id }}'
    )
{%- endmacro %}

{#- Pre-hook of the as-of-date marts: forget the dates no longer planned and, where
    `per_user`, every row of the users restarted in this invocation (their first known day
    moved, so their rows are built again from it). Both are found first, so a day without
    either deletes nothing and scans nothing. -#}
{% macro forget_unplanned_rows(per_user=true) -%}
    {%- if execute and is_incremental() -%}
        {%- set unplanned -%}
            select built.as_of_date
            from unnest({{ built_as_of_dates() }}) as built (as_of_date)
            where not (built.as_of_date = any({{ planned_as_of_dates() }}))
        {%- endset -%}
        {%- set dates = date_array_from(unplanned) -%}
        {%- if dates.strip() != "'{}'::date[]" -%}
        delete from {{ this }} where as_of_date = any({{ dates }});
        {%- endif -%}
        {%- if per_user -%}
            {%- set restarted -%}
                select restarted.user_id
                from {{ ref('int_users_tracked') }} as restarted
                where
                    restarted.started_by_invocation = '{{ invocation_id }}'
                    and restarted.is_restarted
            {%- endset -%}
            {%- if run_query(restarted ~ " limit 1").rows | length > 0 %}
        delete from {{ this }} where user_id in ({{ restarted }});
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
