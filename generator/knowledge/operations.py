"""Production operations: metrics scraping and database backups, and the rules that keep them working.

Each rule returns one line per problem with what to write instead, like the other rule modules.
"""

from __future__ import annotations

from typing import Any

from generator.knowledge import credentials, database
from generator.model import Config


def _chart_value(values: dict[str, Any], path: str, default: Any) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _metrics_problems(config: Config) -> list[str]:
    if config.metrics.service_monitor and _chart_value(config.base_values, "statsd.enabled", True) is False:
        return [f"{config.source.label}: metrics.serviceMonitor: needs the chart's StatsD exporter, but "
                f"charts/airflow/values.yaml sets statsd.enabled: false; remove that line, or set "
                f"metrics.serviceMonitor: false"]
    return []


def _backup_problems(config: Config) -> list[str]:
    """The bucket's Secret must be one of its own: gen secrets fills the others with random values."""
    backup = database.backup(config)
    if backup is None:
        return []
    secret = backup.object_store.secret
    taken = {credentials.name(config, spec): f"secrets.{spec.setting}" for spec in credentials.SPECS}
    if secret in taken:
        return [f"{config.source.label}: database.cloudnativepg.backup.objectStore.secret: {secret!r} is also the "
                f"Secret of {taken[secret]}; the bucket's keys ({', '.join(database.OBJECT_STORE_KEYS)}) need a "
                f"Secret of their own, such as {database.cluster_name(config)}-backup-s3"]
    return []


def problems(config: Config) -> list[str]:
    return _metrics_problems(config) + _backup_problems(config)
