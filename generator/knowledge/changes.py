"""Old objects against new ones: the updates the API server refuses, and the changes that lose data.

`classify` takes one overlay's objects before and after a change (plain dicts, as in
dist/<overlay>/manifests.yaml; the chart's rendered objects work the same way) and returns one
`Finding` per danger, each with the procedure that gets the change through safely. The configs are
optional: they only supply names for those procedures (the Flux Kustomization, the namespace).

The immutability rules follow the Kubernetes API validation code (kubernetes/kubernetes, master),
cited at each rule. A kind or field not named here is treated as freely updatable.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.knowledge import sync
from generator.knowledge.airflow import CELERY_EXECUTOR, CELERY_KUBERNETES_EXECUTOR, OVERLAYS
from generator.knowledge.quantities import quantity
from generator.model import Config
from generator.plumbing.objects import (
    RELEASE_KINDS,
    UNSET,
    by_position,
    changed_leaves,
    dotted,
    helm_values,
    object_key,
    object_title,
)
from generator.plumbing.yamlio import generated_objects

REFUSED = "refused"  # the API server rejects the update: the Flux Kustomization fails as a whole
DATA = "data"  # goes through, but loses or orphans data
RUNBOOK = "runbook"  # goes through, and cannot be undone: needs a prepared procedure

PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
FORCE_ANNOTATION = "kustomize.toolkit.fluxcd.io/force"
CELERY_OVERLAYS = (CELERY_EXECUTOR, CELERY_KUBERNETES_EXECUTOR)
WIRING = "cluster wiring"  # the section for clusters/<name>/airflow.yaml, beside the overlays


@dataclass(frozen=True, order=True)
class Finding:
    overlay: str
    kind: str
    namespace: str
    name: str
    field: str
    old: str
    new: str
    why: str
    todo: str
    category: str

    @property
    def line(self) -> str:
        where = object_title((self.kind, self.namespace, self.name))
        return (f"danger: {self.overlay} {where}: {self.field}: {self.old} -> {self.new}: "
                f"{self.why}; {self.todo}")


# --- names for the procedures --------------------------------------------------------------------

@dataclass(frozen=True)
class _Names:
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


def _names(before: Iterable[dict[str, Any]], after: Iterable[dict[str, Any]], old: Config | None,
           new: Config | None) -> _Names:
    """Names from the old config where it has them (a rename acts on the old objects), else the new one."""
    both = [*before, *after]
    kustomization = next((_meta(o, "name") for o in both if o.get("kind") == "Kustomization"
                          and _overlay_of(o) in OVERLAYS), "<kustomization>")
    wired = next((c for c in (old, new) if c is not None and c.flux.cluster is not None), None)
    if wired is not None:
        kustomization = sync.object_name(wired)
    release = next((_meta(o, "name") for o in both if o.get("kind") == "HelmRelease" and _is_airflow(o)), None)
    installed = next((o for o in both if _is_airflow(o)), None)
    config = old or new
    namespace = _release_identity(installed)[0] if installed else config.namespace if config else "<namespace>"
    return _Names(kustomization, namespace, release)


# --- small helpers -------------------------------------------------------------------------------

def _meta(obj: Mapping[str, Any], key: str) -> str:
    return str((obj.get("metadata") or {}).get(key) or "")


_UNSET = UNSET  # a field the object does not have


def _show(value: Any) -> str:
    if value is _UNSET:
        return "(unset)"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _get(obj: Any, *path: str, default: Any = _UNSET) -> Any:
    for key in path:
        if not isinstance(obj, Mapping) or key not in obj:
            return default
        obj = obj[key]
    return obj


def _changed(old: Any, new: Any, prefix: str) -> list[tuple[str, Any, Any]]:
    """(path, old, new) of every leaf that differs, as `a.b[0].c`; lists of another length compare whole."""
    return [(dotted(path), was, now) for path, was, now
            in changed_leaves(old, new, tuple(prefix.split(".")), pairs=by_position)]


def _release_identity(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, Helm release name) a HelmRelease or HelmChart installs."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "HelmChart":  # k3s: the release is named after the HelmChart
        return str(spec.get("targetNamespace") or _meta(obj, "namespace")), _meta(obj, "name")
    namespace = str(spec.get("targetNamespace") or _meta(obj, "namespace"))
    return namespace, str(spec.get("releaseName") or _meta(obj, "name"))


def _is_airflow(obj: Mapping[str, Any]) -> bool:
    """A HelmRelease or HelmChart of the Airflow chart (not, say, the local-path-provisioner's)."""
    if obj.get("kind") not in RELEASE_KINDS:
        return False
    path = ("spec", "chart", "spec", "chart") if obj.get("kind") == "HelmRelease" else ("spec", "chart")
    chart = _get(obj, *path)
    return chart == "airflow" or "airflowVersion" in helm_values(obj)


def _overlay_of(kustomization: Mapping[str, Any]) -> str:
    """The overlay a Flux Kustomization applies: the last part of its path (./dist/<overlay>)."""
    return posixpath.basename(str(_get(kustomization, "spec", "path", default="")).rstrip("/"))


class _Report:
    """Collects the findings of one overlay."""

    def __init__(self, overlay: str, names: _Names) -> None:
        self.overlay, self.names, self.found = overlay, names, []
        self.removed_claims: set[str] = set()  # claims of the old objects that the new ones no longer have

    def add(self, obj: Mapping[str, Any], field: str, old: Any, new: Any, category: str, why: str, todo: str) -> None:
        kind, namespace, name = object_key(obj)
        self.found.append(Finding(self.overlay, kind, namespace, name, field, _show(old), _show(new), why, todo,
                                  category))


# --- PersistentVolume ----------------------------------------------------------------------------

# PersistentVolumeSpec fields outside the inline PersistentVolumeSource; everything else is the source.
_PV_NOT_SOURCE = {"accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity",
                  "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName"}


def _pv_source(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (obj.get("spec") or {}).items() if k not in _PV_NOT_SOURCE}


def _pv_place(source: Mapping[str, Any]) -> str:
    if "hostPath" in source:
        return f"{_get(source, 'hostPath', 'path', default='?')} on the node"
    if "nfs" in source:
        return f"{_get(source, 'nfs', 'server', default='?')}:{_get(source, 'nfs', 'path', default='?')}"
    return "the old volume"


def _recreate_volume(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any], move: bool) -> str:
    """Suspend, scale down, (move the files,) delete claim and volume, resume."""
    names = report.names
    claim = _get(old, "spec", "claimRef", default={}) or {}
    steps = [names.suspend(), names.scale_down()]
    if _get(old, "spec", "persistentVolumeReclaimPolicy", default="Retain") != "Retain":
        steps.append(f"keep the files (kubectl patch pv {_meta(old, 'name')} -p "
                     "'{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}')")
    if move and _pv_place(_pv_source(old)) != _pv_place(_pv_source(new)):
        steps.append(f"move the files from {_pv_place(_pv_source(old))} to {_pv_place(_pv_source(new))}")
    if claim.get("name"):
        steps.append(f"delete the claim and the volume (kubectl -n {claim.get('namespace', names.namespace)} delete pvc "
                     f"{claim['name']}; kubectl delete pv {_meta(old, 'name')})")
    else:
        steps.append(f"delete the volume (kubectl delete pv {_meta(old, 'name')})")
    steps.append(names.resume())
    return ", ".join(steps)


def _persistent_volume(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # pkg/apis/core/validation/validation.go ValidatePersistentVolumeUpdate: the PersistentVolumeSource
    # is compared with apiequality.Semantic.DeepEqual ("spec.persistentvolumesource is immutable after
    # creation"); volumeMode through ValidateImmutableField; nodeAffinity once set (validatePvNodeAffinity).
    source_old, source_new = _pv_source(old), _pv_source(new)
    if set(source_old) != set(source_new):  # another backend: one finding, the two places
        changed_source = [("spec (volume source)", f"{'/'.join(sorted(source_old))} {_pv_place(source_old)}",
                           f"{'/'.join(sorted(source_new))} {_pv_place(source_new)}")]
    else:
        changed_source = _changed(source_old, source_new, "spec")
    for field, before, after in changed_source:
        report.add(new, field, before, after, REFUSED,
                   "refused: a PersistentVolume's source is immutable after creation, and the files stay where they are",
                   _recreate_volume(report, old, new, move=True))
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    if spec_old.get("volumeMode", "Filesystem") != spec_new.get("volumeMode", "Filesystem"):
        report.add(new, "spec.volumeMode", spec_old.get("volumeMode", _UNSET), spec_new.get("volumeMode", _UNSET),
                   REFUSED, "refused: spec.volumeMode of a PersistentVolume is immutable",
                   _recreate_volume(report, old, new, move=False))
    if "nodeAffinity" in spec_old and spec_old.get("nodeAffinity") != spec_new.get("nodeAffinity"):
        report.add(new, "spec.nodeAffinity", spec_old["nodeAffinity"], spec_new.get("nodeAffinity", _UNSET), REFUSED,
                   "refused: a PersistentVolume's nodeAffinity is immutable once set",
                   _recreate_volume(report, old, new, move=False))
    before = spec_old.get("persistentVolumeReclaimPolicy", "Retain")
    after = spec_new.get("persistentVolumeReclaimPolicy", "Retain")
    if before == "Retain" and after != "Retain":
        report.add(new, "spec.persistentVolumeReclaimPolicy", before, after, DATA,
                   f"deleting the claim now deletes (or recycles) the files at {_pv_place(_pv_source(new))}",
                   "keep storage.reclaimPolicy: Retain unless the data may go with the claim")


def _volume_removed(report: _Report, old: Mapping[str, Any], after: Sequence[Mapping[str, Any]]) -> None:
    source = _pv_source(old)
    if any(o.get("kind") == "PersistentVolume" and _pv_source(o) == source for o in after):
        return  # another volume of the new output points at the same files
    kept = _get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    fate = "Flux leaves it in the cluster, no longer managed," if kept else "Flux deletes it"
    report.add(old, "metadata.name", _meta(old, "name"), "(removed)", DATA,
               f"{fate} and the files at {_pv_place(source)} are not carried to the new storage",
               f"copy the files to the new storage first ({report.names.suspend()}, {report.names.scale_down()}, "
               f"copy, {report.names.resume()}), then delete the old claim and volume by hand")


# --- PersistentVolumeClaim -----------------------------------------------------------------------

def _expandable(class_name: Any, classes: Mapping[str, Mapping[str, Any]]) -> bool | None:
    """True or False from the StorageClass among the objects; None when it is not one of them (or the default)."""
    if not class_name:
        return None
    found = classes.get(str(class_name))
    return None if found is None else found.get("allowVolumeExpansion") is True


def _recreate_claim(report: _Report, old: Mapping[str, Any], static: bool) -> str:
    names = report.names
    namespace, claim = _meta(old, "namespace") or names.namespace, _meta(old, "name")
    volume = _get(old, "spec", "volumeName", default="")
    if static and volume:
        return (f"{names.suspend()}, {names.scale_down()}, delete the claim and its volume (kubectl -n {namespace} "
                f"delete pvc {claim}; kubectl delete pv {volume}; the files stay on the volume's storage with "
                f"reclaimPolicy Retain), {names.resume()}")
    return (f"back up the files on the claim, {names.suspend()}, {names.scale_down()}, delete the claim "
            f"(kubectl -n {namespace} delete pvc {claim}), {names.resume()}, restore the files")


_CLAIM_ORDER = ("storageClassName", "accessModes", "volumeMode", "volumeName", "selector", "dataSource")


def _persistent_volume_claim(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any],
                             classes: Mapping[str, Mapping[str, Any]]) -> None:
    # pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate: the whole spec must be
    # equal except resources.requests.storage (bound claims only, never smaller), volumeAttributesClassName,
    # and a volumeName the old claim did not have ("spec is immutable after creation except
    # resources.requests and volumeAttributesClassName for bound claims").
    spec_old = json.loads(json.dumps(old.get("spec") or {}))
    spec_new = json.loads(json.dumps(new.get("spec") or {}))
    size_old = _get(spec_old, "resources", "requests", "storage")
    size_new = _get(spec_new, "resources", "requests", "storage")
    for spec in (spec_old, spec_new):
        resources = spec.get("resources") or {}
        (resources.get("requests") or {}).pop("storage", None)
        if not resources.get("requests"):
            resources.pop("requests", None)
        if not resources:
            spec.pop("resources", None)
        spec.pop("volumeAttributesClassName", None)
    if "volumeName" not in spec_old:
        spec_new.pop("volumeName", None)
    static = bool(_get(old.get("spec") or {}, "volumeName", default=""))
    fields = sorted((k for k in spec_old.keys() | spec_new.keys()
                     if spec_old.get(k, _UNSET) != spec_new.get(k, _UNSET)),
                    key=lambda k: (_CLAIM_ORDER.index(k) if k in _CLAIM_ORDER else len(_CLAIM_ORDER), k))
    if fields:  # one finding per claim: the field that says most, the others named
        first, others = fields[0], [f"spec.{k}" for k in fields[1:]]
        also = f" (it also changes {', '.join(others)})" if others else ""
        report.add(new, f"spec.{first}", spec_old.get(first, _UNSET), spec_new.get(first, _UNSET), REFUSED,
                   f"refused: a PersistentVolumeClaim's spec is immutable after creation except a larger storage "
                   f"request{also}", _recreate_claim(report, old, static))
    amount_old, amount_new = quantity(size_old), quantity(size_new)
    if size_old == size_new or (amount_old is not None and amount_old == amount_new):
        return  # the same quantity, however it is written
    smaller = (amount_new or 0) < (amount_old or 0)
    # plugin/pkg/admission/storage/persistentvolume/resize/admission.go Validate and allowResize: a
    # larger request passes only when the claim's StorageClass has allowVolumeExpansion: true
    # ("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc
    # must support resize").
    class_name = _get(new.get("spec") or {}, "storageClassName", default="")
    expandable = _expandable(class_name, classes)
    if not smaller and expandable:
        return
    if smaller:
        why = "refused: a claim's storage request can never shrink"
    elif expandable is None and not class_name:
        why = ("refused unless the cluster's default StorageClass has allowVolumeExpansion: true (check with "
               "kubectl get storageclass)")
    elif expandable is None:
        why = (f"refused unless StorageClass {class_name} has allowVolumeExpansion: true (check with kubectl get "
               f"storageclass {class_name} -o jsonpath='{{.allowVolumeExpansion}}')")
    else:
        why = (f"refused: StorageClass {class_name} does not allow volume expansion, and only "
               f"dynamically provisioned claims on such a class can grow")
    todo = _recreate_claim(report, old, static)
    if static:
        todo += " (a static volume's size is only a label: the files are not touched)"
    report.add(new, "spec.resources.requests.storage", size_old, size_new, REFUSED, why, todo)


def _claim_removed(report: _Report, old: Mapping[str, Any], before: Sequence[Mapping[str, Any]],
                   after: Sequence[Mapping[str, Any]]) -> None:
    volume = _get(old, "spec", "volumeName", default="")
    bound = next((o for o in before if o.get("kind") == "PersistentVolume" and _meta(o, "name") == volume), None)
    if bound is not None and not any(object_key(o) == object_key(bound) for o in after):
        return  # the files are where its volume points: a new claim on them, or the removed volume says so
    kept = _get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    fate = ("Flux leaves it in the cluster, unmounted," if kept
            else "Flux deletes it (and with reclaimPolicy Delete its volume)")
    report.add(old, "metadata.name", _meta(old, "name"), "(removed)", DATA,
               f"{fate} and its files are not carried to the new storage",
               f"copy the files off the claim first ({report.names.suspend()}, {report.names.scale_down()}, copy, "
               f"{report.names.resume()}), then delete it by hand")


# --- StorageClass --------------------------------------------------------------------------------

# pkg/apis/storage/validation/validation.go ValidateStorageClassUpdate: parameters, provisioner,
# reclaimPolicy and volumeBindingMode are forbidden to change. Defaults as the API server sets them.
_CLASS_FIELDS = {"provisioner": "", "parameters": {}, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def _storage_class(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    forced = _get(new, "metadata", "annotations", FORCE_ANNOTATION, default="").lower() == "enabled"
    for field, default in _CLASS_FIELDS.items():
        before, after = old.get(field, default) or default, new.get(field, default) or default
        if before == after:
            continue
        todo = (f"Flux deletes and recreates it ({FORCE_ANNOTATION}: enabled is set); applied by hand, run "
                f"kubectl delete storageclass {_meta(new, 'name')} first; existing volumes keep the old setting"
                if forced else f"delete the StorageClass (kubectl delete storageclass {_meta(new, 'name')}) and let "
                               f"Flux create it anew; existing volumes keep the old setting")
        report.add(new, field, before, after, REFUSED, f"refused: updates to a StorageClass's {field} are forbidden",
                   todo)


# --- workloads -----------------------------------------------------------------------------------

# pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate: only these spec fields may change.
_STATEFULSET_MUTABLE = {"replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                        "persistentVolumeClaimRetentionPolicy"}
_STATEFULSET_DEFAULTS = {"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10}


def _statefulset(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    name, namespace = _meta(new, "name"), _meta(new, "namespace") or report.names.namespace
    fixed = sorted((set(spec_old) | set(spec_new) | set(_STATEFULSET_DEFAULTS)) - _STATEFULSET_MUTABLE)
    for key in fixed:
        before = spec_old.get(key, _STATEFULSET_DEFAULTS.get(key, _UNSET))
        after = spec_new.get(key, _STATEFULSET_DEFAULTS.get(key, _UNSET))
        if before == after:
            continue
        todo = (f"delete the StatefulSet but keep its pods and claims (kubectl -n {namespace} delete statefulset "
                f"{name} --cascade=orphan), then let Flux or Helm create it anew")
        if key == "volumeClaimTemplates":
            todo += "; claims made from the old template keep their old size and class"
        for field, was, now in _changed(before, after, f"spec.{key}"):
            report.add(new, field, was, now, REFUSED,
                       "refused: a StatefulSet's spec may change only in replicas, template, updateStrategy, "
                       "ordinals, minReadySeconds and persistentVolumeClaimRetentionPolicy", todo)


def _selector(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # pkg/registry/apps/deployment/strategy.go (and daemonset, replicaset) ValidateUpdate: apps/v1
    # forbids changing spec.selector (apivalidation.ValidateImmutableField).
    before, after = _get(old, "spec", "selector"), _get(new, "spec", "selector")
    if before == after:
        return
    kind, name = str(new.get("kind")), _meta(new, "name")
    namespace = _meta(new, "namespace") or report.names.namespace
    report.add(new, "spec.selector", before, after, REFUSED, f"refused: a {kind}'s selector is immutable",
               f"delete the {kind} (kubectl -n {namespace} delete {kind.lower()} {name}) and let Flux or Helm create "
               f"it anew (its pods restart)")


# pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate: these are immutable, the pod template
# through validatePodTemplateUpdate (scheduling directives aside, for suspended Jobs only).
_JOB_IMMUTABLE = ("template", "selector", "completions", "completionMode", "podFailurePolicy",
                  "backoffLimitPerIndex", "managedBy", "successPolicy")


def _job(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    annotations = _get(old, "metadata", "annotations", default={}) or {}
    if "helm.sh/hook" in annotations or _get(old, "spec", "ttlSecondsAfterFinished", default=None) is not None:
        return  # Helm recreates hook Jobs, and a Job with a TTL is deleted soon after it finishes
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    name, namespace = _meta(new, "name"), _meta(new, "namespace") or report.names.namespace
    for key in _JOB_IMMUTABLE:
        if spec_old.get(key, _UNSET) == spec_new.get(key, _UNSET):
            continue
        for field, was, now in _changed(spec_old.get(key, _UNSET), spec_new.get(key, _UNSET), f"spec.{key}"):
            report.add(new, field, was, now, REFUSED,
                       f"refused: a Job's spec.{key} is immutable, and this Job stays after it finishes "
                       f"(no ttlSecondsAfterFinished)",
                       f"delete the finished Job (kubectl -n {namespace} delete job {name}) before Flux applies the "
                       f"change, or set a ttlSecondsAfterFinished")


# pkg/apis/core/validation/validation.go ValidateServiceUpdate: the primary clusterIP and IP family may
# not change unless the Service moves to or from ExternalName (validateUpgradeDowngradeClusterIPs,
# validateUpgradeDowngradeIPFamilies); loadBalancerClass is fixed on a LoadBalancer
# (validateLoadBalancerClassField); healthCheckNodePort is fixed (validateServiceExternalTrafficFieldsUpdate);
# ValidateService refuses clusterIP None on NodePort and LoadBalancer Services.
def _service(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    type_old, type_new = spec_old.get("type", "ClusterIP"), spec_new.get("type", "ClusterIP")
    name, namespace = _meta(new, "name"), _meta(new, "namespace") or report.names.namespace
    todo = f"delete the Service (kubectl -n {namespace} delete service {name}) and let Flux or Helm create it anew"

    def ip(spec: Mapping[str, Any]) -> Any:
        return spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]

    if "ExternalName" not in (type_old, type_new):
        before, after = ip(spec_old), ip(spec_new)
        if before and after and before != after:
            report.add(new, "spec.clusterIP", before, after, REFUSED, "refused: a Service's clusterIP is immutable",
                       todo)
        elif before == "None" and not after and type_new in ("NodePort", "LoadBalancer"):
            report.add(new, "spec.type", type_old, type_new, REFUSED,
                       f"refused: a headless Service (clusterIP None) cannot become {type_new}", todo)
        families_old, families_new = spec_old.get("ipFamilies") or [], spec_new.get("ipFamilies") or []
        if families_old and families_new and families_old[0] != families_new[0]:
            report.add(new, "spec.ipFamilies", families_old, families_new, REFUSED,
                       "refused: a Service's primary IP family is immutable", todo)
    if type_old == type_new == "LoadBalancer" and spec_old.get("loadBalancerClass") != spec_new.get("loadBalancerClass"):
        report.add(new, "spec.loadBalancerClass", spec_old.get("loadBalancerClass", _UNSET),
                   spec_new.get("loadBalancerClass", _UNSET), REFUSED,
                   "refused: a LoadBalancer Service's loadBalancerClass is immutable", todo)
    hc_old, hc_new = spec_old.get("healthCheckNodePort"), spec_new.get("healthCheckNodePort")
    if hc_old and hc_new and hc_old != hc_new:
        report.add(new, "spec.healthCheckNodePort", hc_old, hc_new, REFUSED,
                   "refused: a Service's healthCheckNodePort is immutable", todo)


def _kustomization_removed(report: _Report, old: Mapping[str, Any], added: Sequence[Mapping[str, Any]]) -> None:
    """The cluster wiring removed: its Kustomization garbage-collects what it applied."""
    if _overlay_of(old) not in OVERLAYS or not _get(old, "spec", "prune", default=False) or any(
            o.get("kind") == "Kustomization" and _overlay_of(o) in OVERLAYS for o in added):
        return
    name = _meta(old, "name")
    report.add(old, "metadata.name", name, "(removed)", DATA,
               "Flux prunes what this Kustomization applied: the HelmRelease goes and Helm uninstalls Airflow "
               "(the namespace, volumes and claims stay)",
               f"if another Kustomization takes the objects over, orphan them first (kubectl -n flux-system patch "
               f"kustomization {name} --type merge -p '{{\"spec\":{{\"deletionPolicy\":\"Orphan\"}}}}')")


# --- CloudNativePG ----------------------------------------------------------------------------------

def _is_cnpg_cluster(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Cluster" and str(obj.get("apiVersion", "")).startswith("postgresql.cnpg.io/")


def _cnpg_cluster(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # The CloudNativePG Cluster CRD (postgresql.cnpg.io_clusters.yaml): spec.serviceAccountName carries
    # the CEL rule `self == oldSelf` ("serviceAccountName is immutable").
    before = _get(old, "spec", "serviceAccountName", default=_UNSET)
    after = _get(new, "spec", "serviceAccountName", default=_UNSET)
    if before is not _UNSET and after is not _UNSET and before != after:
        report.add(new, "spec.serviceAccountName", before, after, REFUSED,
                   "refused: a CloudNativePG Cluster's serviceAccountName is immutable",
                   "keep the service account, or create a new Cluster and move the database to it")


def _cnpg_cluster_removed(report: _Report, old: Mapping[str, Any]) -> None:
    name, namespace = _meta(old, "name"), _meta(old, "namespace") or report.names.namespace
    report.add(old, "metadata.name", name, "(removed)", DATA,
               "the CloudNativePG operator deletes the Cluster's instances and their claims, the metadata database "
               "with them",
               f"back up the database first (kubectl cnpg backup {name} -n {namespace}, or pg_dump), or keep the "
               f"Cluster")


# --- the Helm release ----------------------------------------------------------------------------

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
}


def _chart_version(obj: Mapping[str, Any]) -> Any:
    if obj.get("kind") == "HelmChart":
        return _get(obj, "spec", "version")
    return _get(obj, "spec", "chart", "spec", "version")


def _helm_release(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    values_old, values_new = helm_values(old), helm_values(new)
    namespace, release = _release_identity(new)
    backup = _DB_BACKUP.format(ns=namespace, release=release)
    before, after = _chart_version(old), _chart_version(new)
    if before != after:
        field = "spec.version" if new.get("kind") == "HelmChart" else "spec.chart.spec.version"
        report.add(new, field, before, after, RUNBOOK,
                   "a chart upgrade may change objects the cluster cannot update in place and runs the database "
                   "migrations of its Airflow version",
                   f"{backup}, read the chart's release notes and gen diff of the rendered chart, and merge when "
                   f"nobody relies on Airflow for a while")
    before, after = _get(values_old, "airflowVersion"), _get(values_new, "airflowVersion")
    if before != after:
        report.add(new, "values.airflowVersion", before, after, RUNBOOK,
                   "the upgrade migrates the metadata database, and migrations cannot be rolled back",
                   f"{backup}; to go back, restore that backup with the old version (psql < airflow-metadata.sql)")
    executor_old = str(_get(values_old, "executor", default=""))
    executor_new = str(_get(values_new, "executor", default=""))
    if "Celery" in executor_old and "Celery" not in executor_new:
        report.add(new, "values.executor", executor_old, executor_new, DATA,
                   "the Celery workers and the Redis broker go, with the tasks queued in Redis",
                   "pause the DAGs (airflow dags pause) and wait until no task is queued or running before merging")
    pg_old = _get(values_old, "postgresql", "enabled", default=True)
    pg_new = _get(values_new, "postgresql", "enabled", default=True)
    if pg_old is not False and pg_new is False:
        report.add(new, "values.postgresql.enabled", pg_old, pg_new, DATA,
                   f"Helm removes the bundled PostgreSQL, and its claim data-{release}-postgresql-0 stays, orphaned, "
                   f"with the metadata database",
                   f"{backup} and restore it into the new database before Airflow starts on it")
    for path, component in ((("postgresql", "primary", "persistence"), f"{release}-postgresql"),
                            (("redis", "persistence"), f"{release}-redis")):
        defaults = _CLAIM_TEMPLATE_VALUES[path]
        was_all, now_all = _get(values_old, *path, default={}) or {}, _get(values_new, *path, default={}) or {}
        for key, default in defaults.items():
            was = default if was_all.get(key) is None else was_all[key]
            now = default if now_all.get(key) is None else now_all[key]
            if was == now:
                continue
            report.add(new, f"values.{'.'.join(path)}.{key}", was, now, REFUSED,
                       f"refused: the chart puts this in StatefulSet {component}'s volumeClaimTemplates, which are "
                       f"immutable, so the Helm upgrade fails",
                       (f"{backup}, " if component.endswith("postgresql") else "")
                       + f"delete the StatefulSet keeping its pods (kubectl -n {namespace} delete statefulset "
                         f"{component} --cascade=orphan) just before Flux applies the change; the existing claim "
                         f"keeps its old size and class")
    for volume in ("dags", "logs"):
        claim_old = _get(values_old, volume, "persistence", "existingClaim", default=None)
        claim_new = _get(values_new, volume, "persistence", "existingClaim", default=None)
        enabled_old = _get(values_old, volume, "persistence", "enabled", default=False)
        enabled_new = _get(values_new, volume, "persistence", "enabled", default=False)
        if claim_old in report.removed_claims:
            continue  # the removed claim (or its volume) is a finding of its own
        if enabled_old and not enabled_new:
            report.add(new, f"values.{volume}.persistence.enabled", enabled_old, enabled_new, DATA,
                       f"the pods stop mounting the {volume} claim{f' {claim_old}' if claim_old else ''}, and its files "
                       f"stay on it, no longer used",
                       f"copy the {volume} files where Airflow will read them from before merging")
        elif enabled_old and enabled_new and claim_old and claim_new and claim_old != claim_new:
            report.add(new, f"values.{volume}.persistence.existingClaim", claim_old, claim_new, DATA,
                       f"the pods mount claim {claim_new} instead, and the files on {claim_old} are not carried over",
                       f"copy the {volume} files from {claim_old} to {claim_new} ({report.names.suspend()}, "
                       f"{report.names.scale_down()}, copy, {report.names.resume()})")


def _release_moved(report: _Report, gone: Sequence[Mapping[str, Any]], added: Sequence[Mapping[str, Any]]) -> None:
    """A HelmRelease or HelmChart no longer generated: Helm uninstalls it; a new name installs afresh."""
    for old in gone:
        namespace, release = _release_identity(old)
        backup = _DB_BACKUP.format(ns=namespace, release=release)
        successor = next(iter(added), None)
        if successor is None:
            report.add(old, "metadata.name", _meta(old, "name"), "(removed)", DATA,
                       f"Helm uninstalls release {release}, and the claim data-{release}-postgresql-0 with the metadata "
                       f"database stays, orphaned", f"{backup} before merging")
            continue
        new_namespace, new_release = _release_identity(successor)
        if (new_namespace, new_release) == (namespace, release):
            report.add(old, "kind", old.get("kind"), successor.get("kind"), RUNBOOK,
                       f"release {release} is uninstalled and installed again by another controller: Airflow is "
                       f"down meanwhile, and the claim data-{release}-postgresql-0 is reused",
                       f"{backup} and merge when nobody relies on Airflow for a while")
            continue
        field, before, after = (("spec.releaseName", release, new_release) if new_namespace == namespace
                                else ("metadata.namespace", namespace, new_namespace))
        report.add(old, field, before, after, DATA,
                   f"Flux removes release {release} and the chart creates a new, empty PostgreSQL claim "
                   f"data-{new_release}-postgresql-0 in {new_namespace}, while the old one with the metadata database is "
                   f"orphaned, and new DAG and log claims replace the old ones",
                   f"keep release and namespace as they were, or {backup}, merge, and restore it into "
                   f"{new_release}-postgresql-0 in {new_namespace} (psql) before the scheduler starts")


def _namespace_removed(report: _Report, old: Mapping[str, Any], added: Sequence[Mapping[str, Any]]) -> None:
    successor = next((_meta(o, "name") for o in added), "(removed)")
    kept = _get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    report.add(old, "metadata.name", _meta(old, "name"), successor, DATA,
               ("Flux leaves the old namespace with its claims (the metadata database among them), and everything "
                "is created anew, empty, in the new one") if kept
               else "Flux deletes the old namespace and every claim in it, the metadata database among them",
               "keep the namespace, or back up the metadata database and copy the DAG and log files before merging")


def _kustomization(report: _Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """The cluster wiring: Flux moves from a Celery overlay to one without Celery."""
    before, after = _overlay_of(old), _overlay_of(new)
    if before in CELERY_OVERLAYS and after in OVERLAYS and after not in CELERY_OVERLAYS:
        report.add(new, "spec.path", _get(old, "spec", "path"), _get(new, "spec", "path"), DATA,
                   "the cluster leaves the Celery executor: the Celery workers and the Redis broker go, with the "
                   "tasks queued in Redis",
                   "pause the DAGs (airflow dags pause) and wait until no task is queued or running before merging")


# --- the classifier ------------------------------------------------------------------------------

def classify(overlay: str, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]],
             old: Config | None = None, new: Config | None = None) -> list[Finding]:
    """Every finding for one overlay's objects `before` -> `after`, sorted; [] when the change is safe."""
    before = [o for o in before if isinstance(o, dict)]
    after = [o for o in after if isinstance(o, dict)]
    report = _Report(overlay, _names(before, after, old, new))
    old_by_key, new_by_key = {object_key(o): o for o in before}, {object_key(o): o for o in after}
    classes = {_meta(o, "name"): o for o in [*before, *after] if o.get("kind") == "StorageClass"}
    classes.update({_meta(o, "name"): o for o in after if o.get("kind") == "StorageClass"})
    report.removed_claims = {name for kind, _ns, name in old_by_key.keys() - new_by_key.keys()
                             if kind == "PersistentVolumeClaim"}
    for key in sorted(old_by_key.keys() & new_by_key.keys()):
        was, now = old_by_key[key], new_by_key[key]
        if was == now:
            continue
        kind = key[0]
        if kind == "PersistentVolume":
            _persistent_volume(report, was, now)
        elif kind == "PersistentVolumeClaim":
            _persistent_volume_claim(report, was, now, classes)
        elif kind == "StorageClass":
            _storage_class(report, was, now)
        elif kind == "StatefulSet":
            _statefulset(report, was, now)
        elif kind in ("Deployment", "DaemonSet", "ReplicaSet"):
            _selector(report, was, now)
        elif kind == "Job":
            _job(report, was, now)
        elif kind == "Service":
            _service(report, was, now)
        elif _is_airflow(was) and _is_airflow(now):
            _helm_release(report, was, now)
        elif kind == "Kustomization":
            _kustomization(report, was, now)
        elif _is_cnpg_cluster(was) and _is_cnpg_cluster(now):
            _cnpg_cluster(report, was, now)
    gone = [old_by_key[k] for k in sorted(old_by_key.keys() - new_by_key.keys())]
    added = [new_by_key[k] for k in sorted(new_by_key.keys() - old_by_key.keys())]
    for obj in gone:
        kind = obj.get("kind")
        if kind == "PersistentVolume":
            _volume_removed(report, obj, after)
        elif kind == "PersistentVolumeClaim":
            _claim_removed(report, obj, before, after)
        elif _is_cnpg_cluster(obj):
            _cnpg_cluster_removed(report, obj)
        elif kind == "Kustomization":
            _kustomization_removed(report, obj, added)
        elif kind == "Namespace":
            _namespace_removed(report, obj, [o for o in added if o.get("kind") == "Namespace"])
        elif kind == "StatefulSet" and _get(obj, "spec", "volumeClaimTemplates", default=None):
            name = _meta(obj, "name")
            claims = ", ".join(f"{_meta(t, 'name')}-{name}-N" for t in _get(obj, "spec", "volumeClaimTemplates"))
            report.add(obj, "metadata.name", name, "(removed)", DATA,
                       f"its claims ({claims}) stay, orphaned, with their data",
                       "copy what is on them before merging, then delete them by hand")
    _release_moved(report, [o for o in gone if _is_airflow(o)], [o for o in added if _is_airflow(o)])
    return sorted(set(report.found), key=lambda f: (f.kind, f.namespace, f.name, f.field, f.old, f.new))


def classify_text(overlay: str, before: str | None, after: str | None, old: Config | None = None,
                  new: Config | None = None) -> list[Finding]:
    """`classify` over two YAML texts; a side that does not exist counts as no objects."""
    return classify(overlay, generated_objects(before), generated_objects(after), old, new)
