"""Data-quality gate: Great Expectations suites over raw sources, feature marts and scores.

`run_gate(warehouse_url, suite, ds=...)` is the entry point; suites are declared in
`conf/expectations.yml`. Importing this package does not import GX (it loads on first run).
"""

from aimass.quality.gate import DataQualityError, GateResult, run_gate

__all__ = ["DataQualityError", "GateResult", "run_gate"]
