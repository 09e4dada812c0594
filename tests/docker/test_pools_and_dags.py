"""Every deployment creates the Airflow pools the DAGs use, sized from the one setting, and names
only DAGs that exist. Each check also runs on a planted bad copy, so it is known to be able to
fail."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from aimass.orchestration.pools import WAREHOUSE_POOL_SLOTS_ENV

POOLS_COMMAND = "python -m aimass.orchestration.pools"
DAG_ID_MENTION = re.compile(
    r"\baimass_(?:daily|ingest|marts|propensity|model_admin|recommendations|coupon_\w+)\b"
)


def _dag_ids(repo_root: Path) -> set[str]:
    return {
        match
        for path in (repo_root / "dags").glob("*.py")
        for match in re.findall(r'dag_id="(\w+)"', path.read_text())
    }


def pool_problems(compose: dict, helm_values: dict, init_script: str) -> list[str]:
    problems = []
    env = compose["x-airflow-common"]["environment"]
    if WAREHOUSE_POOL_SLOTS_ENV not in env:
        problems.append(f"compose: {WAREHOUSE_POOL_SLOTS_ENV} not in the shared Airflow env")
    lines = [line.strip() for line in init_script.splitlines()]
    migrate = next((i for i, line in enumerate(lines) if line == "airflow db migrate"), None)
    pools = next((i for i, line in enumerate(lines) if line.startswith(POOLS_COMMAND)), None)
    if pools is None or migrate is None or pools < migrate:
        problems.append("airflow-init.sh does not create the pools after `airflow db migrate`")
    args = " ".join(str(a) for a in helm_values.get("migrateDatabaseJob", {}).get("args", []))
    if "db migrate" not in args or POOLS_COMMAND not in args.split("db migrate", 1)[-1]:
        problems.append("helm: migrateDatabaseJob does not create the pools after migrating")
    if not any(e.get("name") == WAREHOUSE_POOL_SLOTS_ENV for e in helm_values.get("env", [])):
        problems.append(f"helm: {WAREHOUSE_POOL_SLOTS_ENV} not in env")
    return problems


def dag_id_problems(texts: dict[str, str], dag_ids: set[str]) -> list[str]:
    return [
        f"{name}: names DAG {dag_id}, which dags/ does not have"
        for name, text in texts.items()
        for dag_id in sorted(set(DAG_ID_MENTION.findall(text)))
        if dag_id not in dag_ids
    ]


@pytest.fixture(scope="module")
def init_script(docker_dir) -> str:
    return (docker_dir / "scripts" / "airflow-init.sh").read_text()


@pytest.fixture(scope="module")
def deployment_texts(docker_dir) -> dict[str, str]:
    return {
        str(path.relative_to(docker_dir)): path.read_text()
        for path in sorted(docker_dir.rglob("*"))
        if path.is_file() and path.suffix in ("", ".md", ".yaml", ".yml", ".sh", ".example")
    }


def test_every_deployment_creates_the_pools(compose, helm_values, init_script):
    assert pool_problems(compose, helm_values, init_script) == []


def test_deployment_files_name_only_existing_dags(deployment_texts, repo_root):
    dag_ids = _dag_ids(repo_root)
    assert {"aimass_ingest", "aimass_marts", "aimass_propensity"} <= dag_ids
    assert dag_id_problems(deployment_texts, dag_ids) == []


def test_checks_catch_planted_bad_copies(compose, helm_values, init_script, repo_root):
    bad_compose = copy.deepcopy(compose)
    del bad_compose["x-airflow-common"]["environment"][WAREHOUSE_POOL_SLOTS_ENV]
    assert any("compose" in p for p in pool_problems(bad_compose, helm_values, init_script))
    no_pools = init_script.replace(POOLS_COMMAND, "true")
    assert any("airflow-init.sh" in p for p in pool_problems(compose, helm_values, no_pools))
    bad_helm = copy.deepcopy(helm_values)
    bad_helm["migrateDatabaseJob"]["args"] = ["bash", "-c", "exec airflow db migrate"]
    assert any("migrateDatabaseJob" in p for p in pool_problems(compose, bad_helm, init_script))
    stale = dag_id_problems({"README.md": "trigger aimass_coupon_nightly"}, _dag_ids(repo_root))
    assert stale == ["README.md: names DAG aimass_coupon_nightly, which dags/ does not have"]
