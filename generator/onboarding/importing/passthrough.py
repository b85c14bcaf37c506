"""gen import, values: which of the installed values gen generates itself, and which pass through
unchanged to charts/airflow/values.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.onboarding.importing import findings, secrets
from generator.plumbing import values as helm_values

# Values gen generates itself (chart_values); the user's are read for their meaning, then left out.
GENERATED = ("executor", "airflowVersion", "defaultAirflowTag", "defaultAirflowRepository", "dags.persistence",
             "logs.persistence", "dags.gitSync", "config.webserver.base_url", "config.api.base_url",
             "createUserJob.useHelmHooks", "createUserJob.applyCustomEnv", "migrateDatabaseJob.useHelmHooks",
             "migrateDatabaseJob.applyCustomEnv", "redis.enabled", "triggerer.enabled", "flower.enabled",
             "workers.replicas", "workers.celery.replicas", "apiServer.args", "apiServer.env")
def _default_user(values: Mapping[str, Any]) -> dict[str, Any]:
    """webserver.defaultUser (deprecated in chart 1.19) becomes createUserJob.defaultUser, password left out."""
    old = findings.get(values, "webserver.defaultUser")
    if not isinstance(old, Mapping):
        return {}
    moved: dict[str, Any] = {"createUserJob": {}}
    user = {k: v for k, v in old.items() if k not in ("enabled", "password")}
    if user:
        moved["createUserJob"]["defaultUser"] = user
    if "enabled" in old:
        moved["createUserJob"]["enabled"] = bool(old["enabled"])
    return moved if moved["createUserJob"] else {}


def split_values(values: Mapping[str, Any], found: findings.Found) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """(values for charts/airflow/values.yaml, the credential paths left out, the gen-owned paths mapped,
    the paths passed through unchanged)."""
    kept: dict[str, Any] = {}
    left_credentials, mapped, passed = [], [], []
    for path_parts, value in helm_values.leaves(values):
        path = ".".join(path_parts)
        if secrets.is_credential(path, value):
            if value not in (None, ""):
                left_credentials.append(path)
            continue
        if findings.under(path, ("webserver.defaultUser",)):
            continue  # moved to createUserJob.defaultUser below (the password is a credential)
        if findings.under(path, GENERATED) or path in secrets.SECRET_NAME_KEYS:
            mapped.append(path)
            continue
        kept = helm_values.deep_merge(kept, helm_values.unflatten({path: value}))
        passed.append(path)
    moved = _default_user(values)
    if moved:
        found.notes.append("webserver.defaultUser (deprecated in chart 1.19) moves to createUserJob.defaultUser, "
                           "where chart 1.19 reads it; its password comes from the admin password Secret")
    kept = helm_values.deep_merge(kept, moved)
    return kept, left_credentials, mapped, passed
