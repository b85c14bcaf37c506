"""PersistentVolumes, PersistentVolumeClaims and StorageClasses: what the API server refuses to update, and the
files a change leaves behind. Rules follow pkg/apis/core/validation/validation.go and
pkg/apis/storage/validation/validation.go (kubernetes/kubernetes, master), cited at each rule."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator.knowledge.danger.common import FORCE_ANNOTATION, PRUNE_ANNOTATION, UNSET, Report, changed, get, meta
from generator.knowledge.danger.finding import DATA, MERGE_NOW, REFUSED, merge_first
from generator.knowledge.quantities import quantity
from generator.plumbing.objects import object_key

# --- PersistentVolume ----------------------------------------------------------------------------

# PersistentVolumeSpec fields outside the inline PersistentVolumeSource; everything else is the source.
_PV_NOT_SOURCE = {"accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity",
                  "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName"}


def _pv_source(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (obj.get("spec") or {}).items() if k not in _PV_NOT_SOURCE}


def _pv_place(source: Mapping[str, Any]) -> str:
    if "hostPath" in source:
        return f"{get(source, 'hostPath', 'path', default='?')} on the node"
    if "nfs" in source:
        return f"{get(source, 'nfs', 'server', default='?')}:{get(source, 'nfs', 'path', default='?')}"
    return "the old volume"


def _recreate_volume(report: Report, old: Mapping[str, Any], new: Mapping[str, Any], move: bool) -> tuple[str, ...]:
    """Suspend, scale down, (move the files,) delete claim and volume, merge, resume."""
    names = report.names
    claim = get(old, "spec", "claimRef", default={}) or {}
    steps = [names.suspend(), names.scale_down()]
    if get(old, "spec", "persistentVolumeReclaimPolicy", default="Retain") != "Retain":
        steps.append(f"keep the files (kubectl patch pv {meta(old, 'name')} -p "
                     "'{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}')")
    if move and _pv_place(_pv_source(old)) != _pv_place(_pv_source(new)):
        steps.append(f"move the files from {_pv_place(_pv_source(old))} to {_pv_place(_pv_source(new))}")
    if claim.get("name"):
        steps.append(f"delete the claim and the volume (kubectl -n {claim.get('namespace', names.namespace)} delete pvc "
                     f"{claim['name']}; kubectl delete pv {meta(old, 'name')})")
    else:
        steps.append(f"delete the volume (kubectl delete pv {meta(old, 'name')})")
    return (*steps, MERGE_NOW, names.resume())


def persistent_volume(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # pkg/apis/core/validation/validation.go ValidatePersistentVolumeUpdate: the PersistentVolumeSource
    # is compared with apiequality.Semantic.DeepEqual ("spec.persistentvolumesource is immutable after
    # creation"); volumeMode through ValidateImmutableField; nodeAffinity once set (validatePvNodeAffinity).
    source_old, source_new = _pv_source(old), _pv_source(new)
    if set(source_old) != set(source_new):  # another backend: one finding, the two places
        changed_source = [("spec (volume source)", f"{'/'.join(sorted(source_old))} {_pv_place(source_old)}",
                           f"{'/'.join(sorted(source_new))} {_pv_place(source_new)}")]
    else:
        changed_source = changed(source_old, source_new, "spec")
    for field, before, after in changed_source:
        report.add(new, field, before, after, REFUSED,
                   "refused: a PersistentVolume's source is immutable after creation, and the files stay where they are",
                   _recreate_volume(report, old, new, move=True))
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    if spec_old.get("volumeMode", "Filesystem") != spec_new.get("volumeMode", "Filesystem"):
        report.add(new, "spec.volumeMode", spec_old.get("volumeMode", UNSET), spec_new.get("volumeMode", UNSET),
                   REFUSED, "refused: spec.volumeMode of a PersistentVolume is immutable",
                   _recreate_volume(report, old, new, move=False))
    if "nodeAffinity" in spec_old and spec_old.get("nodeAffinity") != spec_new.get("nodeAffinity"):
        report.add(new, "spec.nodeAffinity", spec_old["nodeAffinity"], spec_new.get("nodeAffinity", UNSET), REFUSED,
                   "refused: a PersistentVolume's nodeAffinity is immutable once set",
                   _recreate_volume(report, old, new, move=False))
    before = spec_old.get("persistentVolumeReclaimPolicy", "Retain")
    after = spec_new.get("persistentVolumeReclaimPolicy", "Retain")
    if before == "Retain" and after != "Retain":
        report.add(new, "spec.persistentVolumeReclaimPolicy", before, after, DATA,
                   f"deleting the claim now deletes (or recycles) the files at {_pv_place(_pv_source(new))}",
                   "keep storage.reclaimPolicy: Retain unless the data may go with the claim")


def volume_removed(report: Report, old: Mapping[str, Any]) -> None:
    source = _pv_source(old)
    if any(o.get("kind") == "PersistentVolume" and _pv_source(o) == source for o in report.after):
        return  # another volume of the new output points at the same files
    kept = get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    fate = "Flux leaves it in the cluster, no longer managed," if kept else "Flux deletes it"
    report.add(old, "metadata.name", meta(old, "name"), "(removed)", DATA,
               f"{fate} and the files at {_pv_place(source)} are not carried to the new storage",
               (report.names.suspend(), report.names.scale_down(), "copy the files to the new storage", MERGE_NOW,
                report.names.resume(), "delete the old claim and volume by hand once the files are safe"))


# --- PersistentVolumeClaim -----------------------------------------------------------------------

def _expandable(class_name: Any, classes: Mapping[str, Mapping[str, Any]]) -> bool | None:
    """True or False from the StorageClass among the objects; None when it is not one of them (or the default)."""
    if not class_name:
        return None
    found = classes.get(str(class_name))
    return None if found is None else found.get("allowVolumeExpansion") is True


def _recreate_claim(report: Report, old: Mapping[str, Any], static: bool) -> tuple[str, ...]:
    names = report.names
    namespace, claim = meta(old, "namespace") or names.namespace, meta(old, "name")
    volume = get(old, "spec", "volumeName", default="")
    if static and volume:
        return (names.suspend(), names.scale_down(),
                f"delete the claim and its volume (kubectl -n {namespace} delete pvc {claim}; kubectl delete pv "
                f"{volume}; the files stay on the volume's storage with reclaimPolicy Retain)", MERGE_NOW,
                names.resume())
    return ("back up the files on the claim", names.suspend(), names.scale_down(),
            f"delete the claim (kubectl -n {namespace} delete pvc {claim})", MERGE_NOW, names.resume(),
            "restore the files")


_CLAIM_ORDER = ("storageClassName", "accessModes", "volumeMode", "volumeName", "selector", "dataSource")


def persistent_volume_claim(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate: the whole spec must be
    # equal except resources.requests.storage (bound claims only, never smaller), volumeAttributesClassName,
    # and a volumeName the old claim did not have ("spec is immutable after creation except
    # resources.requests and volumeAttributesClassName for bound claims").
    spec_old = json.loads(json.dumps(old.get("spec") or {}))
    spec_new = json.loads(json.dumps(new.get("spec") or {}))
    size_old = get(spec_old, "resources", "requests", "storage")
    size_new = get(spec_new, "resources", "requests", "storage")
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
    static = bool(get(old.get("spec") or {}, "volumeName", default=""))
    fields = sorted((k for k in spec_old.keys() | spec_new.keys()
                     if spec_old.get(k, UNSET) != spec_new.get(k, UNSET)),
                    key=lambda k: (_CLAIM_ORDER.index(k) if k in _CLAIM_ORDER else len(_CLAIM_ORDER), k))
    if fields:  # one finding per claim: the field that says most, the others named
        first, others = fields[0], [f"spec.{k}" for k in fields[1:]]
        also = f" (it also changes {', '.join(others)})" if others else ""
        report.add(new, f"spec.{first}", spec_old.get(first, UNSET), spec_new.get(first, UNSET), REFUSED,
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
    class_name = get(new.get("spec") or {}, "storageClassName", default="")
    expandable = _expandable(class_name, report.classes)
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
        todo += ("a static volume's size is only a label: the files are not touched",)
    report.add(new, "spec.resources.requests.storage", size_old, size_new, REFUSED, why, todo)


def claim_removed(report: Report, old: Mapping[str, Any]) -> None:
    volume = get(old, "spec", "volumeName", default="")
    bound = next((o for o in report.before if o.get("kind") == "PersistentVolume" and meta(o, "name") == volume),
                 None)
    if bound is not None and not any(object_key(o) == object_key(bound) for o in report.after):
        return  # the files are where its volume points: a new claim on them, or the removed volume says so
    kept = get(old, "metadata", "annotations", PRUNE_ANNOTATION, default="") == "disabled"
    fate = ("Flux leaves it in the cluster, unmounted," if kept
            else "Flux deletes it (and with reclaimPolicy Delete its volume)")
    report.add(old, "metadata.name", meta(old, "name"), "(removed)", DATA,
               f"{fate} and its files are not carried to the new storage",
               (report.names.suspend(), report.names.scale_down(), "copy the files off the claim", MERGE_NOW,
                report.names.resume(), "delete the claim by hand once the files are safe"))


# --- StorageClass --------------------------------------------------------------------------------

# pkg/apis/storage/validation/validation.go ValidateStorageClassUpdate: parameters, provisioner,
# reclaimPolicy and volumeBindingMode are forbidden to change. Defaults as the API server sets them.
_CLASS_FIELDS = {"provisioner": "", "parameters": {}, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}


def storage_class(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    forced = get(new, "metadata", "annotations", FORCE_ANNOTATION, default="").lower() == "enabled"
    for field, default in _CLASS_FIELDS.items():
        before, after = old.get(field, default) or default, new.get(field, default) or default
        if before == after:
            continue
        todo = ((f"{MERGE_NOW}: Flux deletes and recreates it ({FORCE_ANNOTATION}: enabled is set; applied by hand, "
                 f"run kubectl delete storageclass {meta(new, 'name')} first); existing volumes keep the old setting",)
                if forced else merge_first(f"delete the StorageClass (kubectl delete storageclass {meta(new, 'name')}) "
                                           f"and let Flux create it anew; existing volumes keep the old setting"))
        report.add(new, field, before, after, REFUSED, f"refused: updates to a StorageClass's {field} are forbidden",
                   todo)

