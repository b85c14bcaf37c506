"""gen import, credentials: which values are credentials, and the Secret manifests the new release reads
(for standard output only, never a written file).

Facts: AIRFLOW-CHART.md §5, §6 (Secret keys, hooks).
"""

from __future__ import annotations

import re
import secrets as random
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from generator import schema
from generator.knowledge import credentials
from generator.model import Config
from generator.onboarding import scaffold
from generator.onboarding.importing import findings
from generator.plumbing import values as helm_values
from generator.plumbing.yamlio import dump_documents

# The chart values that name a credential's Secret, and the gen.yaml `secrets:` setting for each.
SECRET_NAME_KEYS = {spec.chart_key: spec.setting for spec in credentials.SPECS if spec.chart_key}
# Secrets the chart creates as part of the release. Once gen names a Secret instead, Helm deletes the
# chart's own on the upgrade, so the imported release must read Secrets of other names (suffix below).
# fernet-key, redis-password and broker-url are pre-install hooks: upgrades never delete them, and the
# new release reads them under their old names, values unchanged.
RELEASE_OWNED = ("metadata", "postgresql", "webserverSecretKey", "apiSecretKey", "jwtSecret")
HOOK_OWNED = ("fernetKey", "redisPassword", "brokerUrl")
RENAMED_SUFFIX = "gitops"
# Chart defaults of the keys a connection URL is made of (chart values.yaml, data.metadataConnection).
METADATA_DEFAULTS = {"user": "postgres", "pass": "postgres", "protocol": "postgresql", "host": None, "port": 5432,
                     "db": "postgres", "sslmode": "disable"}
CREDENTIAL_PREFIXES = ("data.metadataConnection", "data.resultBackendConnection")
_CREDENTIAL_WORD = re.compile(r"(password|passwd|(^|[a-z_])pass$|secretkey$|token$|sshkey$|fernetkey$|apikey$|"
                              r"privatekey$)", re.IGNORECASE)
_NOT_CREDENTIAL = re.compile(r"(secretname|existingsecret|secretkeyref|passwordsecretname|secretannotations)$",
                             re.IGNORECASE)
# --- values and credentials -----------------------------------------------------------------------

def is_credential(path: str, value: Any) -> bool:
    if credentials.is_credential(path, value) or findings.under(path, CREDENTIAL_PREFIXES):
        return True
    last = path.rsplit(".", 1)[-1]
    return (isinstance(value, str) and value != "" and bool(_CREDENTIAL_WORD.search(last))
            and not _NOT_CREDENTIAL.search(last))


def _metadata_connection(values: Mapping[str, Any], release: str, namespace: str) -> str:
    given = findings.get(values, "data.metadataConnection") or {}
    conn = {**METADATA_DEFAULTS, **{k: v for k, v in given.items() if v is not None}} if isinstance(given, Mapping) \
        else dict(METADATA_DEFAULTS)
    host = conn["host"] or f"{release}-postgresql.{namespace}"
    query = f"?sslmode={conn['sslmode']}" if conn["protocol"] == "postgresql" else ""
    return (f"{conn['protocol']}://{quote(str(conn['user']), safe='')}:{quote(str(conn['pass']), safe='')}@"
            f"{host}:{conn['port']}/{conn['db']}{query}")


def _secret_contents(values: Mapping[str, Any], release: str, namespace: str) -> dict[str, tuple[dict[str, str], str]]:
    """setting -> (Secret keys and values, where they come from); only the credentials the values hold,
    plus fresh keys for those the running release draws at random."""
    out: dict[str, tuple[dict[str, str], str]] = {}
    out["metadata"] = ({"connection": _metadata_connection(values, release, namespace)},
                       "data.metadataConnection" if findings.has(values, "data.metadataConnection")
                       else "the chart's default data.metadataConnection")
    auth = findings.get(values, "postgresql.auth") or {}
    admin = str(auth.get("postgresPassword") or "postgres") if isinstance(auth, Mapping) else "postgres"
    user = str(auth.get("password") or admin) if isinstance(auth, Mapping) else admin
    out["postgresql"] = ({"postgres-password": admin, "password": user},
                         "postgresql.auth" if isinstance(auth, Mapping) and auth else "the chart's default postgresql.auth")
    for setting, key, secret_key in (("fernetKey", "fernetKey", "fernet-key"),
                                     ("webserverSecretKey", "webserverSecretKey", "webserver-secret-key"),
                                     ("apiSecretKey", "apiSecretKey", "api-secret-key"),
                                     ("jwtSecret", "jwtSecret", "jwt-secret")):
        if findings.get(values, key):
            out[setting] = ({secret_key: str(findings.get(values, key))}, key)
        elif setting != "fernetKey":
            fresh = random.token_urlsafe(32)
            out[setting] = ({secret_key: fresh}, "a fresh random value (the chart drew the running one at random; "
                                                 "users log in again)")
    redis_password = findings.get(values, "redis.password")
    if redis_password:
        out["redisPassword"] = ({"password": str(redis_password)}, "redis.password")
        out["brokerUrl"] = ({"connection": f"redis://:{quote(str(redis_password), safe='')}@{release}-redis:6379/0"},
                            "redis.password")
    elif findings.get(values, "data.brokerUrl"):
        out["brokerUrl"] = ({"connection": str(findings.get(values, "data.brokerUrl"))}, "data.brokerUrl")
    password = findings.get(values, credentials.ADMIN_PASSWORD_PATH) or findings.get(values, "webserver.defaultUser.password")
    if password:
        out["adminPassword"] = ({"password": str(password)}, "webserver.defaultUser.password"
                                if findings.get(values, "webserver.defaultUser.password") else credentials.ADMIN_PASSWORD_PATH)
    else:
        out["adminPassword"] = ({"password": random.token_urlsafe(24)}, "a fresh random value (used only if the "
                                                                          "admin user does not exist yet)")
    return out


def secret_manifests(values: Mapping[str, Any], config: Config, overlay: str) -> list[tuple[dict[str, Any], str]]:
    """The Secret manifests the new release reads that this import can fill, each with where its values came from."""
    contents = _secret_contents(values, config.release, config.namespace)
    out = []
    for spec, name in credentials.required(config, [overlay]):
        if spec.chart_key and isinstance(findings.get(values, spec.chart_key), str):
            continue  # the user's own Secret, already in the cluster
        if spec.setting not in contents:
            continue  # a hook Secret the chart made at install: the new release reads it as it is
        data, source = contents[spec.setting]
        out.append(({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                     "metadata": {"name": name, "namespace": credentials.secret_namespace(config, spec)},
                     "stringData": data}, source))
    return out


def secrets_text(imported: findings.Imported, values_label: str) -> str:
    """What gen import prints on standard output: the Secret manifests, with a recommendation to rotate."""
    config = imported.config
    return (f"# Secrets the imported release {config.namespace}/{config.release} reads, with the values from "
            f"{scaffold.comment_text(values_label)}. Do not commit this output.\n"
            f"# Apply them before the first reconcile, e.g. gen import ... | kubectl apply -f -\n"
            f"# Rotate these credentials once Flux runs the release: they were written in plain text in "
            f"{scaffold.comment_text(values_label)}.\n" + dump_documents(imported.secrets))


def show_value(path: str, value: Any) -> str:
    return "<credential>" if is_credential(path, value) else schema.show(value)


_SECRET_PART = re.compile(r"pass|secret|key|token|cert", re.I)


def masked(line: str, values: Mapping[str, Any]) -> str:
    """A plan line with every credential of the installed values replaced, wherever the chart put it."""
    for path, value in helm_values.leaves(values):
        # Only the secret parts (passwords, keys, tokens): a host or a database name is no secret, and masking
        # a word as common as `postgresql` would garble the names of objects.
        if isinstance(value, str) and value and _SECRET_PART.search(path[-1]) and is_credential(".".join(path), value):
            line = line.replace(value, "<credential>")
        elif isinstance(value, str):  # a token inside JSON or YAML text: the chart shows it apart from the rest
            for secret in credentials.secrets_inside(value):
                line = line.replace(secret, "<credential>")
    return line
