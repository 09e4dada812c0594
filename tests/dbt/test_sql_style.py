"""The dbt models pass sqlfluff (postgres dialect, jinja templater, dbt_project/.sqlfluff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aimass.transform import project_dir

pytestmark = pytest.mark.slow


def test_models_pass_sqlfluff_lint():
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    project = project_dir()
    run = subprocess.run(
        [str(sqlfluff), "lint", "models", "--processes", "2", "--nocolor"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
