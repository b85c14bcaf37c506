"""How the Secrets the release reads reach the cluster: `secrets.provider`.

- manual: `gen secrets` prints them; the user applies them (the default, and gen's output without a tree
  of Secrets).
- sops: `gen secrets --write` commits each as `<secrets.sops.path>/<name>.sops.yaml`, encrypted by sops for
  the age recipients with only `data`/`stringData` encrypted, so names and types stay reviewable; Flux's
  kustomize-controller decrypts them with the age key in the `sops-age` Secret of flux-system.
- external-secrets: gen writes an ExternalSecret per Secret to dist/secrets; the External Secrets Operator
  fills each from one key of the team's store, whose properties are the Secret's keys.

With a provider, the Secrets form a tree that Flux applies first: it holds the release Namespace (the
Secrets need it, and no two Kustomizations may own one object), and the release's Kustomization (and the
database's) `dependsOn` it.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from generator.knowledge import airflow, credentials, database, sync
from generator.knowledge.credentials import SecretSpec
from generator.model import Config
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import dump_documents

MANUAL, SOPS, EXTERNAL_SECRETS = "manual", "sops", "external-secrets"
SETTINGS = {SOPS: "sops", EXTERNAL_SECRETS: "externalSecrets"}  # provider -> its settings under `secrets:`

SOPS_KEY_SECRET = "sops-age"  # the age private key, in flux-system, that kustomize-controller decrypts with
SOPS_SUFFIX = ".sops.yaml"
ENCRYPTED_REGEX = "^(data|stringData)$"  # only values are encrypted: names, types and keys stay reviewable
NAMESPACE_FILE = "namespace.yaml"
SECRETS_TREE = "dist/secrets"  # external-secrets: the ExternalSecrets and the Namespace

ESO_API_VERSION = "external-secrets.io/v1"
ESO_KIND = "ExternalSecret"
# Healthy once the operator reports Ready True: the store answered and the Secret is written.
EXTERNAL_SECRET_HEALTH = {"apiVersion": ESO_API_VERSION, "kind": ESO_KIND, "current": sync.CLUSTER_HEALTH["current"]}

_PLACEHOLDER = re.compile(r"<([^<>]*)>")
_PLACEHOLDERS = ("namespace", "release", "secret")
# Directories gen owns or reads: the encrypted Secrets need one of their own.
_OWNED = ("dist", "overlays", "charts", sync.CLUSTERS)


def provider(config: Config) -> str:
    return config.secrets.provider


def has_secrets_tree(config: Config) -> bool:
    """Whether Flux applies the Secrets (and the Namespace) as a tree of their own, before the release."""
    return provider(config) != MANUAL


def tree_overlays(config: Config) -> tuple[str, ...]:
    """The overlays whose Secrets the tree holds: the one the cluster runs, else all (an ExternalSecret whose
    remote key nobody filled is never Ready and would hold the release back)."""
    return (config.flux.cluster.overlay,) if config.flux.cluster else airflow.OVERLAYS


def sops_dir(config: Config) -> str:
    """The directory of the encrypted Secrets, relative to the project."""
    assert config.secrets.sops is not None
    return posixpath.normpath(config.secrets.sops.path)


def sops_file(config: Config, secret_name: str) -> str:
    return f"{sops_dir(config)}/{secret_name}{SOPS_SUFFIX}"


def namespace_file(config: Config) -> str:
    return f"{sops_dir(config)}/{NAMESPACE_FILE}"


def tree_path(config: Config) -> str:
    """The secrets Kustomization's path, relative to the repository root, as Flux writes it."""
    return sync.repository_path(config, sops_dir(config) if provider(config) == SOPS else SECRETS_TREE)


def tree_object_name(config: Config) -> str:
    return f"{sync.object_name(config)}-secrets"


def remote_key(config: Config, secret_name: str) -> str:
    """The key in the store that holds the Secret `secret_name` (external-secrets)."""
    assert config.secrets.external_secrets is not None
    values = {"namespace": config.namespace, "release": config.release, "secret": secret_name}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], config.secrets.external_secrets.remote_key)


def remote_properties(config: Config, secret: SecretSpec) -> tuple[str, ...]:
    """The properties of the Secret's remote key: its keys, but on k3s the admin password alone (the
    ExternalSecret's template wraps it in the values file k3s reads)."""
    if secret.setting == "adminPassword":
        return ("password",)
    return credentials.secret_keys(config, secret)


def admin_values_template(config: Config) -> dict[str, str] | None:
    """k3s: the ExternalSecret template of the admin password's values file; None elsewhere."""
    if not credentials.k3s_engine(config):
        return None
    marker = "__password__"
    nested: Any = marker
    for part in reversed(credentials.ADMIN_PASSWORD_PATH.split(".")):
        nested = {part: nested}
    # toJson quotes and escapes the password as JSON (which is YAML), whatever it holds.
    return {credentials.K3S_VALUES_KEY: json.dumps(nested).replace(f'"{marker}"', "{{ .password | toJson }}")}


def holds(config: Config, secret: SecretSpec) -> dict[str, str]:
    """What each property of a Secret must hold, for the person who fills the store."""
    release, namespace = config.release, config.namespace
    random_text = "a random string of at least 32 characters"
    if config.database.type == database.BUNDLED:
        connection = (f"postgresql://postgres:POSTGRES_PASSWORD@{release}-postgresql.{namespace}:5432/postgres"
                      f"?sslmode=disable, POSTGRES_PASSWORD being postgres-password of the postgresql Secret")
    else:
        connection = f"{database.connection(config, 'PASSWORD')}, PASSWORD being the owner's password"
    described = {
        "fernet-key": "a Fernet key: 32 random bytes, URL-safe base64 (44 characters)",
        "api-secret-key": random_text, "jwt-secret": random_text, "webserver-secret-key": random_text,
        "postgres-password": "the password of the bundled PostgreSQL's superuser",
        "username": f"the database owner's name: {config.database.user}",
        "connection": f"a PostgreSQL URL: {connection}",
    }
    if secret.setting == "postgresql":
        described["password"] = "the password of the bundled PostgreSQL's user"
    elif secret.setting == "metadata":
        described["password"] = "the database owner's password (the one in connection)"
    elif secret.setting == "redisPassword":
        described["password"] = "the password of the bundled Redis"
    elif secret.setting == "brokerUrl" and credentials.external_broker(config):
        described["connection"] = "the URL of your Celery broker (workers.celery.broker external)"
    elif secret.setting == "brokerUrl":
        described["connection"] = f"a Redis URL: redis://:REDIS_PASSWORD@{release}-redis:6379/0, REDIS_PASSWORD " \
                                  f"being password of the redis-password Secret"
    elif secret.setting == "adminPassword":
        described["password"] = "the admin user's password"
    elif secret.setting == credentials.BACKUP_BUCKET and (backup := database.backup(config)):
        bucket = f"credentials that may write to {backup.object_store.destination_path}"
        described.update(zip(database.OBJECT_STORE_KEYS, (f"the access key id of {bucket}",
                                                          f"the secret access key of {bucket}"), strict=True))
    return {key: described[key] for key in remote_properties(config, secret)}


# Keys whose replacement on a running install costs more than a restart: what it breaks, and the way
# Airflow documents to do it instead, where there is one (the fernet key: NEW,OLD, re-encrypt, drop OLD).
FERNET_ROTATION = (
    "let every component restart with fernet-key NEW,OLD (Airflow then reads both keys and writes with NEW)",
    "run `airflow rotate-fernet-key` once in a scheduler pod: it re-encrypts connections and variables with NEW",
    "only then drop OLD (with secrets.provider sops, the next `gen secrets --rotate` keeps only NEW)",
)
_SIGNING = {"apiSecretKey": "the api-server's sessions", "jwtSecret": "the tokens of running tasks and of the UI",
            "webserverSecretKey": "the webserver's sessions"}


def _steps(steps: Sequence[str]) -> str:
    return "; ".join(f"{number}. {step}" for number, step in enumerate(steps, 1))


def replacement_warning(secret: SecretSpec) -> str | None:
    """Why replacing this Secret on a running install hurts, or None when a rolling restart is all it costs."""
    if secret.setting == "fernetKey":
        return ("replacing the fernet key on a running install makes existing connections and variables "
                "unreadable; rotate it as Airflow documents instead: 0. set fernet-key to NEW,OLD; "
                + _steps(FERNET_ROTATION))
    if secret.setting in _SIGNING:
        return (f"replacing it invalidates {_SIGNING[secret.setting]} signed with the old key until every "
                f"component runs with the new one")
    if secret.setting in ("postgresql", "metadata"):
        return ("the running database keeps its old password: change it there too (ALTER ROLE ... PASSWORD), "
                "or Airflow can no longer connect")
    return None


def rotation_note(secret: SecretSpec) -> str | None:
    """What to do after `gen secrets --rotate` replaced this Secret."""
    if secret.setting == "fernetKey":
        return "fernet-key is now NEW,OLD, so existing connections and variables stay readable; next: " + \
            _steps(FERNET_ROTATION)
    return replacement_warning(secret)


def _setting_problems(config: Config, where: str) -> list[str]:
    chosen, found = provider(config), []
    for owner, key in SETTINGS.items():
        value = config.secrets.sops if owner == SOPS else config.secrets.external_secrets
        if owner == chosen and value is None:
            found.append(f"{where}.{key}: is required with secrets.provider {owner}; see docs/credentials.md")
        elif owner != chosen and value is not None:
            found.append(f"{where}.{key}: is only used with secrets.provider {owner}; remove it or set "
                         f"secrets.provider: {owner}")
    return found


def _sops_problems(config: Config, where: str) -> list[str]:
    if provider(config) != SOPS or config.secrets.sops is None:
        return []
    found = []
    if config.gitops.engine != "flux":
        found.append(f"{where}.provider: sops needs Flux, which decrypts the Secrets (gitops.engine k3s has no "
                     f"decryption); use gitops.engine: flux or secrets.provider: external-secrets")
    top = sops_dir(config).split("/")[0]
    if top in _OWNED:
        found.append(f"{where}.sops.path: {config.secrets.sops.path!r} lies in {top}/, which gen writes or reads; "
                     f"use a directory of its own such as secrets")
    return found


def _remote_key_problems(config: Config, where: str) -> list[str]:
    settings = config.secrets.external_secrets
    if provider(config) != EXTERNAL_SECRETS or settings is None:
        return []
    used = _PLACEHOLDER.findall(settings.remote_key)
    unknown = sorted(set(used) - set(_PLACEHOLDERS))
    found = []
    if unknown:
        found.append(f"{where}.externalSecrets.remoteKey: <{unknown[0]}> is not a placeholder; use <namespace>, "
                     f"<release> and <secret>")
    if "secret" not in used:
        found.append(f"{where}.externalSecrets.remoteKey: has no <secret>, so every Secret would read one key; "
                     f"write it in, such as airflow/<release>/<secret>")
    return found


def problems(config: Config) -> list[str]:
    """Settings of a provider other than the chosen one, and settings that cannot work."""
    where = f"{config.source.label}: secrets"
    return _setting_problems(config, where) + _sops_problems(config, where) + _remote_key_problems(config, where)



def names_lines(config: Config, overlays: Sequence[str]) -> list[str]:
    """`gen secrets --names`: each Secret's keys; with external-secrets, each remote key and what its properties
    must hold."""
    lines, keys = [], {}
    for spec, name in credentials.required(config, overlays):
        namespace = credentials.secret_namespace(config, spec)
        if provider(config) != EXTERNAL_SECRETS:
            # Credentials that share a Secret (manual): one line for the Secret, with every key.
            keys.setdefault(f"{namespace}/{name}", []).extend(credentials.secret_keys(config, spec))
            continue
        lines.append(f"{remote_key(config, name)} (for Secret {namespace}/{name}):")
        lines += [f"  {key}: {what}" for key, what in holds(config, spec).items()]
    return lines + [f"{secret}: {', '.join(held)}" for secret, held in keys.items()]


def _merged(documents: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One Secret per name: credentials that share a Secret (secrets.provider manual) have keys of their own."""
    by_name: dict[str, dict[str, Any]] = {}
    for document in documents:
        name = document["metadata"]["name"]
        if name in by_name:
            by_name[name]["stringData"].update(document["stringData"])
        else:
            by_name[name] = {**document, "stringData": dict(document["stringData"])}
    return list(by_name.values())


def printout(config: Config, label: str, overlays: Sequence[str], secret_name: str | None = None) -> str:
    """`gen secrets`: the Secrets with fresh values, as YAML for standard output (all, or only `secret_name`)."""
    owner = credentials.new_password()
    required = credentials.required(config, overlays)
    pairs = list(zip(required, credentials.fill(config, overlays, owner), strict=True))
    if secret_name is not None:
        picked = [(spec, doc) for (spec, name), doc in pairs if name == secret_name]
        if not picked:
            raise ConfigError(f"--name: {secret_name!r} is not a Secret the release reads; choose one of "
                              f"{', '.join(name for _spec, name in required)}")
        if unmade := [why for spec, _doc in picked if (why := credentials.unfillable(config, spec))]:
            raise ConfigError(f"--name: {secret_name}: gen cannot make its values; {unmade[0]}")
        warning = "".join(f"# warning: {why}\n" for spec, _doc in picked if (why := replacement_warning(spec)))
        return (f"# Secret {secret_name} for {label}. Do not commit this output.\n{warning}"
                + dump_documents(_merged([doc for _spec, doc in picked])))
    text = f"# Secrets for {label} ({', '.join(overlays)}). Do not commit this output.\n"
    text += "".join(f"# Not below: {why}.\n" for spec, _name in required if (why := credentials.unfillable(config, spec)))
    documents = _merged([doc for (spec, _name), doc in pairs if not credentials.unfillable(config, spec)])
    if config.database.type == database.EXTERNAL:
        assert config.database.external is not None
        text += (f"# On the database server, as a superuser (psql -h {config.database.external.host}), create the "
                 f"role and database\n# the connection below names:\n")
        text += "".join(f"#   {statement}\n" for statement in database.setup_sql(config, owner))
    return text + dump_documents(documents)
