"""The cluster wiring: the Flux Kustomization that applies the overlay, and the file Flux finds it in."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from generator.knowledge import sync
from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.danger.common import CELERY_OVERLAYS, WIRING, Report, get, meta, overlay_of
from generator.knowledge.danger.finding import DATA, MERGE_NOW, Finding
from generator.knowledge.danger.release import DRAIN
from generator.model import Config

def kustomization_removed(report: Report, old: Mapping[str, Any]) -> None:
    """The cluster wiring removed: its Kustomization garbage-collects what it applied."""
    if overlay_of(old) not in OVERLAYS or not get(old, "spec", "prune", default=False) or any(
            o.get("kind") == "Kustomization" and overlay_of(o) in OVERLAYS for o in report.added):
        return
    name = meta(old, "name")
    report.add(old, "metadata.name", name, "(removed)", DATA,
               "Flux prunes what this Kustomization applied: the HelmRelease goes and Helm uninstalls Airflow "
               "(the namespace, volumes and claims stay)",
               f"if another Kustomization takes the objects over, orphan them first (kubectl -n flux-system patch "
               f"kustomization {name} --type merge -p '{{\"spec\":{{\"deletionPolicy\":\"Orphan\"}}}}')")



def kustomization(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """The cluster wiring: Flux moves from a Celery overlay to one without Celery."""
    before, after = overlay_of(old), overlay_of(new)
    if before in CELERY_OVERLAYS and after in OVERLAYS and after not in CELERY_OVERLAYS:
        report.add(new, "spec.path", get(old, "spec", "path"), get(new, "spec", "path"), DATA,
                   "the cluster leaves the Celery executor: the Celery workers and the Redis broker go, with the "
                   "tasks queued in Redis",
                   DRAIN)



def cluster_renamed(old: Config, new: Config) -> list[Finding]:
    """clusters/<old>/airflow.yaml goes: the cluster's Flux, bootstrapped there, prunes the release."""
    before, after = old.flux.cluster, new.flux.cluster
    if before is None or after is None or before.name == after.name:
        return []
    name = sync.object_name(old)
    orphan = (f"orphan what it applied (kubectl -n {sync.FLUX_NAMESPACE} patch kustomization {name} --type merge -p "
              f"'{{\"spec\":{{\"deletionPolicy\":\"Orphan\"}}}}')")
    bootstrap = (f"point the cluster's Flux at clusters/{after.name} (flux bootstrap again with --path "
                 f"{posixpath.normpath(posixpath.join(after.path, sync.CLUSTERS, after.name))})")
    return [Finding(WIRING, "Kustomization", sync.FLUX_NAMESPACE, name, "flux.cluster.name", before.name, after.name,
                    f"clusters/{before.name}/{sync.SYNC_FILE} goes, so the cluster's Flux prunes this Kustomization "
                    f"and Helm uninstalls Airflow", (orphan, MERGE_NOW, bootstrap), DATA)]

