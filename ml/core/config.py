"""Typed model settings from YAML: the packaged `ml/conf/<file>`, then a user file, then
overrides. The packaged YAML is the only source of defaults: the dataclasses have none."""

from __future__ import annotations

import copy
import os
import typing
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ml.core.errors import ConfigError


def packaged_config_path(name: str) -> Path:
    """A YAML shipped in `ml/conf/`."""
    return Path(str(resources.files("ml") / "conf" / name))


def read_yaml(path: Path) -> dict:
    """The mapping a settings file holds."""
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist; pass an existing YAML.")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(raw).__name__}.")
    return raw


def merge(target: dict, keys: list[str], value: Any) -> None:
    """Set `target[k1][k2]... = value`, merging a mapping into an existing section."""
    head, *rest = keys
    if rest:
        merge(target.setdefault(head, {}), rest, value)
    elif isinstance(value, dict) and isinstance(target.get(head), dict):
        merged = copy.deepcopy(target[head])
        for sub_key, sub_value in value.items():
            merge(merged, [sub_key], sub_value)
        target[head] = merged
    else:
        target[head] = value


def build(cls, values: dict, where: str):
    """`cls` from a mapping: nested dataclasses from sections, lists as tuples; every setting
    must be given (the packaged YAML has them all) and none may be unknown."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a mapping, got {values!r}.")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"Unknown setting(s) {unknown} in {where}; valid keys are {sorted(known)}."
        )
    missing = sorted(known - set(values))
    if missing:
        raise ConfigError(
            f"Setting(s) {missing} missing in {where}; the packaged YAML sets them all."
        )
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if is_dataclass(hint):
            kwargs[name] = build(hint, value or {}, f"{where}.{name}")
        elif isinstance(value, list):
            kwargs[name] = tuple(value)  # frozen settings stay hashable
        else:
            kwargs[name] = value
    return cls(**kwargs)


def load_settings(
    cls,
    file_name: str,
    *,
    env: str,
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    check_user: Callable[[dict, str], None] | None = None,
):
    """The packaged `ml/conf/<file_name>`, then the settings of `path` (or of the file named by
    `$<env>`) merged over it, then `overrides`: top-level keys (`retrain_after_days=0`), nested
    dicts merged into a section (`windows={"train_days": 90}`), or `section__key`
    (`lightgbm__num_boost_round=50`). `check_user` sees what the user file and the overrides set
    (to refuse settings that moved elsewhere)."""
    raw = read_yaml(packaged_config_path(file_name))
    user_path = path if path is not None else os.environ.get(env) or None
    if user_path is not None:
        user = read_yaml(Path(user_path))
        if check_user:
            check_user(user, str(user_path))
        for key, value in user.items():
            merge(raw, [key], value)
    tree: dict = {}
    for key, value in (overrides or {}).items():
        merge(tree, key.split("__"), value)
    if check_user:
        check_user(tree, "the overrides")
    for key, value in tree.items():
        merge(raw, [key], value)
    return build(cls, raw, "config")
