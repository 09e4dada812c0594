"""docker/Dockerfile: the pinned official base, the pinned dependency set, the project's code,
and no secret. Each check also runs on a planted bad copy, so it is known to be able to fail."""

from __future__ import annotations

import re

import pytest

CREDENTIAL_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|PII_KEY|_CONN\b|CONN_", re.I)
PROJECT_DIRS = ("dags/", "plugins/", "dbt_project/", "ml/")


def dockerfile_problems(text: str, *, tools, repo_root, airflow_pin, python_version) -> list[str]:
    """Every way `text` breaks the image rules (empty when it keeps them)."""
    problems: list[str] = []
    steps = tools.instructions(text)
    froms = [args for word, args in steps if word == "FROM"]
    if len(froms) != 1:
        problems.append(f"expected one FROM, found {len(froms)}")
    for base in froms:
        match = re.fullmatch(r"apache/airflow:(\d+\.\d+\.\d+)-python(\d+\.\d+)", base)
        if not match:
            problems.append(f"FROM {base}: not apache/airflow:<version>-python<x.y>")
            continue
        if match.group(1) != airflow_pin:
            problems.append(
                f"FROM Airflow {match.group(1)} but requirements.txt pins {airflow_pin}"
            )
        if match.group(2) != python_version:
            problems.append(f"FROM Python {match.group(2)} but pyproject wants {python_version}")

    runs = [args for word, args in steps if word == "RUN"]
    if not any(
        "pip install" in r and "--no-cache-dir" in r and "-r requirements.txt" in r for r in runs
    ):
        problems.append("requirements.txt is not installed with pip install --no-cache-dir -r")
    if not any(re.search(r"pip install .*--no-deps .*(?<![\w/-])\.(\s|$)", r) for r in runs):
        problems.append("the project is not installed with pip install --no-deps .")

    copies = tools.copies(text)
    for source, _ in copies:
        if not (repo_root / source).exists():
            problems.append(f"COPY {source}: no such path in the build context")
    copied = {source: dest for source, dest in copies}
    for folder in PROJECT_DIRS:
        if folder not in copied:
            problems.append(f"{folder} is not copied into the image")

    env = {}
    for word, args in steps:
        if word == "ENV":
            for pair in re.findall(r"(\w+)=(\S+)", args):
                env[pair[0]] = pair[1]
        if word in ("ENV", "ARG"):
            for name in re.findall(r"(\w+)=", args) or [args.split("=")[0]]:
                if CREDENTIAL_NAME.search(name):
                    problems.append(f"{word} {name}: secrets never go into the image")
    for variable, folder in (
        ("AIRFLOW__CORE__DAGS_FOLDER", "dags/"),
        ("AIRFLOW__CORE__PLUGINS_FOLDER", "plugins/"),
    ):
        expected = copied.get(folder, "").rstrip("/")
        if env.get(variable) != expected:
            problems.append(f"{variable}={env.get(variable)} but {folder} is copied to {expected}")

    users = [args for word, args in steps if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the image must end as the unprivileged airflow user")
    return problems


@pytest.fixture
def check(dockerfile_tools, repo_root, airflow_pin, python_version):
    return lambda text: dockerfile_problems(
        text,
        tools=dockerfile_tools,
        repo_root=repo_root,
        airflow_pin=airflow_pin,
        python_version=python_version,
    )


def test_dockerfile_keeps_every_rule(check, dockerfile_text):
    assert check(dockerfile_text) == []


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"planted change needs {old!r} in the Dockerfile"
    return text.replace(old, new)


BAD_COPIES = {
    "other Airflow version": (
        lambda t: re.sub(r"apache/airflow:[\d.]+-", "apache/airflow:3.1.0-", t),
        "requirements.txt pins",
    ),
    "other Python": (lambda t: re.sub(r"-python3\.\d+", "-python3.12", t), "pyproject wants"),
    "floating base": (
        lambda t: re.sub(r"FROM apache/airflow:\S+", "FROM apache/airflow:latest", t),
        "not apache/airflow:",
    ),
    "cached pip": (lambda t: _replace(t, 'pip install --no-cache-dir "', 'pip install "'), "-r"),
    "deps pulled for the project": (lambda t: _replace(t, "--no-deps .", "."), "--no-deps"),
    "dags not copied": (
        lambda t: _replace(t, "COPY --chown=airflow:0 dags/ ./dags/\n", ""),
        "dags/",
    ),
    "copy of a missing path": (
        lambda t: t + "COPY --chown=airflow:0 no_such_dir/ ./x/\n",
        "no_such_dir/",
    ),
    "baked secret": (lambda t: t + "ENV AIRFLOW__CORE__FERNET_KEY=abc123\n", "FERNET_KEY"),
    "secret build arg": (lambda t: t + "ARG AIMASS_DB_PASSWORD\n", "AIMASS_DB_PASSWORD"),
    "dags folder elsewhere": (
        lambda t: _replace(
            t, "AIRFLOW__CORE__DAGS_FOLDER=/opt/aimass/dags", "AIRFLOW__CORE__DAGS_FOLDER=/dags"
        ),
        "AIRFLOW__CORE__DAGS_FOLDER",
    ),
    "runs as root": (lambda t: t + "USER root\n", "unprivileged"),
}


@pytest.mark.parametrize("name", sorted(BAD_COPIES))
def test_check_catches_a_planted_bad_dockerfile(check, dockerfile_text, name):
    plant, expected = BAD_COPIES[name]
    problems = check(plant(dockerfile_text))
    assert any(expected in p for p in problems), f"{name}: not caught, got {problems}"
