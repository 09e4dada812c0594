{#- Rows for which `expression` is false. At column level the expression continues the column
    (e.g. `>= 0`). Rows where it evaluates to null pass: test nulls with `not_null`. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({% if column_name %}{{ column_name }} {% endif %}{{ expression }})

{% endtest %}
