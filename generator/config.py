"""Load and validate gen.yaml and the chart files beside it into the model's frozen dataclasses.

The loader composes the schema, the model and the rule modules (airflow, cluster, sync, credentials,
database, secret_providers, hardening, rules). This is the one validation point: after `load` returns,
nothing else looks at raw dicts or re-checks input. Every problem found is reported at once, one line each.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import posixpath
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from generator import schema
from generator.knowledge import (
    airflow,
    chart_values,
    charts,
    cluster,
    credentials,
    database,
    hardening,
    operations,
    rules,
    secret_providers,
    sync,
)
from generator.model import ChartPin, Config, Source, Version
from generator.plumbing import cache, values
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import load_file

CHART_PIN = Path("charts/airflow/chart.yaml")
BASE_VALUES = Path("charts/airflow/values.yaml")
CONFIG_DIGEST = "config"  # gen.yaml's entry in Source.digests


def _key(f: Any) -> str:
    """The gen.yaml key of a dataclass field: its metadata key, or the field name in camelCase."""
    if "key" in f.metadata:
        return f.metadata["key"]
    head, *rest = f.name.split("_")
    return head + "".join(part.title() for part in rest)


def _with_defaults(node_schema: dict[str, Any], data: Any) -> Any:
    """Fill every missing property that has a non-null default in the schema, recursively."""
    node_schema = schema.resolve(node_schema)
    if not isinstance(data, dict) or "properties" not in node_schema:
        return data
    filled = dict(data)
    for name, prop in node_schema["properties"].items():
        prop = schema.resolve(prop)
        if name not in filled and prop.get("default") is not None:
            filled[name] = copy.deepcopy(prop["default"])
        if name in filled:
            filled[name] = _with_defaults(prop, filled[name])
    return filled


def _optional_of(hint: Any) -> Any:
    """`X | None` -> X; any other hint unchanged."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return others[0] if len(others) == 1 else hint
    return hint


@functools.cache  # resolving the annotations of the model's classes is a third of building a Config
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, data: dict[str, Any]) -> Any:
    """Turn a validated, default-filled mapping into the dataclass `cls`."""
    hints = _hints(cls)
    kwargs = {}
    for f in fields(cls):
        if f.metadata.get("derived"):
            continue
        key = _key(f)
        if key not in data:
            continue
        value, hint = data[key], _optional_of(hints[f.name])
        if value is None or (value is False and is_dataclass(hint)):  # `ingress: false`: no such section
            value = None
        elif "mapping" in f.metadata:
            value = {k: _build(f.metadata["mapping"], v) for k, v in value.items()}
        elif is_dataclass(hint):  # `false` turns a block off: the same as leaving it out
            value = _build(hint, value) if isinstance(value, dict) else None
        elif typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            value = tuple(_build(item, v) if is_dataclass(item) else v for v in value)
        kwargs[f.name] = value
    return cls(**kwargs)


# The node's own directories: a pod writing there (logs are writable, DirectoryOrCreate) damages the node.
# Their parents are refused too: a volume at /var or /var/lib would hold the kubelet's and k3s's data.
SYSTEM_DIRS = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
               "/sbin", "/sys", "/usr", "/var/lib/kubelet", "/var/lib/rancher", "/var/lib/containerd",
               "/var/lib/docker", "/var/lib/etcd", "/var/lib/cni", "/var/log/pods", "/var/log/containers", "/var/run")


def system_directory(path: str) -> str | None:
    """The system directory of the node that `path` (canonical) is, lies in, or holds; None if none."""
    for directory in SYSTEM_DIRS:
        if path == directory or path.startswith(directory + "/") or directory.startswith(path + "/"):
            return directory
    return None


def _normalise_paths(data: dict[str, Any], label: str) -> list[str]:
    """Host paths become canonical (`/srv//a/./b/` -> `/srv/a/b`); the root, system directories, `..` and
    overlapping volumes are refused."""
    found = []
    for volume in ("dags", "logs"):
        spec = data["storage"][volume]
        where = f"{label}: storage.{volume}.hostPath"
        if ".." in spec["hostPath"].split("/"):
            found.append(f"{where}: {spec['hostPath']!r} contains '..'; write the directory itself, such as "
                         f"/srv/airflow/{volume}")
        path = posixpath.normpath(spec["hostPath"])
        path = "/" + path.lstrip("/")  # normpath keeps a leading '//' as POSIX allows; Kubernetes does not
        if path == "/":
            found.append(f"{where}: the node's root directory cannot be a volume; "
                         f"use a directory such as /srv/airflow/{volume}")
        elif system_directory(path) is not None:
            system = system_directory(path)
            if system.startswith(path + "/"):
                found.append(f"{where}: {path!r} holds {system}, a system directory of the node; use a directory "
                             f"of its own such as /srv/airflow/{volume}")
            else:
                found.append(f"{where}: {path!r} is a system directory of the node; use a directory of its own such "
                             f"as /srv/airflow/{volume}")
        spec["hostPath"] = path
    dags, logs = data["storage"]["dags"]["hostPath"], data["storage"]["logs"]["hostPath"]
    if dags == logs or dags.startswith(logs + "/") or logs.startswith(dags + "/"):
        found.append(f"{label}: storage.logs.hostPath: {logs!r} overlaps storage.dags.hostPath {dags!r}; task logs "
                     f"would land among the DAG files (or the reverse); use two separate directories such as "
                     f"/srv/airflow/dags and /srv/airflow/logs")
    return found


def _schema_problems(name: str, raw: Any, label: str) -> list[str]:
    """`raw` checked against gen's schema `name`, unless this gen, with this jsonschema, found the same document
    valid before: the cache holds only that verdict. Importing jsonschema is a quarter of a warm review."""
    # repr tells a date from a string and 2 from 2.0, as the schema does; a repr that differs only costs speed.
    key = cache.key("valid-1", cache.code_digest(), cache.package_version("jsonschema"), name, repr(raw))
    if cache.read("valid", key) == "valid":
        return []
    found = schema.problems(schema.load(name), raw, label)
    if not found:
        cache.write("valid", key, "valid")
    return found


def _load_chart_pin(project_dir: Path, digests: dict[str, str]) -> tuple[ChartPin | None, list[str]]:
    label = str(CHART_PIN)
    try:
        # The chart files are the project's own: a link there (planted in a pull request) is not followed.
        raw = load_file(CHART_PIN, label, within=project_dir, digests=digests)
    except ConfigError as exc:
        return None, exc.problems
    found = _schema_problems("chart-pin", raw, label)
    if found:
        return None, found
    pin = ChartPin(raw["repository"], raw["name"], Version.parse(raw["version"]), Version.parse(raw["airflowVersion"]))
    found = charts.pin_problems(pin.version, pin.airflow_version, label)
    return (None, found) if found else (pin, [])


def _load_base_values(project_dir: Path, digests: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    label = str(BASE_VALUES)
    try:
        raw = load_file(BASE_VALUES, label, empty_ok=True, within=project_dir, digests=digests)
    except ConfigError as exc:
        return {}, exc.problems
    if not isinstance(raw, dict):
        return {}, [f"{label}: must be a mapping of Helm values"]
    return raw, []


class _PerOverlay:
    """Stands for a key whose generated value differs between overlays (executor, redis.enabled)."""

    def __str__(self) -> str:
        return "a value per overlay"


def _generated_anywhere(per_overlay: dict[str, airflow.Generated]) -> airflow.Generated:
    merged: airflow.Generated = {}
    for generated in per_overlay.values():
        for key, (value, origin) in generated.items():
            if key in merged and merged[key][0] != value:
                merged[key] = (_PerOverlay(), "the executor overlays")
            merged.setdefault(key, (value, origin))
    return merged


def _generated_conflicts(config: Config, base: airflow.Generated,
                         per_overlay: dict[str, airflow.Generated]) -> list[str]:
    """User values (the base values file, per-overlay values) may not change what gen generates."""
    found = values.conflicts(config.base_values, {**_generated_anywhere(per_overlay), **base}, str(BASE_VALUES))
    for name, generated in per_overlay.items():
        label = f"{config.source.label}: overlays.{name}.values"
        found += values.conflicts(config.overlays[name].values, {**base, **generated}, label)
    return found


def _generated(config: Config) -> tuple[airflow.Generated, dict[str, airflow.Generated]]:
    """The chart values gen generates: the shared ones, and each overlay's delta."""
    return (chart_values.base_values(config),
            {name: chart_values.overlay_values(name, config) for name in airflow.OVERLAYS})


def _chart_rules(config: Config) -> list[str]:
    """User values whose base_url the route contradicts, or whose keys the pinned chart does not know or deprecated."""
    found = []
    sources = [(config.base_values, str(BASE_VALUES))]
    sources += [(config.overlays[name].values, f"{config.source.label}: overlays.{name}.values")
                for name in sorted(config.overlays)]
    for user, where in sources:
        found += airflow.base_url_problems(user, where, config)
        found += airflow.unknown_chart_keys(user, where, config.chart.version)
        found += airflow.deprecated_keys(user, where, config.chart.version)
    return found


def load(path: Path, label: str | None = None) -> Config:
    """Read `path` (gen.yaml) and the chart files beside it; raise ConfigError listing every problem."""
    label = label or str(path)
    project_dir = path.parent
    read: dict[str, str] = {}
    raw = load_file(path, label, digests=read)
    read[CONFIG_DIGEST] = read.pop(path.as_posix())
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: must be a mapping of settings (namespace:, ingress:, ...), not a "
                          f"{type(raw).__name__}")
    config_schema = schema.load("config")
    found = _schema_problems("config", raw, label)
    chart, chart_problems = _load_chart_pin(project_dir, read)
    base, base_problems = _load_base_values(project_dir, read)
    found += chart_problems + base_problems
    if found:
        raise ConfigError(found)

    data = _with_defaults(config_schema, raw)
    found = _normalise_paths(data, label)
    config = _build(Config, data)
    config = dataclasses.replace(config, chart=chart, base_values=base,
                                 source=Source(path=path, project_dir=project_dir, label=label,
                                               digests=tuple(sorted(read.items()))))
    found += airflow.problems(config)
    found += cluster.problems(config)
    found += sync.problems(config)
    found += database.problems(config)
    found += secret_providers.problems(config)
    found += credentials.setting_url_problems(raw, label)
    found += credentials.literal_problems(config.base_values, str(BASE_VALUES), config)
    for name, overlay in sorted(config.overlays.items()):
        found += credentials.literal_problems(overlay.values, f"{label}: overlays.{name}.values", config)
    found += _chart_rules(config)
    found += rules.problems(config)
    found += operations.problems(config)
    found += hardening.problems(config)
    if not found:  # conflicts are only meaningful for a coherent config
        found += _generated_conflicts(config, *_generated(config))
    if found:
        raise ConfigError(found)
    return config
