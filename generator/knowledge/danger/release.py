"""The Helm release and the metadata database: chart and Airflow upgrades, executors, the bundled PostgreSQL
and Redis, claim templates in the values, releases renamed or moved, CloudNativePG Clusters, and a
database moving away from an external server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from generator.knowledge import credentials, database, upgrade_rules
from generator.knowledge.danger.common import (
    PRUNE_ANNOTATION,
    UNSET,
    Report,
    get,
    is_airflow,
    meta,
    release_identity,
)
from generator.knowledge.danger.finding import DATA, MERGE_NOW, REFUSED, RUNBOOK, Finding, merge_first
from generator.knowledge.quantities import quantity
from generator.model import Config
from generator.plumbing.objects import ObjectKey, helm_values

# --- CloudNativePG ----------------------------------------------------------------------------------

def is_cnpg_cluster(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Cluster" and str(obj.get("apiVersion", "")).startswith("postgresql.cnpg.io/")


def cnpg_cluster(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if not (is_cnpg_cluster(old) and is_cnpg_cluster(new)):
        return
    # The CloudNativePG Cluster CRD (postgresql.cnpg.io_clusters.yaml): spec.serviceAccountName carries
    # the CEL rule `self == oldSelf` ("serviceAccountName is immutable").
    # The CloudNativePG webhook (api/v1/cluster_webhook.go validateStorageChange) refuses a smaller
    # spec.storage.size: "can't shrink existing storage".
    size_old, size_new = get(old, "spec", "storage", "size", default=None), get(new, "spec", "storage", "size",
                                                                                   default=None)
    amount_old, amount_new = quantity(size_old), quantity(size_new)
    if amount_old is not None and amount_new is not None and amount_new < amount_old:
        name, namespace = meta(new, "name"), meta(new, "namespace") or report.names.namespace
        report.add(new, "spec.storage.size", size_old, size_new, REFUSED,
                   "refused: CloudNativePG's webhook never lets a Cluster's storage shrink",
                   (f"keep database.cloudnativepg.size at {size_old}, or move the database to a new, smaller "
                    f"Cluster: back up (kubectl cnpg backup {name} -n {namespace}) and restore into it",))
    before = get(old, "spec", "serviceAccountName", default=UNSET)
    after = get(new, "spec", "serviceAccountName", default=UNSET)
    if before is not UNSET and after is not UNSET and before != after:
        report.add(new, "spec.serviceAccountName", before, after, REFUSED,
                   "refused: a CloudNativePG Cluster's serviceAccountName is immutable",
                   "keep the service account, or create a new Cluster and move the database to it")


def cnpg_cluster_removed(report: Report, old: Mapping[str, Any]) -> None:
    if not is_cnpg_cluster(old):
        return
    name, namespace = meta(old, "name"), meta(old, "namespace") or report.names.namespace
    report.add(old, "metadata.name", name, "(removed)", DATA,
               "the CloudNativePG operator deletes the Cluster's instances and their claims, the metadata database "
               "with them",
               f"back up the database first (kubectl cnpg backup {name} -n {namespace}, or pg_dump), or keep the "
               f"Cluster")


# --- the Helm release ----------------------------------------------------------------------------

DRAIN = ("pause the DAGs (airflow dags pause)", "wait until no task is queued or running", MERGE_NOW)
_DB_BACKUP = ("back up the metadata database first (kubectl -n {ns} exec {release}-postgresql-0 -- pg_dump -U "
              "postgres postgres > airflow-metadata.sql)")


# The values that end up in the volumeClaimTemplates of the chart's StatefulSets, with the defaults of
# chart 1.19.0 (redis.persistence) and its bitnami postgresql subchart (primary.persistence).
_CLAIM_TEMPLATE_VALUES: dict[tuple[str, ...], dict[str, Any]] = {
    ("postgresql", "primary", "persistence"): {
        "enabled": True, "existingClaim": "", "storageClass": "", "accessModes": ["ReadWriteOnce"], "size": "8Gi",
        "annotations": {}, "labels": {}, "selector": {}, "dataSource": {}},
    ("redis", "persistence"): {
        "enabled": True, "existingClaim": "", "storageClassName": "", "size": "1Gi", "annotations": {}},
    ("workers", "persistence"): {"enabled": True, "storageClassName": None, "size": "100Gi", "annotations": {}},
    ("triggerer", "persistence"): {"enabled": True, "storageClassName": None, "size": "100Gi", "annotations": {}},
}
_CLAIM_TEMPLATE_OWNERS = {"postgresql": "postgresql", "redis": "redis", "workers": "worker", "triggerer": "triggerer"}

# Service values the chart writes into spec.clusterIP: the live Service already has one allocated.
_CLUSTER_IP_VALUES = (("redis", "service", "clusterIP"), ("pgbouncer", "service", "clusterIp"))
_SERVICE_OWNERS = {"redis": "redis", "pgbouncer": "pgbouncer"}


def _restore_steps(new: Config | None) -> tuple[str, ...]:
    """Into a CloudNativePG Cluster once the merge has created it; into any other database before the merge."""
    if new is None or new.database.type != database.CLOUDNATIVEPG:
        return "restore it into the new database", MERGE_NOW
    cluster = database.cluster_name(new)
    return MERGE_NOW, (f"once Cluster {cluster} is ready, restore it before the scheduler starts on it (kubectl cnpg "
                       f"psql {cluster} -n {new.namespace} -- {new.database.name} < airflow-metadata.sql)")


def _chart_version(obj: Mapping[str, Any]) -> Any:
    if obj.get("kind") == "HelmChart":
        return get(obj, "spec", "version")
    return get(obj, "spec", "chart", "spec", "version")


def helm_release(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    if not (is_airflow(old) and is_airflow(new)):
        return  # another chart's release (the local-path-provisioner's)
    values_old, values_new = helm_values(old), helm_values(new)
    namespace, release = release_identity(new)
    backup = _DB_BACKUP.format(ns=namespace, release=release)
    # A chart or Airflow upgrade: the backup that fits the database, and what the releases crossed change.
    field = "spec.version" if new.get("kind") == "HelmChart" else "spec.chart.spec.version"
    sides = [upgrade_rules.Side(values, _chart_version(obj), objects)
             for values, obj, objects in ((values_old, old, report.before), (values_new, new, report.after))]
    for danger in upgrade_rules.dangers(*sides, namespace, release, report.new_config, field, report.names):
        report.add(new, danger.field, danger.old, danger.new, DATA if danger.loses_data else RUNBOOK, danger.why,
                   danger.todo)
    executor_old = str(get(values_old, "executor", default=""))
    executor_new = str(get(values_new, "executor", default=""))
    if "Celery" in executor_old and "Celery" not in executor_new:
        report.add(new, "values.executor", executor_old, executor_new, DATA,
                   "the Celery workers and the Redis broker go, with the tasks queued in Redis",
                   DRAIN)
    if "KubernetesExecutor" in executor_old and "KubernetesExecutor" not in executor_new:
        report.add(new, "values.executor", executor_old, executor_new, RUNBOOK,
                   "the scheduler stops watching the task pods the KubernetesExecutor started: a pod that fails is "
                   "not reported, and finished pods stay", DRAIN)
    pg_old = get(values_old, "postgresql", "enabled", default=True)
    pg_new = get(values_new, "postgresql", "enabled", default=True)
    if pg_old is not False and pg_new is False:
        report.add(new, "values.postgresql.enabled", pg_old, pg_new, DATA,
                   f"Helm removes the bundled PostgreSQL, and its claim data-{release}-postgresql-0 stays, orphaned, "
                   f"with the metadata database",
                   (backup, *_restore_steps(report.new_config)))
    celery = "Celery" in executor_old and "Celery" in executor_new
    _claim_templates(report, new, values_old, values_new, celery)
    _cluster_ips(report, new, values_old, values_new)
    _volumes(report, new, values_old, values_new)


def _claim_templates(report: Report, new: Mapping[str, Any], values_old: Mapping[str, Any],
                     values_new: Mapping[str, Any], celery: bool) -> None:
    namespace, release = release_identity(new)
    backup = _DB_BACKUP.format(ns=namespace, release=release)
    for path, defaults in _CLAIM_TEMPLATE_VALUES.items():
        component = f"{release}-{_CLAIM_TEMPLATE_OWNERS[path[0]]}"
        if path[0] == "workers" and not celery:
            continue  # the workers are a StatefulSet only under Celery; leaving Celery is a finding of its own
        was_all, now_all = get(values_old, *path, default={}) or {}, get(values_new, *path, default={}) or {}
        for key, default in defaults.items():
            was = default if was_all.get(key) is None else was_all[key]
            now = default if now_all.get(key) is None else now_all[key]
            if was == now:
                continue
            report.add(new, f"values.{'.'.join(path)}.{key}", was, now, REFUSED,
                       f"refused: the chart puts this in StatefulSet {component}'s volumeClaimTemplates, which are "
                       f"immutable, so the Helm upgrade fails",
                       (*((backup,) if component.endswith("postgresql") else ()),
                        f"delete the StatefulSet keeping its pods (kubectl -n {namespace} delete statefulset "
                        f"{component} --cascade=orphan); the existing claim keeps its old size and class", MERGE_NOW))


def _cluster_ips(report: Report, new: Mapping[str, Any], values_old: Mapping[str, Any],
                 values_new: Mapping[str, Any]) -> None:
    namespace, release = release_identity(new)
    for path in _CLUSTER_IP_VALUES:
        was, now = get(values_old, *path, default=None), get(values_new, *path, default=None)
        if now and was != now:
            service = f"{release}-{_SERVICE_OWNERS[path[0]]}"
            report.add(new, f"values.{'.'.join(path)}", was if was else UNSET, now, REFUSED,
                       f"refused unless it equals the clusterIP the API server allocated to Service {service}",
                       merge_first(f"delete the Service (kubectl -n {namespace} delete service {service}) and let "
                                   f"Helm create it anew"))


def _volumes(report: Report, new: Mapping[str, Any], values_old: Mapping[str, Any],
             values_new: Mapping[str, Any]) -> None:
    """The chart's DAG and log claims: no longer mounted, or another existing claim."""
    for volume in ("dags", "logs"):
        claim_old = get(values_old, volume, "persistence", "existingClaim", default=None)
        claim_new = get(values_new, volume, "persistence", "existingClaim", default=None)
        enabled_old = get(values_old, volume, "persistence", "enabled", default=False)
        enabled_new = get(values_new, volume, "persistence", "enabled", default=False)
        if claim_old in report.removed_claims:
            continue  # the removed claim (or its volume) is a finding of its own
        if enabled_old and not enabled_new:
            report.add(new, f"values.{volume}.persistence.enabled", enabled_old, enabled_new, DATA,
                       f"the pods stop mounting the {volume} claim{f' {claim_old}' if claim_old else ''}, and its files "
                       f"stay on it, no longer used",
                       f"copy the {volume} files where Airflow will read them from")
        elif enabled_old and enabled_new and claim_old and claim_new and claim_old != claim_new:
            report.add(new, f"values.{volume}.persistence.existingClaim", claim_old, claim_new, DATA,
                       f"the pods mount claim {claim_new} instead, and the files on {claim_old} are not carried over",
                       (report.names.suspend(), report.names.scale_down(),
                        f"copy the {volume} files from {claim_old} to {claim_new}", MERGE_NOW, report.names.resume()))


def release_moved(report: Report, gone: Sequence[Mapping[str, Any]], added: Sequence[Mapping[str, Any]]) -> None:
    """A HelmRelease or HelmChart no longer generated: Helm uninstalls it; a new name installs afresh."""
    for old in gone:
        namespace, release = release_identity(old)
        backup = _DB_BACKUP.format(ns=namespace, release=release)
        successor = next(iter(added), None)
        if successor is None:
            report.add(old, "metadata.name", meta(old, "name"), "(removed)", DATA,
                       f"Helm uninstalls release {release}, and the claim data-{release}-postgresql-0 with the metadata "
                       f"database stays, orphaned", backup)
            continue
        new_namespace, new_release = release_identity(successor)
        if (new_namespace, new_release) == (namespace, release):
            report.add(old, "kind", old.get("kind"), successor.get("kind"), RUNBOOK,
                       f"release {release} is uninstalled and installed again by another controller: Airflow is "
                       f"down meanwhile, and the claim data-{release}-postgresql-0 is reused",
                       (backup, f"{MERGE_NOW}, when nobody relies on Airflow for a while"))
            continue
        field, before, after = (("spec.releaseName", release, new_release) if new_namespace == namespace
                                else ("metadata.namespace", namespace, new_namespace))
        report.add(old, field, before, after, DATA,
                   f"Flux removes release {release} and the chart creates a new, empty PostgreSQL claim "
                   f"data-{new_release}-postgresql-0 in {new_namespace}, while the old one with the metadata database is "
                   f"orphaned, and new DAG and log claims replace the old ones",
                   (f"keep release and namespace as they were, or: {backup}", MERGE_NOW,
                    f"restore it into {new_release}-postgresql-0 in {new_namespace} (psql) before the scheduler "
                    f"starts"))


def namespace_removed(report: Report, old: Mapping[str, Any]) -> None:
    successor = next((meta(o, "name") for o in report.added if o.get("kind") == "Namespace"), "(removed)")
    kept = get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    report.add(old, "metadata.name", meta(old, "name"), successor, DATA,
               ("Flux leaves the old namespace with its claims (the metadata database among them), and everything "
                "is created anew, empty, in the new one") if kept
               else "Flux deletes the old namespace and every claim in it, the metadata database among them",
               "keep the namespace, or back up the metadata database and copy the DAG and log files")



def release_key(config: Config) -> ObjectKey:
    kind = "HelmChart" if credentials.k3s_engine(config) else "HelmRelease"
    return kind, config.namespace, config.release


def database_moved(overlay: str, old: Config, new: Config) -> list[Finding]:
    """Away from an external server: the new database starts empty, the metadata stays on the old server."""
    if old.database.type != database.EXTERNAL or new.database.type == database.EXTERNAL:
        return []
    assert old.database.external is not None
    server, name, user = old.database.external.host, old.database.name, old.database.user
    dump = f"dump the metadata database (pg_dump -h {server} -U {user} {name} > airflow-metadata.sql)"
    if new.database.type == database.CLOUDNATIVEPG:
        cluster = database.cluster_name(new)
        target = f"the CloudNativePG Cluster {cluster}"
        restore = (f"once Cluster {cluster} is ready, restore the dump before the scheduler starts on it "
                   f"(kubectl cnpg psql {cluster} -n {new.namespace} -- {new.database.name} < airflow-metadata.sql)")
    else:
        target = "the bundled PostgreSQL"
        restore = (f"restore the dump before the scheduler starts on it (kubectl -n {new.namespace} exec -i "
                   f"{new.release}-postgresql-0 -- psql -U postgres postgres < airflow-metadata.sql)")
    kind, namespace, release = release_key(new)
    return [Finding(overlay, kind, namespace, release, "database.type", old.database.type, new.database.type,
                    f"Airflow starts on {target}, empty, and the metadata database stays on {server}",
                    (dump, MERGE_NOW, restore), DATA)]

