"""The benchmark report (`tests/benchmarks/run_all.py`): every re-measured stage keeps the
figures of the run it replaced, and the report shows them side by side."""

from __future__ import annotations

from tests.benchmarks import run_all


def dbt_result(revision: str, full_s: float, incremental_s: float) -> dict:
    numbers = {"full_build_s": full_s, "incremental_day_s": incremental_s}
    numbers["ratio_incremental_to_full"] = round(incremental_s / full_s, 3)
    return {"ok": True, "revision": revision, "measured_at": "2026-12-06T06:09", "numbers": numbers}


def test_a_new_run_keeps_the_figures_it_replaces_and_the_report_shows_both():
    old = dbt_result("aaa1111", 822.6, 146.8)
    new = run_all.with_earlier("dbt", dbt_result("bbb2222", 200.0, 20.0), old)
    assert new["earlier"]["revision"] == "aaa1111"
    assert new["earlier"]["figures"]["dbt full build s"] == 822.6

    table = "\n".join(run_all.earlier_table({"stages": {"dbt": new}}))
    assert "| dbt full build s | 823 (aaa1111, 2026-12-06) | 200 | 0.24× |" in table
    assert "| dbt incremental day s | 147 (aaa1111, 2026-12-06) | 20 | 0.14× |" in table


def test_a_rerun_at_the_same_revision_compares_with_the_revision_before():
    first = run_all.with_earlier(
        "dbt", dbt_result("bbb2222", 200.0, 20.0), dbt_result("aaa1111", 822.6, 146.8)
    )
    again = run_all.with_earlier("dbt", dbt_result("bbb2222", 190.0, 19.0), first)
    assert again["earlier"]["revision"] == "aaa1111"


def test_a_failed_run_neither_gets_nor_gives_a_comparison():
    broken = {"ok": False, "error": "the stage process died"}
    assert "earlier" not in run_all.with_earlier("dbt", broken, dbt_result("aaa1111", 1.0, 1.0))
    fresh = run_all.with_earlier("dbt", dbt_result("bbb2222", 2.0, 1.0), broken)
    assert "earlier" not in fresh
    assert run_all.earlier_table({"stages": {"dbt": fresh}}) == []


def test_the_comparison_names_the_earlier_cpu_when_it_was_another():
    old = {**dbt_result("aaa1111", 822.6, 146.8), "cpu": "Intel(R) Xeon(R) Processor"}
    new = run_all.with_earlier(
        "dbt", {**dbt_result("bbb2222", 200.0, 20.0), "cpu": "AMD EPYC"}, old
    )
    table = "\n".join(run_all.earlier_table({"stages": {"dbt": new}}))
    assert "(aaa1111, 2026-12-06, Intel(R) Xeon(R) Processor)" in table
