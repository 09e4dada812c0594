"""Run one benchmark stage in this (fresh) process and write its numbers as JSON.

    python -m tests.benchmarks.stage <module> '<kwargs as JSON>' <output.json>

`run_all` starts every stage this way, so each stage's peak memory is its own (the largest
resident set of this process or of any process it waited for, e.g. dbt or Airflow).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

from tests.benchmarks.common import peak_rss_mb


def main(argv: list[str]) -> int:
    module_name, kwargs_json, out_path = argv
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    try:
        module = importlib.import_module(f"tests.benchmarks.{module_name}")
        result = {"ok": True, "numbers": module.run(**json.loads(kwargs_json))}
    except Exception as exc:  # the report shows the failure next to the other stages
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    result["stage_s"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = peak_rss_mb()
    # the machine's 1-minute load average before and after: other work on the machine
    # slows every number down, and this shows how busy it was
    result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, default=str)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
