"""The deployment files, parsed once, and the pins they must agree with."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def docker_dir() -> Path:
    return DOCKER_DIR


@pytest.fixture(scope="session")
def compose() -> dict:
    return yaml.safe_load((DOCKER_DIR / "docker-compose.yaml").read_text())


@pytest.fixture(scope="session")
def helm_values() -> dict:
    return yaml.safe_load((DOCKER_DIR / "helm" / "values.yaml").read_text())


@pytest.fixture(scope="session")
def dockerfile_text() -> str:
    return (DOCKER_DIR / "Dockerfile").read_text()


@pytest.fixture(scope="session")
def env_example_text() -> str:
    return (DOCKER_DIR / ".env.example").read_text()


@pytest.fixture(scope="session")
def airflow_pin() -> str:
    """The `apache-airflow==` version in requirements.txt."""
    match = re.search(r"^apache-airflow==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.M)
    assert match, "requirements.txt pins no apache-airflow version"
    return match.group(1)


@pytest.fixture(scope="session")
def python_version() -> str:
    """The one minor Python version pyproject's `requires-python` allows, e.g. `3.11`."""
    spec = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*3\.(\d+)\s*,\s*<\s*3\.(\d+)", spec.strip())
    assert match and int(match.group(2)) == int(match.group(1)) + 1, (
        f"requires-python {spec!r} does not name exactly one minor version"
    )
    return f"3.{match.group(1)}"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    joined, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        joined.append(current + stripped)
        current = ""
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def image_copies(text: str) -> list[tuple[str, str]]:
    """(source in the build context, absolute destination in the image) for every COPY."""
    workdir = PurePosixPath("/")
    copies = []
    for word, args in dockerfile_instructions(text):
        if word == "WORKDIR":
            workdir = workdir / args
        elif word == "COPY":
            parts = [p for p in shlex.split(args) if not p.startswith("--")]
            *sources, dest = parts
            dest_path = workdir / dest
            for source in sources:
                copies.append((source, str(dest_path) + ("/" if dest.endswith("/") else "")))
    return copies


def repo_path_for_image_path(text: str, image_path: str) -> Path | None:
    """The repository file an absolute path inside the image comes from (None: not copied)."""
    for source, dest in image_copies(text):
        dest_dir = dest.rstrip("/")
        if source.endswith("/") and image_path.startswith(dest_dir + "/"):
            return REPO_ROOT / source / image_path[len(dest_dir) + 1 :]
        if image_path == dest_dir:
            return REPO_ROOT / source
    return None


@pytest.fixture(scope="session")
def dockerfile_tools() -> SimpleNamespace:
    """The Dockerfile parsing helpers, for checks that run on planted bad copies too."""
    return SimpleNamespace(
        instructions=dockerfile_instructions,
        copies=image_copies,
        source_for=repo_path_for_image_path,
    )


@pytest.fixture(scope="session")
def image_path_source(dockerfile_text):
    """Function: absolute path inside the image -> the repository file it is copied from."""
    return lambda image_path: repo_path_for_image_path(dockerfile_text, image_path)
