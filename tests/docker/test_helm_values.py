"""docker/helm/values.yaml for the official Airflow chart: the image built here, the CeleryExecutor,
external PostgreSQL and every credential through Kubernetes Secrets, FAB auth, sized components.
Each check also runs on a planted bad copy, so it is known to be able to fail."""

from __future__ import annotations

import copy
import re

import pytest

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SECRET_NAME_KEYS = ("fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName")
INLINE_SECRET_KEYS = ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey")
SIZED_COMPONENTS = ("apiServer", "scheduler", "dagProcessor", "triggerer", "workers")
# keys that hold a secret's value (`secretKey` in `secret:` entries names a key inside a Secret)
SECRET_VALUE_KEY = re.compile(r"(password|pass|secret|token|fernetkey|secretkey)$", re.I)
URL_PASSWORD = re.compile(r"://[^:/@\s]*:[^@\s]+@")


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")
    else:
        yield path, node


def helm_problems(
    values: dict, *, airflow_pin: str, image_path_source, image_tag: str
) -> list[str]:
    problems = []
    if values.get("executor") != "CeleryExecutor":
        problems.append(f"executor {values.get('executor')} is not CeleryExecutor")
    if str(values.get("airflowVersion")) != airflow_pin:
        problems.append(f"airflowVersion {values.get('airflowVersion')} is not {airflow_pin}")

    image = values.get("images", {}).get("airflow", {})
    tag = str(image.get("tag") or "")
    if not image.get("repository") or not tag or tag == "latest":
        problems.append("images.airflow is not a repository with a pinned tag")
    elif tag != image_tag:
        problems.append(f"images.airflow.tag {tag} is not the compose image tag {image_tag}")

    data = values.get("data", {})
    if values.get("postgresql", {}).get("enabled", True):
        problems.append("postgresql.enabled: the chart's own PostgreSQL is for demos only")
    if not data.get("metadataSecretName"):
        problems.append("data.metadataSecretName is not set")
    if "metadataConnection" in data or "resultBackendConnection" in data:
        problems.append("database credentials inline under data; use the *SecretName keys")
    if values.get("redis", {}).get("enabled") and not (
        data.get("brokerUrlSecretName") and values["redis"].get("passwordSecretName")
    ):
        problems.append(
            "the chart's Redis needs redis.passwordSecretName and data.brokerUrlSecretName"
        )
    for key in SECRET_NAME_KEYS:
        if not values.get(key):
            problems.append(f"{key} is not set")
    for key in INLINE_SECRET_KEYS:
        if values.get(key):
            problems.append(f"{key}: inline secret")

    warehouse = [
        s for s in values.get("secret", []) if s.get("envName") == "AIRFLOW_CONN_AIMASS_WAREHOUSE"
    ]
    if not warehouse or not (warehouse[0].get("secretName") and warehouse[0].get("secretKey")):
        problems.append("AIRFLOW_CONN_AIMASS_WAREHOUSE does not come from a Kubernetes secret")
    for entry in values.get("env", []):
        if entry.get("name", "").startswith("AIRFLOW_CONN_") or SECRET_VALUE_KEY.search(
            entry.get("name", "").replace("_", "")
        ):
            problems.append(f"env {entry.get('name')}: secret in plain env; use `secret:`")

    core = values.get("config", {}).get("core", {})
    if core.get("auth_manager") != FAB_AUTH_MANAGER:
        problems.append("config.core.auth_manager is not the FAB auth manager")
    for path, value in _walk(values):
        if "simple_auth_manager_all_admins" in path.lower():
            problems.append(f"{path}: all-admins mode")
        leaf = path.rsplit(".", 1)[-1]
        if (
            isinstance(value, str)
            and value
            and SECRET_VALUE_KEY.search(leaf)
            and leaf != "secretKey"
        ):
            problems.append(f"{path}: inline secret")
        if isinstance(value, str) and URL_PASSWORD.search(value):
            problems.append(f"{path}: credentials written into a URL")

    if int(values.get("workers", {}).get("replicas", 0)) < 2:
        problems.append("workers.replicas: fewer than two Celery workers")
    for component in SIZED_COMPONENTS:
        resources = values.get(component, {}).get("resources", {})
        if not (resources.get("requests") and resources.get("limits")):
            problems.append(f"{component}.resources: requests and limits not both set")

    args = " ".join(str(a) for a in values.get("createUserJob", {}).get("args", []))
    scripts = re.findall(r"/opt/aimass/\S+\.sh", args)
    if not scripts:
        problems.append("createUserJob does not run the image's create-users script")
    for script in scripts:
        source = image_path_source(script)
        if source is None or not source.is_file():
            problems.append(f"createUserJob: {script} is not a file the image copies from the repo")
    return problems


@pytest.fixture
def compose_image_tag(compose):
    image = compose["x-airflow-common"]["image"]
    match = re.fullmatch(r"\$\{\w+:-([^}]+)\}", image)
    return (match.group(1) if match else image).rpartition(":")[2]


@pytest.fixture
def check(airflow_pin, image_path_source, compose_image_tag):
    return lambda values: helm_problems(
        values,
        airflow_pin=airflow_pin,
        image_path_source=image_path_source,
        image_tag=compose_image_tag,
    )


def test_helm_values_keep_every_rule(check, helm_values):
    assert check(helm_values) == []


def _set(path: str, value):
    def plant(values):
        *parents, leaf = path.split(".")
        node = values
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value

    return plant


BAD_COPIES = {
    "kubernetes executor": (_set("executor", "LocalExecutor"), "is not CeleryExecutor"),
    "other Airflow version": (_set("airflowVersion", "3.1.3"), "airflowVersion"),
    "latest image": (_set("images.airflow.tag", "latest"), "pinned tag"),
    "image tag unlike compose": (_set("images.airflow.tag", "0.0.9"), "compose image tag"),
    "bundled PostgreSQL": (_set("postgresql.enabled", True), "postgresql.enabled"),
    "no metadata secret": (_set("data.metadataSecretName", None), "metadataSecretName"),
    "inline metadata connection": (
        _set("data.metadataConnection", {"user": "airflow", "pass": "airflow"}),
        "inline under data",
    ),
    "inline fernet key": (_set("fernetKey", "c2VjcmV0"), "fernetKey: inline secret"),
    "no JWT secret": (_set("jwtSecretName", None), "jwtSecretName is not set"),
    "warehouse not from a secret": (
        lambda v: v.update(
            secret=[s for s in v["secret"] if s["envName"] != "AIRFLOW_CONN_AIMASS_WAREHOUSE"]
        ),
        "AIRFLOW_CONN_AIMASS_WAREHOUSE",
    ),
    "connection in plain env": (
        lambda v: v["env"].append(
            {"name": "AIRFLOW_CONN_AIMASS_WAREHOUSE", "value": "postgres://a:b@h/db"}
        ),
        "secret in plain env",
    ),
    "password in a URL": (
        _set("config.logging.remote_base_log_folder", "s3://user:hunter2@bucket/logs"),
        "credentials written into a URL",
    ),
    "default user password": (_set("webserver.defaultUser.password", "admin"), "inline secret"),
    "simple auth manager": (
        _set(
            "config.core.auth_manager",
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        ),
        "not the FAB auth manager",
    ),
    "all admins": (_set("config.core.simple_auth_manager_all_admins", "True"), "all-admins"),
    "one worker": (_set("workers.replicas", 1), "fewer than two"),
    "unsized scheduler": (_set("scheduler.resources", {}), "scheduler.resources"),
    "redis without password secret": (_set("redis.passwordSecretName", None), "passwordSecretName"),
    "create-user script missing": (
        _set("createUserJob.args", ["bash", "/opt/aimass/bin/nope.sh"]),
        "nope.sh is not a file",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_COPIES))
def test_check_catches_planted_bad_helm_values(check, helm_values, name):
    plant, expected = BAD_COPIES[name]
    bad = copy.deepcopy(helm_values)
    plant(bad)
    problems = check(bad)
    assert any(expected in p for p in problems), f"{name}: not caught, got {problems}"
