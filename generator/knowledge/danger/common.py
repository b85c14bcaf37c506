"""What every danger rule shares: the names its procedures use, small readers of objects, and the report
that collects one overlay's findings."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.knowledge import sync
from generator.knowledge.airflow import CELERY_EXECUTOR, CELERY_KUBERNETES_EXECUTOR, OVERLAYS
from generator.knowledge.danger.finding import Finding
from generator.model import Config
from generator.plumbing.objects import RELEASE_KINDS, UNSET, by_position, changed_leaves, dotted, helm_values, object_key

PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
FORCE_ANNOTATION = "kustomize.toolkit.fluxcd.io/force"
CELERY_OVERLAYS = (CELERY_EXECUTOR, CELERY_KUBERNETES_EXECUTOR)
WIRING = "cluster wiring"  # the section for clusters/<name>/airflow.yaml, beside the overlays


# --- names for the procedures --------------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    """What the procedures refer to: the Flux Kustomization and HelmRelease, the release namespace."""

    kustomization: str
    namespace: str
    release: str | None  # the HelmRelease name; None on the k3s engine (a HelmChart)

    def suspend(self) -> str:
        helm = f"; flux suspend helmrelease {self.release} -n {self.namespace}" if self.release else ""
        return f"suspend Flux (flux suspend kustomization {self.kustomization} -n flux-system{helm})"

    def scale_down(self) -> str:
        return f"scale Airflow down (kubectl -n {self.namespace} scale deployment,statefulset --all --replicas=0)"

    def resume(self) -> str:
        if self.release:
            return (f"resume (flux resume kustomization {self.kustomization} -n flux-system; flux resume helmrelease "
                    f"{self.release} -n {self.namespace}; flux reconcile helmrelease {self.release} -n "
                    f"{self.namespace} --force brings the pods back)")
        return (f"resume (flux resume kustomization {self.kustomization} -n flux-system), then scale Airflow back up "
                f"to the replicas of its values (kubectl -n {self.namespace} scale deployment,statefulset --all "
                f"--replicas=1 for the defaults)")


def procedure_names(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]], old: Config | None,
           new: Config | None) -> Names:
    """Names from the old config where it has them (a rename acts on the old objects), else the new one."""
    both = [*before, *after]
    kustomization = next((meta(o, "name") for o in both if o.get("kind") == "Kustomization"
                          and overlay_of(o) in OVERLAYS), "<kustomization>")
    wired = next((c for c in (old, new) if c is not None and c.flux.cluster is not None), None)
    if wired is not None:
        kustomization = sync.object_name(wired)
    release = next((meta(o, "name") for o in both if o.get("kind") == "HelmRelease" and is_airflow(o)), None)
    installed = next((o for o in both if is_airflow(o)), None)
    config = old or new
    namespace = release_identity(installed)[0] if installed else config.namespace if config else "<namespace>"
    return Names(kustomization, namespace, release)


# --- small helpers -------------------------------------------------------------------------------

def meta(obj: Mapping[str, Any], key: str) -> str:
    return str((obj.get("metadata") or {}).get(key) or "")


def show(value: Any) -> str:
    if value is UNSET:
        return "(unset)"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def get(obj: Any, *path: str, default: Any = UNSET) -> Any:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj:
            return default
        obj = obj[key]
    return obj


def changed(old: Any, new: Any, prefix: str) -> list[tuple[str, Any, Any]]:
    """(path, old, new) of every leaf that differs, as `a.b[0].c`; lists of another length compare whole."""
    return [(dotted(path), was, now) for path, was, now
            in changed_leaves(old, new, tuple(prefix.split(".")), pairs=by_position)]


def release_identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, Helm release name) a HelmRelease or HelmChart installs."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "HelmChart":  # k3s: the release is named after the HelmChart
        return str(spec.get("targetNamespace") or meta(obj, "namespace")), meta(obj, "name")
    namespace = str(spec.get("targetNamespace") or meta(obj, "namespace"))
    return namespace, str(spec.get("releaseName") or meta(obj, "name"))


def is_airflow(obj: Mapping[str, Any]) -> bool:
    """A HelmRelease or HelmChart of the Airflow chart (not, say, the local-path-provisioner's)."""
    if obj.get("kind") not in RELEASE_KINDS:
        return False
    path = ("spec", "chart", "spec", "chart") if obj.get("kind") == "HelmRelease" else ("spec", "chart")
    chart = get(obj, *path)
    return chart == "airflow" or "airflowVersion" in helm_values(obj)


def overlay_of(kustomization: Mapping[str, Any]) -> str:
    """The overlay a Flux Kustomization applies: the last part of its path (./dist/<overlay>)."""
    return posixpath.basename(str(get(kustomization, "spec", "path", default="")).rstrip("/"))


class Report:
    """Collects the findings of one overlay, with what the rules read beside the two objects they compare."""

    def __init__(self, overlay: str, before: list[dict[str, Any]], after: list[dict[str, Any]], old: Config | None,
                 new: Config | None) -> None:
        self.overlay, self.names, self.found = overlay, procedure_names(before, after, old, new), []
        self.new_config = new  # the config of the new side, when known: where a database moves to
        self.before, self.after = before, after
        old_keys, new_keys = {object_key(o) for o in before}, {object_key(o) for o in after}
        self.added = [o for o in after if object_key(o) not in old_keys]
        # The StorageClasses among the objects, the new side's where both have one.
        self.classes = {meta(o, "name"): o for o in [*before, *after] if o.get("kind") == "StorageClass"}
        # Claims of the old objects that the new ones no longer have.
        self.removed_claims = {key[2] for key in old_keys - new_keys if key[0] == "PersistentVolumeClaim"}

    def add(self, obj: Mapping[str, Any], field: str, old: Any, new: Any, category: str, why: str,
            todo: str | tuple[str, ...]) -> None:
        kind, namespace, name = object_key(obj)
        self.found.append(Finding(self.overlay, kind, namespace, name, field, show(old), show(new), why, todo,
                                  category))

