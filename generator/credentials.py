"""Every credential the chart needs comes from a Kubernetes Secret that gen names and never fills.

The table below says which Secret, with which keys, the chart reads for which Airflow version and
executor (AIRFLOW-CHART.md §5). `gen secrets` fills the same table with fresh random values, so the
metadata connection and broker URL always agree with the passwords inside them.
"""

from __future__ import annotations

import base64
import json
import secrets as random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import airflow, database, names
from .model import Config
from .values import lookup

ADMIN_PASSWORD_PATH = "createUserJob.defaultUser.password"


@dataclass(frozen=True)
class SecretSpec:
    setting: str  # key under `secrets:` in gen.yaml
    suffix: str  # default name: <release>-<suffix>
    keys: tuple[str, ...]
    chart_key: str | None  # the chart value that names the Secret (None: passed through valuesFrom)
    needed: Callable[[Config, str], bool]  # (config, overlay) -> does this overlay read it?


def _always(_config: Config, _overlay: str) -> bool:
    return True


def _airflow_3(config: Config, _overlay: str) -> bool:
    return airflow.is_airflow_3(config.airflow_version)


def _airflow_2(config: Config, _overlay: str) -> bool:
    return not airflow.is_airflow_3(config.airflow_version)


def _bundled(config: Config, _overlay: str) -> bool:
    return database.uses_bundled(config)


def _celery(config: Config, overlay: str) -> bool:
    return "Celery" in airflow.executor(overlay, config)


SPECS = (
    SecretSpec("fernetKey", "fernet-key", ("fernet-key",), "fernetKeySecretName", _always),
    SecretSpec("apiSecretKey", "api-secret-key", ("api-secret-key",), "apiSecretKeySecretName", _airflow_3),
    SecretSpec("jwtSecret", "jwt-secret", ("jwt-secret",), "jwtSecretName", _airflow_3),
    SecretSpec("webserverSecretKey", "webserver-secret-key", ("webserver-secret-key",),
               "webserverSecretKeySecretName", _airflow_2),
    SecretSpec("postgresql", "postgresql", ("postgres-password", "password"), "postgresql.auth.existingSecret",
               _bundled),
    SecretSpec("metadata", "metadata", ("connection",), "data.metadataSecretName", _always),
    SecretSpec("redisPassword", "redis-password", ("password",), "redis.passwordSecretName", _celery),
    SecretSpec("brokerUrl", "broker-url", ("connection",), "data.brokerUrlSecretName", _celery),
    SecretSpec("adminPassword", "admin-password", ("password",), None, _always),
)

# Chart values that hold a credential in plain text, and the Secret that replaces each.
LITERAL_PATHS = {
    "fernetKey": "fernetKey", "webserverSecretKey": "webserverSecretKey", "apiSecretKey": "apiSecretKey",
    "jwtSecret": "jwtSecret", "data.metadataConnection.pass": "metadata", "data.metadataConnection.user": "metadata",
    "data.resultBackendConnection.pass": "metadata", "data.brokerUrl": "brokerUrl", "redis.password": "redisPassword",
    "postgresql.auth.password": "postgresql", "postgresql.auth.postgresPassword": "postgresql",
    "webserver.defaultUser.password": "adminPassword", ADMIN_PASSWORD_PATH: "adminPassword",
    "flower.password": "flower", "flower.secretName": "flower", "dags.gitSync.sshKey": "gitSync",
    "elasticsearch.connection.pass": "elasticsearch",
}


def name(config: Config, spec: SecretSpec) -> str:
    return getattr(config.secrets, _field(spec.setting)) or f"{config.release}-{spec.suffix}"


def _field(setting: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in setting)


def spec(setting: str) -> SecretSpec:
    return next(s for s in SPECS if s.setting == setting)


def base_values(config: Config) -> airflow.Generated:
    """Secret names every overlay shares (the ones whose need does not depend on the executor)."""
    return {s.chart_key: (name(config, s), f"secrets.{s.setting}") for s in SPECS
            if s.chart_key and s.needed is not _celery and s.needed(config, "")}


def overlay_values(overlay: str, config: Config) -> airflow.Generated:
    return {s.chart_key: (name(config, s), f"secrets.{s.setting}") for s in SPECS
            if s.chart_key and s.needed is _celery and s.needed(config, overlay)}


def values_from(config: Config) -> list[dict[str, Any]]:
    """HelmRelease valuesFrom: the admin password, verbatim (`literal`), from its Secret."""
    return [{"kind": "Secret", "name": name(config, spec("adminPassword")), "valuesKey": "password",
             "targetPath": airflow.chart_key(ADMIN_PASSWORD_PATH, config.chart.version), "literal": True}]


K3S_VALUES_KEY = "values.yaml"


def k3s_engine(config: Config) -> bool:
    return config.gitops.engine == "k3s"


def values_secrets(config: Config) -> list[dict[str, Any]]:
    """HelmChart valuesSecrets: k3s has no valuesFrom targetPath, only whole values files from Secret keys.

    The admin password's Secret therefore holds a small values file, and lives beside the HelmChart
    in kube-system (helm-controller reads Secrets only from the HelmChart's namespace).
    """
    return [{"name": name(config, spec("adminPassword")), "keys": [K3S_VALUES_KEY]}]


def secret_namespace(config: Config, secret: SecretSpec) -> str:
    return names.K3S_NAMESPACE if secret.setting == "adminPassword" and k3s_engine(config) else config.namespace


def secret_keys(config: Config, secret: SecretSpec) -> tuple[str, ...]:
    if secret.setting == "metadata":
        return metadata_keys(config)
    return (K3S_VALUES_KEY,) if secret.setting == "adminPassword" and k3s_engine(config) else secret.keys


def _admin_content(config: Config, password: str) -> dict[str, str]:
    if not k3s_engine(config):
        return {"password": password}
    nested: dict[str, Any] = password  # type: ignore[assignment]
    for part in reversed(ADMIN_PASSWORD_PATH.split(".")):
        nested = {part: nested}
    return {K3S_VALUES_KEY: json.dumps(nested)}  # JSON is YAML; Helm reads it as a values file


def literal_problems(values: Mapping[str, Any], label: str, config: Config) -> list[str]:
    """A credential written into values would be committed to Git: name the path and the Secret instead."""
    found = []
    for path, setting in sorted(LITERAL_PATHS.items()):
        hit = lookup(values, tuple(path.split(".")))
        if hit is None or hit[0] != tuple(path.split(".")) or hit[1] in (None, ""):
            continue
        if setting in {s.setting for s in SPECS}:
            instead = (f"gen points the chart at Secret {name(config, spec(setting))} (secrets.{setting}); "
                       f"create it with `gen secrets`")
        else:
            instead = "reference a Secret by name instead (see the chart's *SecretName values)"
        found.append(f"{label}: {path}: a credential written here would be committed to Git; remove it: {instead}")
    return found


def metadata_keys(config: Config) -> tuple[str, ...]:
    """CloudNativePG bootstraps the owner from the same Secret: basic-auth keys beside `connection`."""
    if config.database.type == database.CLOUDNATIVEPG:
        return ("username", "password", "connection")
    return spec("metadata").keys


def secret_type(config: Config, secret: SecretSpec) -> str:
    if secret.setting == "metadata" and config.database.type == database.CLOUDNATIVEPG:
        return "kubernetes.io/basic-auth"  # what CloudNativePG requires of bootstrap.initdb.secret
    return "Opaque"


def required(config: Config, overlays: Sequence[str]) -> list[tuple[SecretSpec, str]]:
    """The Secrets the selected overlays read, in a stable order: (spec, name)."""
    return [(s, name(config, s)) for s in SPECS if any(s.needed(config, o) for o in overlays)]


def new_password() -> str:
    # URL-safe, so it can stand inside a connection URL (and a quoted SQL string) without escaping.
    return random.token_urlsafe(24)


_password = new_password


def fill(config: Config, overlays: Sequence[str], owner_password: str | None = None) -> list[dict[str, Any]]:
    """Secret manifests with fresh random values of the right form. Never written to a file by gen.

    `owner_password` is the database owner's (external, cloudnativepg); the caller passes it when it
    also prints it elsewhere, as `gen secrets` does in the SQL for an external server.
    """
    postgres, redis, owner = _password(), _password(), owner_password or _password()
    host = f"{config.release}-postgresql.{config.namespace}"
    if database.uses_bundled(config):
        metadata = {"connection": f"postgresql://postgres:{postgres}@{host}:5432/postgres?sslmode=disable"}
    elif config.database.type == database.CLOUDNATIVEPG:
        metadata = {"username": config.database.user, "password": owner,
                    "connection": database.connection(config, owner)}
    else:
        metadata = {"connection": database.connection(config, owner)}
    content = {
        "fernetKey": {"fernet-key": base64.urlsafe_b64encode(random.token_bytes(32)).decode()},
        "apiSecretKey": {"api-secret-key": random.token_urlsafe(32)},
        "jwtSecret": {"jwt-secret": random.token_urlsafe(32)},
        "webserverSecretKey": {"webserver-secret-key": random.token_urlsafe(32)},
        "postgresql": {"postgres-password": postgres, "password": _password()},
        "metadata": metadata,
        "redisPassword": {"password": redis},
        "brokerUrl": {"connection": f"redis://:{redis}@{config.release}-redis:6379/0"},
        "adminPassword": _admin_content(config, _password()),
    }
    return [{"apiVersion": "v1", "kind": "Secret", "type": secret_type(config, s),
             "metadata": {"name": secret_name, "namespace": secret_namespace(config, s)},
             "stringData": content[s.setting]} for s, secret_name in required(config, overlays)]

