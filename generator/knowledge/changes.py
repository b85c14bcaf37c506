"""Old objects against new ones: the updates the API server refuses, and the changes that lose data.

`classify` takes what Flux applies for one overlay before and after a change (plain dicts, as in
dist/<overlay>/manifests.yaml with dist/database; the chart's rendered objects work the same way) and
returns one `Finding` per danger, each with the runbook that gets the change through safely. The
configs are optional: they supply names for those runbooks (the Flux Kustomization, the namespace).
`classify_configs` adds what only the two configs show (the Secrets, the database's move, the
cluster's name).

The rules live in knowledge/danger/, one module per family, and the tables below pick them by kind.
The immutability rules follow the Kubernetes API validation code (kubernetes/kubernetes, master),
cited at each rule. A kind or field not named here is treated as freely updatable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from generator.knowledge.danger import flux, release, secrets, storage, workloads
from generator.knowledge.danger.common import WIRING, Report, is_airflow
from generator.knowledge.danger.finding import DATA, REFUSED, RUNBOOK, Finding
from generator.model import Config
from generator.plumbing.objects import object_key
from generator.plumbing.yamlio import generated_objects

# What callers (the review, synth's warnings, the upgrade rules) take from here, defined in the danger package.
__all__ = ["DATA", "REFUSED", "RUNBOOK", "WIRING", "Finding", "classify", "classify_configs", "classify_text"]

Object = Mapping[str, Any]

# An object on both sides that differs: the rules of its kind (each checks what else it needs: an Airflow
# release, a CloudNativePG Cluster).
CHANGED: dict[str, Callable[[Report, Object, Object], None]] = {
    "PersistentVolume": storage.persistent_volume,
    "PersistentVolumeClaim": storage.persistent_volume_claim,
    "StorageClass": storage.storage_class,
    "StatefulSet": workloads.statefulset,
    "Deployment": workloads.selector,
    "DaemonSet": workloads.selector,
    "ReplicaSet": workloads.selector,
    "Job": workloads.job,
    "Service": workloads.service,
    "HelmRelease": release.helm_release,
    "HelmChart": release.helm_release,
    "Kustomization": flux.kustomization,
    "Cluster": release.cnpg_cluster,
}

# An object the new side no longer has: what Flux prunes, and what that loses.
GONE: dict[str, Callable[[Report, Object], None]] = {
    "PersistentVolume": storage.volume_removed,
    "PersistentVolumeClaim": storage.claim_removed,
    "Cluster": release.cnpg_cluster_removed,
    "Kustomization": flux.kustomization_removed,
    "Namespace": release.namespace_removed,
    "StatefulSet": workloads.statefulset_removed,
}


def classify(overlay: str, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]],
             old: Config | None = None, new: Config | None = None) -> list[Finding]:
    """Every finding for one overlay's objects `before` -> `after`, sorted; [] when the change is safe."""
    before = [o for o in before if isinstance(o, dict)]
    after = [o for o in after if isinstance(o, dict)]
    report = Report(overlay, before, after, old, new)
    old_by_key, new_by_key = {object_key(o): o for o in before}, {object_key(o): o for o in after}
    for key in sorted(old_by_key.keys() & new_by_key.keys()):
        was, now = old_by_key[key], new_by_key[key]
        rule = CHANGED.get(key[0])
        if was != now and rule is not None:
            rule(report, was, now)
    gone = [old_by_key[k] for k in sorted(old_by_key.keys() - new_by_key.keys())]
    for obj in gone:
        removed = GONE.get(str(obj.get("kind")))
        if removed is not None:
            removed(report, obj)
    release.release_moved(report, [o for o in gone if is_airflow(o)], [o for o in report.added if is_airflow(o)])
    return sorted(set(report.found), key=lambda f: (f.kind, f.namespace, f.name, f.field, f.old, f.new))


def classify_configs(section: str, old: Config | None, new: Config | None,
                     overlays: tuple[str, str] | None = None) -> list[Finding]:
    """The findings only the two configs show: for an overlay section (`overlays`: its overlay on the old and
    the new side), the Secrets its release reads and the database it moves from; for the cluster wiring, a
    renamed cluster."""
    if old is None or new is None:
        return []
    if section == WIRING:
        return flux.cluster_renamed(old, new)
    if overlays is None:
        return []
    return sorted(set(secrets.findings(section, old, new, overlays) + release.database_moved(section, old, new)))


def classify_text(overlay: str, before: str | None, after: str | None, old: Config | None = None,
                  new: Config | None = None) -> list[Finding]:
    """`classify` over two YAML texts; a side that does not exist counts as no objects."""
    return classify(overlay, generated_objects(before), generated_objects(after), old, new)
