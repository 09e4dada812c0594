{#- A user's span is the days int_user_days_accumulated holds for them: from
    `span_start_date` (the day the user is first known, at the earliest the first data day) to
    the last data day. Incremental runs continue most users from the day before the rebuilt
    days, and start a user from the span start when the user is new or the start moved (a
    users row that arrives after the first activity with an earlier sign-up, or a newer
    version that moves the sign-up). The models downstream rebuild the rows of started users
    in full, and every other user from the first day rebuilt for all. -#}

{#- The span start of every user as the current data put it. -#}
{% macro span_start_date(known_since_date, first_data_day) -%}
    greatest({{ known_since_date }}, {{ first_data_day }})
{%- endmacro %}

{#- The users int_user_days_accumulated holds with another span start than the current one. -#}
{% macro users_whose_span_start_moved() -%}
    select built.user_id
    from {{ this }} as built
    inner join {{ ref('int_users_unioned') }} as users
        on built.user_id = users.user_id
    cross join (
        select min(first_data_day) as first_data_day
        from {{ ref('int_calendar_days_spined') }}
    ) as calendar
    -- every user has a row on the newest day, each holding the user's span start
    where
        built.activity_date = {{ value_from_this('max(activity_date)', 'date') }}
        and built.span_start_date
        <> {{ span_start_date('users.known_since_date', 'calendar.first_data_day') }}
{%- endmacro %}

{#- Whether an incremental run of int_user_days_accumulated restarts any user (a query at
    compile time, so the runs without one plan without the restart branch). -#}
{% macro any_span_start_moved() -%}
    {%- if execute and is_incremental() -%}
        {{ return(run_query(users_whose_span_start_moved() ~ ' limit 1').rows | length > 0) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}

{#- Pre-hook of int_user_days_accumulated: forget the users whose span start moved, so the run
    builds them again from the new start, like new users, and keeps no day before it. -#}
{% macro forget_users_whose_span_start_moved() -%}
    {%- if any_span_start_moved() -%}
        delete from {{ this }}
        where user_id in ({{ users_whose_span_start_moved() }})
    {%- endif -%}
{%- endmacro %}

{#- (user_id, span_start_date) of the users an incremental run built in
    int_user_days_accumulated from their span start: new users and restarted ones. None on a
    full build, which builds every user of the model that calls it anyway. -#}
{% macro users_started_by_invocation() -%}
    {%- if is_incremental() %}
    select
        started.user_id,
        started.span_start_date
    from {{ ref('int_user_days_accumulated') }} as started
    where
        started.refreshed_by_invocation = '{{ invocation_id }}'
        and started.activity_date = started.span_start_date
    {%- else %}
    select
        null::text as user_id,
        null::date as span_start_date
    where false
    {%- endif %}
{%- endmacro %}

{#- The first day this invocation rebuilt in int_user_days_accumulated for the users it
    continued (null when it continued none): from here on every user's rows may have changed. -#}
{% macro first_day_rebuilt_for_continued_users() -%}
    (
        select min(refreshed.activity_date)
        from {{ ref('int_user_days_accumulated') }} as refreshed
        where
            refreshed.refreshed_by_invocation = '{{ invocation_id }}'
            and refreshed.user_id not in (
                select started.user_id from ({{ users_started_by_invocation() }}) as started
            )
    )
{%- endmacro %}

{#- Pre-hook of the as-of-date marts: delete the rows a started user holds from before the
    span start (left by an earlier, longer span); the run rebuilds the rest. A row on the span
    start itself can only be such a row, so an index lookup per started user finds them. -#}
{% macro forget_rows_before_span_start() -%}
    {%- if execute and is_incremental() -%}
        {%- set stale_users -%}
            select started.user_id, started.span_start_date
            from ({{ users_started_by_invocation() }}) as started
            inner join {{ this }} as left_over
                on
                    started.user_id = left_over.user_id
                    and started.span_start_date = left_over.as_of_date
        {%- endset -%}
        {%- if run_query(stale_users).rows | length > 0 -%}
            delete from {{ this }} as built
            using ({{ stale_users }}) as stale
            where built.user_id = stale.user_id and built.as_of_date <= stale.span_start_date
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

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
