"""Every credential the chart needs comes from a Kubernetes Secret that gen names and never fills.

The table below says which Secret, with which keys, the chart reads for which Airflow version and
executor (AIRFLOW-CHART.md §5), and the one the CloudNativePG ObjectStore reads the backup bucket's keys
from. `gen secrets` fills the same table with fresh random values, so the metadata connection and broker
URL always agree with the passwords inside them; a Secret whose values only the user has (an external
broker's URL, the bucket's keys) is `unfillable`, and every consumer of the table leaves it to the user.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.knowledge import airflow, credential_text, database, names, sync
from generator.model import Config
from generator.schema import dotted

ADMIN_PASSWORD_PATH = "createUserJob.defaultUser.password"


@dataclass(frozen=True)
class SecretSpec:
    setting: str  # key under `secrets:` in gen.yaml (for a Secret named elsewhere, the row's own word)
    suffix: str  # default name: <release>-<suffix>
    keys: tuple[str, ...]
    chart_key: str | None  # the chart value that names the Secret (None: passed through valuesFrom, or not the chart's)
    needed: Callable[[Config, str], bool]  # (config, overlay) -> does this overlay read it?
    # A Secret that another part of gen.yaml names instead of `secrets:`: that setting, and its value.
    path: str | None = None
    named: Callable[[Config], str | None] | None = None

    @property
    def where(self) -> str:
        """The gen.yaml setting that names this Secret, for messages."""
        return self.path or f"secrets.{self.setting}"


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


EXTERNAL_BROKER = "external"  # workers.celery.broker: a broker the user runs, whose URL only the user knows


def external_broker(config: Config) -> bool:
    return config.workers.celery.broker == EXTERNAL_BROKER


def _bundled_redis(config: Config, overlay: str) -> bool:
    return _celery(config, overlay) and not external_broker(config)


def _backups(config: Config, _overlay: str) -> bool:
    return database.backup(config) is not None


def _bucket_secret(config: Config) -> str | None:
    backup = database.backup(config)
    return backup.object_store.secret if backup else None


BACKUP_BUCKET = "backupBucket"  # the bucket CloudNativePG backs up to: its credentials are the user's
_PER_OVERLAY = (_celery, _bundled_redis)  # needs that depend on the executor: the overlays name these Secrets


SPECS = (
    SecretSpec("fernetKey", "fernet-key", ("fernet-key",), "fernetKeySecretName", _always),
    SecretSpec("apiSecretKey", "api-secret-key", ("api-secret-key",), "apiSecretKeySecretName", _airflow_3),
    SecretSpec("jwtSecret", "jwt-secret", ("jwt-secret",), "jwtSecretName", _airflow_3),
    SecretSpec("webserverSecretKey", "webserver-secret-key", ("webserver-secret-key",),
               "webserverSecretKeySecretName", _airflow_2),
    SecretSpec("postgresql", "postgresql", ("postgres-password", "password"), "postgresql.auth.existingSecret",
               _bundled),
    SecretSpec("metadata", "metadata", ("connection",), "data.metadataSecretName", _always),
    SecretSpec("redisPassword", "redis-password", ("password",), "redis.passwordSecretName", _bundled_redis),
    SecretSpec("brokerUrl", "broker-url", ("connection",), "data.brokerUrlSecretName", _celery),
    SecretSpec("adminPassword", "admin-password", ("password",), None, _always),
    SecretSpec(BACKUP_BUCKET, "db-backup-s3", database.OBJECT_STORE_KEYS, None, _backups,
               path="database.cloudnativepg.backup.objectStore.secret", named=_bucket_secret),
)

# Where a chart value's credential belongs instead: the Secret gen already points the chart at. Only
# for the hint in the message; what counts as a credential is decided by the rules below, anywhere.
_INSTEAD = {
    "fernetKey": "fernetKey", "webserverSecretKey": "webserverSecretKey", "apiSecretKey": "apiSecretKey",
    "jwtSecret": "jwtSecret", "data.metadataConnection": "metadata", "data.resultBackendConnection": "metadata",
    "data.brokerUrl": "brokerUrl", "redis.password": "redisPassword", "postgresql.auth": "postgresql",
    "webserver.defaultUser.password": "adminPassword", ADMIN_PASSWORD_PATH: "adminPassword",
    "config.core.fernet_key": "fernetKey", "config.database.sql_alchemy_conn": "metadata",
    "config.core.sql_alchemy_conn": "metadata", "config.api_auth.jwt_secret": "jwtSecret",
    "config.api.secret_key": "apiSecretKey", "config.webserver.secret_key": "webserverSecretKey",
    "config.celery.broker_url": "brokerUrl",
}
def name(config: Config, spec: SecretSpec) -> str:
    chosen = spec.named(config) if spec.named else getattr(config.secrets, _field(spec.setting))
    return chosen or f"{config.release}-{spec.suffix}"


def _field(setting: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in setting)


def spec(setting: str) -> SecretSpec:
    return next(s for s in SPECS if s.setting == setting)


def base_values(config: Config) -> airflow.Generated:
    """Secret names every overlay shares (the ones whose need does not depend on the executor)."""
    return {s.chart_key: (name(config, s), s.where) for s in SPECS
            if s.chart_key and s.needed not in _PER_OVERLAY and s.needed(config, "")}


def overlay_values(overlay: str, config: Config) -> airflow.Generated:
    return {s.chart_key: (name(config, s), s.where) for s in SPECS
            if s.chart_key and s.needed in _PER_OVERLAY and s.needed(config, overlay)}


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


# Key names that mean a credential, compared without case, `_` or `-`: a leaf whose key contains one
# holds a secret, unless the key names a reference to one (below).
_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey", "sshkey",
                 "fernetkey", "credential", "keytab", "clientkey", "accesskey", "signingkey", "encryptionkey")
_PASSWORD_KEYS = ("pass", "pwd")  # a whole key (or its end): registry.connection.pass
_CONNECTION_ENDINGS = ("conn", "connection", "connectionstring", "dsn")  # text that carries a password
# Keys that name a Secret, a key inside one, a file or a switch, never the credential itself.
_REFERENCE_ENDINGS = ("name", "names", "ref", "path", "file", "dir", "enabled", "length", "type", "mode",
                      "policy", "secrets", "credentialssecret", "sshkeysecret", "passwordsecret", "tokensecret",
                      "certsecret", "configsecret", "keysecret", "passwordkey", "tokenkey", "userkey")
_REFERENCE_PARENTS = ("secretkeys", "secretkeyref", "secretref", "valuefrom", "enablebuiltinsecretenvvars")
# A URL with a password in its user part (scheme://user:password@host), anywhere in a text.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:[^\s/?#@]+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_TEMPLATE = re.compile(r"\{\{.*\}\}", re.DOTALL)


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _is_reference(key: str, siblings: set[str], parent: str) -> bool:
    if key.endswith(_REFERENCE_ENDINGS) or key.startswith("existing") or parent.endswith(_REFERENCE_PARENTS):
        return True
    # secretKey beside secretName, statsSecretKey beside statsSecretName: the key inside that Secret.
    return key.endswith("key") and f"{key[:-3]}name" in siblings


def _secret_key(key: str, value: Any, siblings: set[str], parent: str) -> bool:
    """Whether the leaf `key: value` holds a credential by what its key means."""
    if value is None or isinstance(value, bool) or value == "" or _is_reference(key, siblings, parent):
        return False
    if isinstance(value, str) and _TEMPLATE.fullmatch(value.strip()):
        return False  # a Helm template naming another value, not a literal
    if isinstance(value, (int, float)):  # counts and limits are numbers; only a password can be one
        return "password" in key or "passwd" in key or key.endswith(_PASSWORD_KEYS)
    if not isinstance(value, str):
        return False
    return (any(word in key for word in _SECRET_WORDS) or key.endswith(_PASSWORD_KEYS)
            or key.endswith(_CONNECTION_ENDINGS))


def credential_paths(values: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """(key path, why) for every place in `values` that holds a credential, decided by what it is:

    - a key whose name means a secret (password, token, fernet_key, sql_alchemy_conn, ...), at any depth;
    - text holding a URL with a password in its user part, or a private key, under any key;
    - `stringData` or `data` of a Secret (extraSecrets, secret);
    - an environment variable (`name:`, `value:`) whose name means a secret.
    """
    found: list[tuple[tuple[str | int, ...], str]] = []

    def text_problem(value: str) -> str | None:
        if _URL_PASSWORD.search(value):
            return "holds a URL with a password in it (user:password@)"
        if _PRIVATE_KEY.search(value):
            return "holds a private key"
        return credential_text.problem(value, credential_paths)  # JSON, YAML text, URLs, airflow.cfg lines

    def walk(node: Any, path: tuple[str | int, ...], parent: str, in_secret: bool) -> None:
        if isinstance(node, Mapping):
            siblings = {_normal(str(k)) for k in node}
            name = node.get("name")
            if isinstance(name, str) and "value" in node and _secret_key(_normal(name), node["value"], set(), ""):
                found.append(((*path, "value"), f"sets the secret {name} in plain text"))
            for key, value in node.items():
                normal = _normal(str(key))
                at = (*path, str(key))
                if in_secret and normal in ("stringdata", "data") and value not in (None, "", {}):
                    found.append((at, "is the content of a Secret"))
                    continue
                if not isinstance(value, (Mapping, list)) and _secret_key(normal, value, siblings, parent):
                    found.append((at, "is a credential"))
                    continue
                walk(value, at, normal, in_secret or "secret" in normal)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*path, index), parent, in_secret)
        elif isinstance(node, str):
            why = text_problem(node)
            if why:
                found.append((path, why))

    walk(values, (), "", False)
    return found


def setting_url_problems(raw: Any, label: str) -> list[str]:
    """A URL in a gen.yaml setting (remote.baseLogFolder, ...) is written into a committed file: it may
    carry no credential. flux.cluster.url is sync's (its hint names flux.cluster.secretName); Helm values
    are the values guard's."""
    found = []

    def walk(node: Any, path: list[str | int]) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not (len(path) == 2 and path[0] == "overlays" and key == "values"):
                    walk(value, [*path, str(key)])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, [*path, index])
        elif isinstance(node, str) and "://" in node and dotted(path) != "flux.cluster.url":
            why = sync.url_credential_problem(node)
            if why:
                found.append(f"{label}: {dotted(path)}: {why}; write the URL without it and keep the credentials "
                             f"in a Secret")

    walk(raw, [])
    return found


def secrets_inside(text: str) -> list[str]:
    """The credentials inside a text the chart parses (see credential_text), to mask them in messages."""
    return credential_text.secrets(text, credential_paths)


def is_credential(dotted_path: str, value: Any) -> bool:
    """Whether `value` at the dotted values key `dotted_path` holds a credential, by the rules above."""
    node: Any = value
    for key in reversed(dotted_path.split(".")):
        node = {key: node}
    return bool(credential_paths(node))


def _instead(path: tuple[str | int, ...], config: Config) -> str:
    keys = [str(p) for p in path if not isinstance(p, int)]
    for depth in range(len(keys), 0, -1):
        setting = _INSTEAD.get(".".join(keys[:depth]))
        if setting:
            return (f"gen points the chart at Secret {name(config, spec(setting))} ({spec(setting).where}); "
                    f"create it with `gen secrets`")
    return credential_text.instead(path) or "reference a Secret by name instead (see the chart's *SecretName values)"


def literal_problems(values: Mapping[str, Any], label: str, config: Config) -> list[str]:
    """A credential written into values would be committed to Git: name the path and the Secret instead.

    The value itself is never shown.
    """
    found = []
    for path, why in credential_paths(values):
        hint = _instead(path, config)
        if why == "is a credential":
            found.append(f"{label}: {dotted(list(path))}: a credential written here would be committed to Git; "
                         f"remove it: {hint}")
        else:
            found.append(f"{label}: {dotted(list(path))}: {why}, so a credential would be committed to Git; "
                         f"remove it: {hint}")
    return sorted(set(found))


def metadata_keys(config: Config) -> tuple[str, ...]:
    """CloudNativePG bootstraps the owner from the same Secret: basic-auth keys beside `connection`."""
    if config.database.type == database.CLOUDNATIVEPG:
        return ("username", "password", "connection")
    return spec("metadata").keys


def secret_type(config: Config, secret: SecretSpec) -> str:
    if secret.setting == "metadata" and config.database.type == database.CLOUDNATIVEPG:
        return "kubernetes.io/basic-auth"  # what CloudNativePG requires of bootstrap.initdb.secret
    return "Opaque"


def unfillable(config: Config, secret: SecretSpec) -> str | None:
    """Why gen cannot make this Secret's values (the user's own, such as an external broker's URL), or None."""
    if secret.setting == "brokerUrl" and external_broker(config):
        return (f"the URL of the external broker (workers.celery.broker {EXTERNAL_BROKER}) is yours: create Secret "
                f"{name(config, secret)} with key connection (such as redis://:PASSWORD@host:6379/0) yourself")
    if secret.setting == BACKUP_BUCKET and (backup := database.backup(config)):
        return (f"the backup bucket's keys are yours: create Secret {name(config, secret)} with keys "
                f"{' and '.join(secret.keys)}, credentials that may write to {backup.object_store.destination_path}, "
                f"yourself")
    return None


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
        BACKUP_BUCKET: dict.fromkeys(database.OBJECT_STORE_KEYS, ""),  # unfillable: callers leave it out
    }
    return [{"apiVersion": "v1", "kind": "Secret", "type": secret_type(config, s),
             "metadata": {"name": secret_name, "namespace": secret_namespace(config, s)},
             "stringData": content[s.setting]} for s, secret_name in required(config, overlays)]

