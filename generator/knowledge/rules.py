"""Cross-field rules that the Kubernetes API server (or gen secrets) would enforce too late.

Each would pass the config schema and even `kubectl kustomize`, then fail in the cluster: a task pod
the API server refuses at run time, two Secrets under one name, an image that runs another Airflow
major than the chart renders for. Each rule returns one line per problem, with what to write instead.
"""

from __future__ import annotations

import re

from generator.knowledge import credentials, secret_providers
from generator.knowledge.quantities import quantity
from generator.model import Config

_VERSION_TAG = re.compile(r"^(?:[a-z]+-)?(\d+)\.\d+\.\d+")


def _names(config: Config) -> list[str]:
    label = config.source.label
    if config.namespace.startswith("kube-"):
        return [f"{label}: namespace: {config.namespace!r} is reserved for Kubernetes' own components; use a "
                f"namespace of its own such as airflow"]
    return []


def _image(config: Config) -> list[str]:
    """A tag like 2.10.5-python3.12 names an Airflow version: its major must be the one the chart renders for."""
    tag = config.airflow.image.tag
    match = _VERSION_TAG.match(tag or "")
    version = config.airflow_version
    if not match or int(match[1]) == version.major:
        return []
    return [f"{config.source.label}: airflow.image.tag: {tag!r} runs Airflow {match[1]} but airflow.version is "
            f"{version}, so the chart renders Airflow {version.major}'s components; set airflow.version to the "
            f"image's Airflow version"]


def _task_pod(config: Config) -> list[str]:
    """What the API server refuses when the executor creates a task pod, long after the merge."""
    where = f"{config.source.label}: workers.kubernetes"
    pod = config.workers.kubernetes
    found = []
    limits = pod.resources.get("limits") or {}
    for name, requested in sorted((pod.resources.get("requests") or {}).items()):
        if name in limits and quantity(requested) is not None and quantity(limits[name]) is not None \
                and quantity(requested) > quantity(limits[name]):
            found.append(f"{where}.resources.requests.{name}: {requested!s} is more than the limit {limits[name]!s}; "
                         f"a pod may not request more than its limit: lower the request or raise the limit")
    for index, toleration in enumerate(pod.tolerations):
        at = f"{where}.tolerations[{index}]"
        operator = toleration.get("operator", "Equal")
        if operator == "Exists" and toleration.get("value"):
            found.append(f"{at}.value: must be empty with operator Exists; remove it, or use operator Equal")
        if operator == "Equal" and not toleration.get("key"):
            found.append(f"{at}.key: is required with operator Equal; name the taint key, or use operator Exists "
                         "to tolerate every taint")
        if "tolerationSeconds" in toleration and toleration.get("effect") != "NoExecute":
            found.append(f"{at}.tolerationSeconds: applies only with effect NoExecute; set effect: NoExecute or "
                         "remove it")
    seen: dict[str, int] = {}
    for index, variable in enumerate(pod.env):
        if variable["name"] in seen:
            found.append(f"{where}.env[{index}].name: {variable['name']!r} is already set in "
                         f"env[{seen[variable['name']]}]; keep one")
        seen.setdefault(variable["name"], index)
    return found


def _secrets(config: Config) -> list[str]:
    """Two credentials under one Secret name. With secrets.provider manual the Secret is the user's (the External
    Secrets pattern: one Secret, the chart's distinct key names), so credentials may share it if their keys differ;
    gen's own providers write one Secret per credential, and would write one over the other."""
    taken: dict[str, str] = {}
    keys: dict[str, set[str]] = {}
    if config.ingress is not None and config.ingress.tls.secret_name:
        taken[config.ingress.tls.secret_name] = "ingress.tls.secretName"
    found = []
    shared = config.secrets.provider == secret_providers.MANUAL
    for spec in credentials.SPECS:
        if spec.setting == credentials.BACKUP_BUCKET:
            continue  # the bucket's Secret may share with none: operations' rule, which says why
        name, own = credentials.name(config, spec), set(credentials.secret_keys(config, spec))
        setting = spec.where
        if name in taken and not (shared and name in keys and not own & keys[name]):
            found.append(f"{config.source.label}: {setting}: {name!r} is also the Secret of {taken[name]}; each "
                         f"needs a Secret of its own (gen secrets would write one over the other), or, with "
                         f"secrets.provider manual, keys of its own")
        taken.setdefault(name, setting)
        keys.setdefault(name, set()).update(own)
    return found


def problems(config: Config) -> list[str]:
    return _names(config) + _image(config) + _task_pod(config) + _secrets(config)
