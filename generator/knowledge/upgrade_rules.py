"""The danger lines of a chart or Airflow upgrade: the real risk, and the remedy that fits the project.

- The backup step fits the metadata database: `pg_dump` through the bundled PostgreSQL's pod, a
  `pg_dump` from the CloudNativePG Cluster's primary (or an on-demand Backup when the Cluster has a
  backup configured), or a `pg_dump` against the external server.
- The behaviour changes of the chart releases crossed (charts.CHANGES) are flagged where the values
  meet them.
- A change of the bundled PostgreSQL's major version loses the data: the new server cannot read the
  old data directory. Its runbook dumps, recreates the server and restores.

Each runbook is its steps in order, with the one "merge now" step where the merge belongs.

changes.py calls `dangers` for each pair of Airflow releases and turns every `Danger` into a Finding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.knowledge import charts, database
from generator.knowledge.danger.common import Names
from generator.knowledge.danger.finding import MERGE_NOW
from generator.model import Config, Version

DUMP = "airflow-metadata.sql"
CNPG_CLUSTER = ("postgresql.cnpg.io/", "Cluster")


@dataclass(frozen=True)
class Danger:
    field: str
    old: Any
    new: Any
    loses_data: bool  # else: goes through, but needs a prepared procedure
    why: str
    todo: tuple[str, ...]  # the runbook's steps in order, one of them MERGE_NOW


@dataclass(frozen=True)
class Side:
    """What the rules read of one side of a change: the release's values, its chart version, its objects."""

    values: Mapping[str, Any]
    chart: str | None
    objects: Sequence[Mapping[str, Any]]


def _get(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _version(text: Any) -> Version | None:
    try:
        return Version.parse(str(text))
    except ValueError:
        return None


def _bundled(values: Mapping[str, Any]) -> bool:
    return _get(values, "postgresql.enabled") is not False


def _cnpg_cluster(objects: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    return next((o for o in objects if o.get("kind") == CNPG_CLUSTER[1]
                 and str(o.get("apiVersion", "")).startswith(CNPG_CLUSTER[0])
                 and (o.get("metadata") or {}).get("name") == name), None)


def backup(namespace: str, release: str, values: Mapping[str, Any], config: Config | None,
           objects: Sequence[Mapping[str, Any]] = ()) -> str:
    """The step that saves the metadata database first, for the database this project runs."""
    if _bundled(values):
        return (f"back up the metadata database first (kubectl -n {namespace} exec {release}-postgresql-0 -- "
                f"pg_dump -U postgres postgres > {DUMP})")
    if config is not None and config.database.type == database.CLOUDNATIVEPG:
        name, db = database.cluster_name(config), config.database.name
        primary = (f"kubectl -n {namespace} exec $(kubectl -n {namespace} get pod -l "
                   f"cnpg.io/cluster={name},cnpg.io/instanceRole=primary -o name) -c postgres -- pg_dump -d {db} "
                   f"> {DUMP}")
        if database.backup(config) is not None:  # gen's backups through the Barman Cloud plugin
            return (f"back up the metadata database first with an on-demand backup of the CloudNativePG Cluster "
                    f"through its plugin (kubectl cnpg backup {name} -n {namespace} --method plugin --plugin-name "
                    f"{database.BARMAN_PLUGIN}, or a Backup with spec.cluster.name {name}, method: plugin and "
                    f"pluginConfiguration.name {database.BARMAN_PLUGIN}), and wait for its phase completed")
        cluster = _cnpg_cluster(objects, name)
        if cluster is not None and (cluster.get("spec") or {}).get("backup"):
            return (f"back up the metadata database first with an on-demand backup of the CloudNativePG Cluster "
                    f"(kubectl cnpg backup {name} -n {namespace}, or a Backup object with spec.cluster.name {name}), "
                    f"or a pg_dump from its primary ({primary})")
        return (f"back up the metadata database first: the CloudNativePG Cluster {name} has no backup configured, "
                f"so take a pg_dump from its primary ({primary})")
    if config is not None and config.database.type == database.EXTERNAL and config.database.external:
        db = config.database
        assert db.external is not None
        return (f"back up the metadata database first (PGPASSWORD=<the owner's password> pg_dump \"host="
                f"{db.external.host} port={db.external.port} dbname={db.name} user={db.user} sslmode="
                f"{db.external.sslmode}\" > {DUMP})")
    return (f"back up the metadata database first (pg_dump against the server that Secret "
            f"{_get(values, 'data.metadataSecretName') or '<metadata Secret>'} names, > {DUMP})")


def _crossing(old: Version, new: Version) -> str:
    """What the releases crossed change for everyone: Helm's minimum, and who reads the JWT Secret."""
    notes = []
    releases = charts.crossed(old, new)
    helm = max((row.helm_min for row in releases if row.helm_min), default=None)
    if helm:
        notes.append(f"chart {new} needs Helm {helm} or later (Flux's helm-controller or k3s's helm-controller "
                     f"must embed it)")
    before, after = charts.release(old), charts.release(new)
    if before and after and set(before.jwt_secret_readers) - set(after.jwt_secret_readers):
        gone = sorted(set(before.jwt_secret_readers) - set(after.jwt_secret_readers))
        notes.append(f"{', '.join(gone)} stop mounting the JWT Secret")
    return "".join(f", and {note}" for note in notes)  # a why holds no `; `: it parts the why from the todo


def _behaviour(old: Side, new: Side, crossed: Sequence[charts.Release]) -> list[Danger]:
    """The behaviour changes of the releases crossed, where the values set what they touch."""
    found = []
    kubernetes = "KubernetesExecutor" in str(_get(new.values, "executor") or "")
    crossed_versions = {row.version for row in crossed}
    for change in charts.CHANGES:
        if change.since not in crossed_versions or (change.kubernetes_only and not kubernetes):
            continue
        for path in change.when_set:
            value = _get(old.values, path)
            if value:
                found.append(Danger(f"values.{path}", value, f"chart {change.since}", False, change.what,
                                    (change.remedy, MERGE_NOW, "check a task on the new release")))
    return found


def _postgresql_major(side: Side) -> int | None:
    tag = _get(side.values, "postgresql.image.tag")
    if isinstance(tag, str) and tag.split(".")[0].isdigit():
        return int(tag.split(".")[0])
    row = charts.release(_version(side.chart)) if _version(side.chart) else None
    return row.postgresql_major if row else None


def _postgresql(old: Side, new: Side, namespace: str, release: str, backup_step: str, names: Names) -> list[Danger]:
    was, now = _postgresql_major(old), _postgresql_major(new)
    if not (_bundled(old.values) and _bundled(new.values)) or was is None or now is None or was == now:
        return []
    claim, statefulset = f"data-{release}-postgresql-0", f"{release}-postgresql"
    return [Danger("values.postgresql.image.tag", f"PostgreSQL {was}", f"PostgreSQL {now}", True,
                   f"the bundled PostgreSQL changes major version, and PostgreSQL {now} cannot read the data "
                   f"directory PostgreSQL {was} wrote on claim {claim}: the pod fails to start and the metadata is "
                   f"stranded",
                   (f"{backup_step} while PostgreSQL {was} still runs", names.suspend(),
                    f"{MERGE_NOW}: Flux applies nothing while it is suspended",
                    f"delete StatefulSet {statefulset} and claim {claim} (kubectl -n {namespace} delete statefulset "
                    f"{statefulset}; kubectl -n {namespace} delete pvc {claim})",
                    f"{names.resume()}, and PostgreSQL {now} starts empty on a new claim",
                    f"restore the dump (kubectl -n {namespace} exec -i {release}-postgresql-0 -- psql -U postgres "
                    f"postgres < {DUMP}), then let the migration Job run"))]


def dangers(old: Side, new: Side, namespace: str, release: str, config: Config | None,
            chart_field: str, names: Names) -> list[Danger]:
    """Every danger of one Airflow release's change: chart version (at `chart_field`), Airflow version, and
    what they cross; `names` are what the runbooks suspend and resume."""
    step = backup(namespace, release, new.values, config, new.objects)
    found = []
    before, after = _version(old.chart), _version(new.chart)
    if old.chart != new.chart:
        forward = before is not None and after is not None and before < after
        crossed = charts.crossed(before, after) if forward else ()
        notes = _crossing(before, after) if forward else ""
        found.append(Danger(chart_field, old.chart, new.chart, False,
                            f"a chart upgrade runs the database migrations of its Airflow version, which cannot be "
                            f"undone (the chart never downgrades), and may change objects the cluster cannot update "
                            f"in place{notes}",
                            (step, f"read the release notes of chart {new.chart} and the rendered chart objects of "
                                   f"this gen diff", f"{MERGE_NOW}, when nobody relies on Airflow for a while")))
        found += _behaviour(old, new, crossed)
    airflow_before, airflow_after = _get(old.values, "airflowVersion"), _get(new.values, "airflowVersion")
    if airflow_before != airflow_after:
        found.append(Danger("values.airflowVersion", airflow_before, airflow_after, False,
                            "the upgrade migrates the metadata database, and migrations cannot be rolled back",
                            (step, MERGE_NOW, "to go back, restore that backup into a database for the old version")))
    return found + _postgresql(old, new, namespace, release, step, names)
