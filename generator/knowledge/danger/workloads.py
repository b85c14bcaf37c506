"""StatefulSets, Deployments (and DaemonSets, ReplicaSets), Jobs and Services: the spec fields the API server
refuses to change (pkg/apis/apps/validation, pkg/apis/batch/validation, pkg/apis/core/validation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.knowledge.danger.common import UNSET, Report, changed, get, meta
from generator.knowledge.danger.finding import DATA, MERGE_NOW, REFUSED, merge_first

# --- workloads -----------------------------------------------------------------------------------

# pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate: only these spec fields may change.
_STATEFULSET_MUTABLE = {"replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
                        "persistentVolumeClaimRetentionPolicy"}
_STATEFULSET_DEFAULTS = {"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10}


def statefulset(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    name, namespace = meta(new, "name"), meta(new, "namespace") or report.names.namespace
    fixed = sorted((set(spec_old) | set(spec_new) | set(_STATEFULSET_DEFAULTS)) - _STATEFULSET_MUTABLE)
    for key in fixed:
        before = spec_old.get(key, _STATEFULSET_DEFAULTS.get(key, UNSET))
        after = spec_new.get(key, _STATEFULSET_DEFAULTS.get(key, UNSET))
        if before == after:
            continue
        step = (f"delete the StatefulSet but keep its pods and claims (kubectl -n {namespace} delete statefulset "
                f"{name} --cascade=orphan), then let Flux or Helm create it anew")
        if key == "volumeClaimTemplates":
            step += "; claims made from the old template keep their old size and class"
        todo = merge_first(step)
        for field, was, now in changed(before, after, f"spec.{key}"):
            report.add(new, field, was, now, REFUSED,
                       "refused: a StatefulSet's spec may change only in replicas, template, updateStrategy, "
                       "ordinals, minReadySeconds and persistentVolumeClaimRetentionPolicy", todo)


def selector(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    # pkg/registry/apps/deployment/strategy.go (and daemonset, replicaset) ValidateUpdate: apps/v1
    # forbids changing spec.selector (apivalidation.ValidateImmutableField).
    before, after = get(old, "spec", "selector"), get(new, "spec", "selector")
    if before == after:
        return
    kind, name = str(new.get("kind")), meta(new, "name")
    namespace = meta(new, "namespace") or report.names.namespace
    report.add(new, "spec.selector", before, after, REFUSED, f"refused: a {kind}'s selector is immutable",
               merge_first(f"delete the {kind} (kubectl -n {namespace} delete {kind.lower()} {name}) and let Flux or "
                           f"Helm create it anew (its pods restart)"))


# pkg/apis/batch/validation/validation.go ValidateJobSpecUpdate: these are immutable, the pod template
# through validatePodTemplateUpdate (scheduling directives aside, for suspended Jobs only).
_JOB_IMMUTABLE = ("template", "selector", "completions", "completionMode", "podFailurePolicy",
                  "backoffLimitPerIndex", "managedBy", "successPolicy")


def job(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    annotations = get(old, "metadata", "annotations", default={}) or {}
    if "helm.sh/hook" in annotations or get(old, "spec", "ttlSecondsAfterFinished", default=None) is not None:
        return  # Helm recreates hook Jobs, and a Job with a TTL is deleted soon after it finishes
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    name, namespace = meta(new, "name"), meta(new, "namespace") or report.names.namespace
    for key in _JOB_IMMUTABLE:
        if spec_old.get(key, UNSET) == spec_new.get(key, UNSET):
            continue
        for field, was, now in changed(spec_old.get(key, UNSET), spec_new.get(key, UNSET), f"spec.{key}"):
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
def service(report: Report, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    spec_old, spec_new = old.get("spec") or {}, new.get("spec") or {}
    type_old, type_new = spec_old.get("type", "ClusterIP"), spec_new.get("type", "ClusterIP")
    name, namespace = meta(new, "name"), meta(new, "namespace") or report.names.namespace
    todo = merge_first(f"delete the Service (kubectl -n {namespace} delete service {name}) and let Flux or Helm "
                       f"create it anew")

    def ip(spec: Mapping[str, Any]) -> Any:
        return spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]

    if "ExternalName" not in (type_old, type_new):
        before, after = ip(spec_old), ip(spec_new)
        if before and after and before != after:
            report.add(new, "spec.clusterIP", before, after, REFUSED, "refused: a Service's clusterIP is immutable",
                       todo)
        elif not before and after:  # the live Service has one the API server allocated
            report.add(new, "spec.clusterIP", UNSET, after, REFUSED,
                       "refused unless it equals the clusterIP the API server allocated to the live Service", todo)
        elif before == "None" and not after and type_new in ("NodePort", "LoadBalancer"):
            report.add(new, "spec.type", type_old, type_new, REFUSED,
                       f"refused: a headless Service (clusterIP None) cannot become {type_new}", todo)
        families_old, families_new = spec_old.get("ipFamilies") or [], spec_new.get("ipFamilies") or []
        if families_old and families_new and families_old[0] != families_new[0]:
            report.add(new, "spec.ipFamilies", families_old, families_new, REFUSED,
                       "refused: a Service's primary IP family is immutable", todo)
    if type_old == type_new == "LoadBalancer" and spec_old.get("loadBalancerClass") != spec_new.get("loadBalancerClass"):
        report.add(new, "spec.loadBalancerClass", spec_old.get("loadBalancerClass", UNSET),
                   spec_new.get("loadBalancerClass", UNSET), REFUSED,
                   "refused: a LoadBalancer Service's loadBalancerClass is immutable", todo)
    hc_old, hc_new = spec_old.get("healthCheckNodePort"), spec_new.get("healthCheckNodePort")
    if hc_old and hc_new and hc_old != hc_new:
        report.add(new, "spec.healthCheckNodePort", hc_old, hc_new, REFUSED,
                   "refused: a Service's healthCheckNodePort is immutable", todo)



def statefulset_removed(report: Report, old: Mapping[str, Any]) -> None:
    templates = get(old, "spec", "volumeClaimTemplates", default=None)
    if not templates:
        return
    name = meta(old, "name")
    claims = ", ".join(f"{meta(t, 'name')}-{name}-N" for t in templates)
    report.add(old, "metadata.name", name, "(removed)", DATA, f"its claims ({claims}) stay, orphaned, with their data",
               ("copy what is on them", MERGE_NOW, "delete them by hand"))
