"""docker/docker-compose.yaml and docker/.env.example: pinned images, paths that exist, every
credential from the environment, the CeleryExecutor with a reachable broker and result backend,
workers that scale, one shared Airflow environment, FAB auth. Each check also runs on a planted
bad copy, so it is known to be able to fail."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
AIRFLOW_COMMANDS = {
    "api-server",
    "scheduler",
    "dag-processor",
    "triggerer",
    "celery worker",
}
WORKER = "airflow-worker"
INIT = "airflow-init"
CREDENTIAL_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|PII_KEY|BASIC_AUTH|_CONN_|CONN$", re.I)
# ${VAR}, ${VAR:?message}, ${VAR?message}: required; ${VAR:-default}, ${VAR-default}: defaulted
REFERENCE = re.compile(r"(?<!\$)\$\{(\w+)(?:(:?[-?])([^}]*))?\}")
URL_PASSWORD = re.compile(r"://([^:/@\s]*):([^@\s]*)@")
JSON_PASSWORD = re.compile(r'"password"\s*:\s*"([^"]*)"')


def _is_reference(text: str) -> bool:
    """`text` is exactly one required `${VAR:?…}` reference."""
    match = REFERENCE.fullmatch(text)
    return bool(match) and (match.group(2) or "").endswith("?")


def _masked(text: str) -> str:
    """`text` with each required reference replaced by REF (anything else stays visible)."""
    return REFERENCE.sub(lambda m: "REF" if _is_reference(m.group(0)) else m.group(0), text)


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def airflow_services(compose: dict) -> dict[str, dict]:
    """Services that run the AI Mass Airflow image."""
    image = compose["x-airflow-common"]["image"]
    return {name: s for name, s in compose["services"].items() if s.get("image") == image}


def secret_problems(compose: dict) -> list[str]:
    problems = []
    blocks = {"x-airflow-common": compose["x-airflow-common"], **compose["services"]}
    for owner, block in blocks.items():
        for key, value in (block.get("environment") or {}).items():
            value, where = str(value), f"{owner}.{key}"
            for name, op, _ in REFERENCE.findall(value):
                if op in (":-", "-") and CREDENTIAL_NAME.search(name):
                    problems.append(f"{where}: credential {name} has a default value")
            masked = _masked(value)
            if CREDENTIAL_NAME.search(key) and "://" not in value and not value.startswith("{"):
                if masked != "REF":
                    problems.append(f"{where}: inline secret (use ${{{key}:?…}})")
            for user, password in URL_PASSWORD.findall(masked):
                if password != "REF" or user not in ("", "REF"):
                    problems.append(f"{where}: credentials written into a URL")
            for password in JSON_PASSWORD.findall(masked):
                if password != "REF":
                    problems.append(f"{where}: password written into a connection")
    return problems


def image_problems(compose: dict) -> list[str]:
    problems = []
    for name, service in compose["services"].items():
        image = str(service.get("image", ""))
        if not image:
            problems.append(f"{name}: no image")
            continue
        match = REFERENCE.fullmatch(image)
        if match:  # ${AIMASS_IMAGE:-name:tag}: judge the default
            image = match.group(3) if match.group(2) in (":-", "-") else ""
        repository, _, tag = image.rpartition(":")
        if not repository or "/" in tag or not tag or tag == "latest":
            problems.append(f"{name}: image {service['image']!r} is not pinned to a tag")
    return problems


def path_problems(compose: dict, docker_dir: Path, image_path_source) -> list[str]:
    problems = []
    for name, service in {
        "x-airflow-common": compose["x-airflow-common"],
        **compose["services"],
    }.items():
        build = service.get("build")
        if build:
            context = (docker_dir / build["context"]).resolve()
            if not context.is_dir():
                problems.append(f"{name}: build context {build['context']} does not exist")
            elif not (context / build.get("dockerfile", "Dockerfile")).is_file():
                problems.append(f"{name}: dockerfile {build.get('dockerfile')} does not exist")
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")) and not (docker_dir / source).exists():
                problems.append(f"{name}: volume source {source} does not exist")
        for word in re.findall(r"/opt/aimass/\S+", _command(service)):
            source = image_path_source(word)
            if source is None or not source.is_file():
                problems.append(f"{name}: {word} is not a file the image copies from the repo")
    return problems


def executor_problems(compose: dict) -> list[str]:
    problems = []
    env = compose["x-airflow-common"]["environment"]
    services = compose["services"]
    if env.get("AIRFLOW__CORE__EXECUTOR") != "CeleryExecutor":
        problems.append(f"executor is {env.get('AIRFLOW__CORE__EXECUTOR')}, not CeleryExecutor")
    broker = str(env.get("AIRFLOW__CELERY__BROKER_URL", ""))
    match = re.fullmatch(r"redis://[^@]*@?([\w-]+):6379/\d+", broker)
    if not match or match.group(1) not in services:
        problems.append(f"broker_url {broker!r} is not the compose Redis service")
    backend = str(env.get("AIRFLOW__CELERY__RESULT_BACKEND", ""))
    metadata = str(env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))
    if not backend.startswith("db+postgresql://"):
        problems.append("result_backend is not a db+postgresql:// URL")
    elif backend.split("@")[-1] != metadata.split("@")[-1]:
        problems.append("result_backend is not the Airflow metadata database")
    if not any("celery worker" in _command(s) for s in services.values()):
        problems.append("no service runs `airflow celery worker`")
    return problems


def scaling_problems(compose: dict) -> list[str]:
    worker = compose["services"].get(WORKER)
    if worker is None:
        return [f"no {WORKER} service"]
    return [
        f"{WORKER}: {key} stops `--scale {WORKER}=N`"
        for key in ("container_name", "ports", "hostname")
        if key in worker
    ]


def shared_env_problems(compose: dict) -> list[str]:
    common = compose["x-airflow-common"]["environment"]
    problems = []
    for name, service in airflow_services(compose).items():
        environment = service.get("environment") or {}
        missing = [k for k, v in common.items() if environment.get(k) != v]
        if missing:
            problems.append(f"{name}: does not use the shared Airflow environment ({missing[0]}…)")
    return problems


def auth_problems(compose: dict, texts: dict[str, str]) -> list[str]:
    problems = []
    for name, service in airflow_services(compose).items():
        manager = (service.get("environment") or {}).get("AIRFLOW__CORE__AUTH_MANAGER")
        if manager != FAB_AUTH_MANAGER:
            problems.append(f"{name}: auth manager {manager} is not the FAB auth manager")
    for file_name, text in texts.items():
        if "simple_auth_manager_all_admins" in text.lower():
            problems.append(f"{file_name}: mentions simple_auth_manager_all_admins")
    return problems


def component_problems(compose: dict) -> list[str]:
    problems = []
    services = airflow_services(compose)
    commands = {_command(s) for s in services.values()}
    for command in sorted(AIRFLOW_COMMANDS - commands):
        problems.append(f"no service runs `airflow {command}`")
    init = services.get(INIT)
    if init is None or "airflow-init.sh" not in _command(init):
        problems.append(f"no {INIT} service running the init script")
    for name, service in compose["services"].items():
        if "healthcheck" not in service and name != INIT:
            problems.append(f"{name}: no healthcheck")
        depends = service.get("depends_on", {})
        if isinstance(depends, list) or any("condition" not in d for d in depends.values()):
            problems.append(f"{name}: depends_on without conditions")
            continue
        if name in services and name != INIT:
            if depends.get(INIT, {}).get("condition") != "service_completed_successfully":
                problems.append(f"{name}: does not wait for {INIT} to complete")
    return problems


def _strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def env_example_problems(compose: dict, env_example_text: str) -> list[str]:
    listed = dict(
        line.split("=", 1)
        for line in env_example_text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and "=" in line
    )
    problems = [
        f"{name} is used by docker-compose.yaml but not listed in .env.example"
        for name in sorted({m[0] for text in _strings(compose) for m in REFERENCE.findall(text)})
        if name not in listed
    ]
    for name, value in listed.items():
        if CREDENTIAL_NAME.search(name) and value.strip() not in ("", "CHANGE_ME"):
            problems.append(f".env.example: {name} holds a value, not the CHANGE_ME placeholder")
    return problems


@pytest.fixture
def deployment_texts(docker_dir):
    return {
        str(p.relative_to(docker_dir)): p.read_text()
        for p in sorted(docker_dir.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def check(docker_dir, image_path_source, deployment_texts):
    def run(compose: dict) -> list[str]:
        return (
            secret_problems(compose)
            + image_problems(compose)
            + path_problems(compose, docker_dir, image_path_source)
            + executor_problems(compose)
            + scaling_problems(compose)
            + shared_env_problems(compose)
            + auth_problems(compose, deployment_texts)
            + component_problems(compose)
        )

    return run


def test_compose_keeps_every_rule(check, compose):
    assert check(compose) == []


def test_env_example_lists_every_variable_with_placeholders(compose, env_example_text):
    assert env_example_problems(compose, env_example_text) == []


def _env(compose, service=None):
    return (compose["services"][service] if service else compose["x-airflow-common"])["environment"]


def _set_env_everywhere(compose, key, value):
    for name in airflow_services(compose):
        _env(compose, name)[key] = value
    _env(compose)[key] = value


BAD_COPIES = {
    "inline superuser password": (
        lambda c: _env(c, "postgres").update(POSTGRES_PASSWORD="postgres"),
        "postgres.POSTGRES_PASSWORD: inline secret",
    ),
    "password inside the metadata URL": (
        lambda c: _env(c).update(
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:airflow@postgres/airflow"
        ),
        "credentials written into a URL",
    ),
    "password inside the warehouse connection": (
        lambda c: _env(c).update(
            AIRFLOW_CONN_AIMASS_WAREHOUSE='{"conn_type": "postgres", "password": "s3cret"}'
        ),
        "password written into a connection",
    ),
    "default for a secret": (
        lambda c: _env(c).update(AIRFLOW__API_AUTH__JWT_SECRET="${AIRFLOW_JWT_SECRET:-changeme}"),
        "has a default value",
    ),
    "latest image": (lambda c: c["services"]["redis"].update(image="redis:latest"), "redis: image"),
    "untagged image": (
        lambda c: c["services"]["postgres"].update(image="postgres"),
        "postgres: image",
    ),
    "missing bind-mount source": (
        lambda c: c["services"]["postgres"]["volumes"].append("./postgres/missing.sh:/x.sh:ro"),
        "missing.sh does not exist",
    ),
    "missing build context": (
        lambda c: c["x-airflow-common"]["build"].update(context="../no-such-dir"),
        "build context",
    ),
    "missing dockerfile": (
        lambda c: c["x-airflow-common"]["build"].update(dockerfile="docker/Nope"),
        "dockerfile",
    ),
    "init script not in the image": (
        lambda c: c["services"][INIT].update(command=["bash", "/opt/aimass/bin/missing.sh"]),
        "missing.sh is not a file the image copies",
    ),
    "local executor": (
        lambda c: _env(c).update(AIRFLOW__CORE__EXECUTOR="LocalExecutor"),
        "not CeleryExecutor",
    ),
    "broker on an unknown host": (
        lambda c: _env(c).update(
            AIRFLOW__CELERY__BROKER_URL="redis://:${REDIS_PASSWORD:?x}@cache:6379/0"
        ),
        "broker_url",
    ),
    "results in Redis": (
        lambda c: _env(c).update(AIRFLOW__CELERY__RESULT_BACKEND="redis://redis:6379/1"),
        "result_backend",
    ),
    "worker container_name": (
        lambda c: c["services"][WORKER].update(container_name="worker"),
        "container_name stops",
    ),
    "worker host port": (
        lambda c: c["services"][WORKER].update(ports=["8793:8793"]),
        "ports stops",
    ),
    "scheduler with its own environment": (
        lambda c: c["services"]["airflow-scheduler"].update(
            environment={"AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
        ),
        "airflow-scheduler: does not use the shared Airflow environment",
    ),
    "simple auth manager": (
        lambda c: _set_env_everywhere(
            c,
            "AIRFLOW__CORE__AUTH_MANAGER",
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        ),
        "is not the FAB auth manager",
    ),
    "no dag-processor": (
        lambda c: c["services"].pop("airflow-dag-processor"),
        "airflow dag-processor",
    ),
    "no healthcheck": (
        lambda c: c["services"]["airflow-triggerer"].pop("healthcheck"),
        "airflow-triggerer: no healthcheck",
    ),
    "depends_on without conditions": (
        lambda c: c["services"]["airflow-scheduler"].update(depends_on=["postgres", "redis"]),
        "depends_on without conditions",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_COPIES))
def test_check_catches_a_planted_bad_compose_file(check, compose, name):
    plant, expected = BAD_COPIES[name]
    bad = copy.deepcopy(compose)
    plant(bad)
    problems = check(bad)
    assert any(expected in p for p in problems), f"{name}: not caught, got {problems}"


def test_check_catches_all_admins_anywhere(compose, docker_dir, image_path_source):
    texts = {"helm/values.yaml": "config:\n  core:\n    simple_auth_manager_all_admins: 'True'\n"}
    assert auth_problems(compose, texts) == [
        "helm/values.yaml: mentions simple_auth_manager_all_admins"
    ]


def test_env_example_check_catches_a_missing_variable_and_a_real_value(compose, env_example_text):
    without_redis = re.sub(r"^REDIS_PASSWORD=.*$", "", env_example_text, flags=re.M)
    assert "REDIS_PASSWORD is used by docker-compose.yaml but not listed in .env.example" in (
        env_example_problems(compose, without_redis)
    )
    with_value = env_example_text.replace(
        "AIRFLOW_DB_PASSWORD=CHANGE_ME", "AIRFLOW_DB_PASSWORD=hunter22"
    )
    assert any(
        "AIRFLOW_DB_PASSWORD holds a value" in p for p in env_example_problems(compose, with_value)
    )
