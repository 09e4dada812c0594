"""Turn results into strict JSON values (no NaN/inf, no numpy or date objects)."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """A copy of `value` made of dict/list/str/int/float/bool/None; NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"Cannot store {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any) -> str:
    return json.dumps(jsonable(value), sort_keys=True, allow_nan=False)
