{#- Shared pieces of the staging models: incremental intake of raw rows and de-duplication. -#}

{#- Raw rows to read on this run: every row on a full build; on an incremental run the rows
    loaded since the newest load already staged (minus `load_overlap_minutes`). -#}
{% macro raw_rows_loaded_since_last_run(loaded_at_column="_loaded_at") -%}
    {%- if is_incremental() %}
    where {{ loaded_at_column }} >= {{ loaded_since_cutoff('loaded_at') }}
    {%- endif %}
{%- endmacro %}

{#- Candidate versions of every key seen on this run: the renamed new rows plus, on an
    incremental run, the version already staged for the same keys (it may still be newest). -#}
{% macro with_staged_versions(renamed_cte, key_columns) -%}
    select * from {{ renamed_cte }}
    {%- if is_incremental() %}
    union all
    select * from {{ this }}
    where ({{ key_columns | join(', ') }}) in (
        select {{ key_columns | join(', ') }} from {{ renamed_cte }}
    )
    {%- endif %}
{%- endmacro %}

{#- One row per key from `relation`: the first by `order_by` (newest version first). -#}
{% macro latest_per_key(relation, key_columns, order_by) -%}
    select distinct on ({{ key_columns | join(', ') }}) *
    from {{ relation }}
    order by {{ key_columns | join(', ') }}, {{ order_by }}
{%- endmacro %}
