"""The change classifier: every rule on objects built here (gen's shapes and the chart's), the changes
that must pass without a finding, and the line format."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from generator.knowledge import changes, quantities
from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.changes import DATA, REFUSED, RUNBOOK, classify
from generator.knowledge.danger import common
from generator.knowledge.danger.finding import merged


def _pv(path: str = "/srv/airflow/dags", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": "airflow-airflow-dags", "annotations": {common.PRUNE_ANNOTATION: "disabled"}},
            "spec": {"accessModes": ["ReadOnlyMany"], "capacity": {"storage": "1Gi"},
                     "claimRef": {"namespace": "airflow", "name": "airflow-dags"},
                     "hostPath": {"path": path, "type": "DirectoryOrCreate"},
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "airflow-storage",
                     "volumeMode": "Filesystem", **spec}}


def _pvc(size: str = "1Gi", name: str = "airflow-dags", **spec: Any) -> dict[str, Any]:
    body = {"accessModes": ["ReadOnlyMany"], "resources": {"requests": {"storage": size}},
            "selector": {"matchLabels": {"type": "airflow-dags"}}, "storageClassName": "airflow-storage",
            "volumeMode": "Filesystem", "volumeName": "airflow-airflow-dags", **spec}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "airflow", "annotations": {common.PRUNE_ANNOTATION: "disabled"}},
            "spec": {k: v for k, v in body.items() if v is not None}}


def _class(name: str = "airflow-storage", **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": "kubernetes.io/no-provisioner", "reclaimPolicy": "Retain",
            "volumeBindingMode": "WaitForFirstConsumer", **fields}


def _release(name: str = "airflow", namespace: str = "airflow", version: str = "1.19.0",
             **values: Any) -> dict[str, Any]:
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"chart": {"spec": {"chart": "airflow", "version": version}}, "releaseName": name,
                     "values": {"airflowVersion": "3.1.7", "executor": "CeleryExecutor", **values}}}


def _postgresql(size: str = "8Gi", replicas: int = 1, image: str = "16.1.0") -> dict[str, Any]:
    """The shape of the bitnami PostgreSQL StatefulSet the chart renders."""
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "airflow-postgresql", "namespace": "airflow"},
            "spec": {"replicas": replicas, "serviceName": "airflow-postgresql-hl",
                     "selector": {"matchLabels": {"app.kubernetes.io/instance": "airflow",
                                                  "app.kubernetes.io/name": "postgresql"}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": "postgresql"}},
                                  "spec": {"containers": [{"name": "postgresql", "image": f"postgresql:{image}"}]}},
                     "updateStrategy": {"type": "RollingUpdate"},
                     "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                               "metadata": {"name": "data"},
                                               "spec": {"accessModes": ["ReadWriteOnce"],
                                                        "resources": {"requests": {"storage": size}}}}]}}


def _deployment(selector: str = "scheduler", image: str = "airflow:3.1.7", replicas: int = 1) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "airflow-scheduler", "namespace": "airflow"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"component": selector}},
                     "template": {"metadata": {"labels": {"component": selector}},
                                  "spec": {"containers": [{"name": "scheduler", "image": image}]}}}}


def _job(image: str = "airflow:3.1.7", ttl: int | None = None, hook: bool = False, parallelism: int = 1) -> dict[str, Any]:
    """The chart's migration Job with useHelmHooks: false."""
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "airflow-run-airflow-migrations", "namespace": "airflow"},
           "spec": {"parallelism": parallelism,
                    "template": {"spec": {"restartPolicy": "OnFailure",
                                          "containers": [{"name": "run-airflow-migrations", "image": image}]}}}}
    if ttl is not None:
        job["spec"]["ttlSecondsAfterFinished"] = ttl
    if hook:
        job["metadata"]["annotations"] = {"helm.sh/hook": "post-install,post-upgrade"}
    return job


def _service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "airflow-api-server", "namespace": "airflow"},
            "spec": {"type": "ClusterIP", "ports": [{"port": 8080}], "selector": {"component": "api-server"}, **spec}}


def _runbook(finding: changes.Finding) -> str:
    return "\n".join(finding.steps)


def found(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(kind, field, category) of each finding; `; ` parts the why from what to do, so no why holds one."""
    findings = classify("celery-executor", before, after)
    assert all("; " not in f.why and f.line.startswith("danger: celery-executor ") for f in findings)
    assert all(len(f.line) <= 200 and sum(s.startswith("merge now") for s in f.steps) == 1 for f in findings)
    return [(f.kind, f.field, f.category) for f in findings]


# --- PersistentVolume ------------------------------------------------------------------------------

def test_a_new_host_path_is_refused_with_the_move_procedure():
    [finding] = classify("celery-executor", [_pv()], [_pv("/data/dags")])
    assert (finding.field, finding.old, finding.new, finding.category) == (
        "spec.hostPath.path", "/srv/airflow/dags", "/data/dags", REFUSED)
    assert "immutable" in finding.why
    for step in ("flux suspend kustomization", "scale deployment,statefulset --all --replicas=0",
                 "move the files from /srv/airflow/dags on the node to /data/dags on the node",
                 "kubectl -n airflow delete pvc airflow-dags; kubectl delete pv airflow-airflow-dags",
                 "flux resume kustomization"):
        assert step in _runbook(finding), step
    steps = _runbook(finding)
    assert steps.index("suspend") < steps.index("move") < steps.index("delete pvc") < steps.index("merge now") \
        < steps.index("resume")


def test_another_backend_is_one_finding_naming_both_places():
    nfs = _pv()
    del nfs["spec"]["hostPath"]
    nfs["spec"]["nfs"] = {"server": "nas.lan", "path": "/export/dags"}
    [finding] = classify("celery-executor", [_pv()], [nfs])
    assert (finding.field, finding.new) == ("spec (volume source)", "nfs nas.lan:/export/dags")


@pytest.mark.parametrize(("field", "old", "new"), [
    ("volumeMode", "Filesystem", "Block"),
    ("nodeAffinity", {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "node", "operator": "In", "values": ["a"]}]}]}}, {"required": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "node", "operator": "In", "values": ["b"]}]}]}}),
])
def test_a_volume_mode_or_node_affinity_change_is_refused(field, old, new):
    assert found([_pv(**{field: old})], [_pv(**{field: new})]) == [("PersistentVolume", f"spec.{field}", REFUSED)]


def test_a_looser_reclaim_policy_puts_the_files_at_risk():
    assert found([_pv()], [_pv(persistentVolumeReclaimPolicy="Delete")]) == [
        ("PersistentVolume", "spec.persistentVolumeReclaimPolicy", DATA)]


def test_a_volume_may_grow_change_access_modes_and_class_without_a_finding():
    assert found([_pv()], [_pv(capacity={"storage": "5Gi"}, accessModes=["ReadWriteMany"],
                               storageClassName="other")]) == []


def test_a_removed_volume_orphans_its_files_unless_another_points_at_them():
    renamed = _pv()
    renamed["metadata"]["name"] = "af2-airflow-dags"
    assert found([_pv()], []) == [("PersistentVolume", "metadata.name", DATA)]
    assert found([_pv()], [renamed]) == []


# --- PersistentVolumeClaim -------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "field"), [
    ({"accessModes": ["ReadWriteMany"]}, "spec.accessModes"),
    ({"storageClassName": "longhorn", "volumeName": None, "selector": None}, "spec.storageClassName"),
    ({"selector": {"matchLabels": {"type": "other"}}}, "spec.selector"),
    ({"volumeMode": "Block"}, "spec.volumeMode"),
])
def test_a_claim_spec_change_is_refused_as_one_finding(spec, field):
    [finding] = classify("celery-executor", [_pvc()], [_pvc(**spec)])
    assert (finding.field, finding.category) == (field, REFUSED)
    assert "delete pvc airflow-dags" in _runbook(finding)


def test_the_other_changed_claim_fields_are_named():
    [finding] = classify("celery-executor", [_pvc()], [_pvc(storageClassName="longhorn", volumeName=None, selector=None)])
    assert "(it also changes spec.volumeName, spec.selector)" in finding.why


def test_a_smaller_claim_is_refused():
    assert found([_pvc("10Gi")], [_pvc("5Gi")]) == [("PersistentVolumeClaim", "spec.resources.requests.storage", REFUSED)]


def test_a_larger_claim_on_a_class_without_expansion_is_refused():
    [finding] = classify("celery-executor", [_class(), _pvc("10Gi")], [_class(), _pvc("20Gi")])
    assert (finding.field, finding.old, finding.new) == ("spec.resources.requests.storage", "10Gi", "20Gi")
    assert "does not allow volume expansion" in finding.why
    assert "a static volume's size is only a label" in _runbook(finding)


def test_a_larger_claim_on_an_expandable_class_passes():
    expandable = _class("longhorn", provisioner="driver.longhorn.io", allowVolumeExpansion=True)
    dynamic = {"storageClassName": "longhorn", "volumeName": None, "selector": None}
    assert found([expandable, _pvc("10Gi", **dynamic)], [expandable, _pvc("20Gi", **dynamic)]) == []
    assert found([expandable, _pvc("10Gi", **dynamic)], [expandable, _pvc("10240Mi", **dynamic)]) == []


def test_a_larger_claim_on_a_class_gen_does_not_make_says_what_to_check():
    dynamic = {"storageClassName": "local-path", "volumeName": None, "selector": None}
    [finding] = classify("celery-executor", [_pvc("1Gi", **dynamic)], [_pvc("2Gi", **dynamic)])
    assert "refused unless StorageClass local-path has allowVolumeExpansion: true" in finding.why
    assert "back up the files on the claim" in _runbook(finding)


def test_the_same_quantity_written_another_way_is_no_change():
    assert found([_class(), _pvc("1Gi")], [_class(), _pvc("1024Mi")]) == []


def test_a_larger_claim_on_the_default_class_says_what_to_check():
    [finding] = classify("x", [_pvc("1Gi", storageClassName=None, volumeName=None, selector=None)],
                         [_pvc("2Gi", storageClassName=None, volumeName=None, selector=None)])
    assert "refused unless the cluster's default StorageClass has allowVolumeExpansion: true" in finding.why


def test_a_volume_name_the_claim_did_not_have_may_be_set():
    assert found([_pvc(volumeName=None)], [_pvc()]) == []


def test_a_removed_claim_is_a_finding_unless_its_volume_is_one():
    dynamic = {"storageClassName": "longhorn", "volumeName": None, "selector": None}
    assert found([_pvc(**dynamic)], []) == [("PersistentVolumeClaim", "metadata.name", DATA)]
    assert found([_pv(), _pvc()], []) == [("PersistentVolume", "metadata.name", DATA)]


# --- StorageClass ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("provisioner", "rancher.io/local-path"), ("parameters", {"type": "ssd"}), ("reclaimPolicy", "Delete"),
    ("volumeBindingMode", "Immediate"),
])
def test_a_storage_class_change_is_refused(field, value):
    assert found([_class()], [_class(**{field: value})]) == [("StorageClass", field, REFUSED)]


def test_the_storage_class_procedure_knows_the_force_annotation():
    forced = _class(reclaimPolicy="Delete")
    forced["metadata"]["annotations"] = {common.FORCE_ANNOTATION: "enabled"}
    [finding] = classify("celery-executor", [_class()], [forced])
    assert "Flux deletes and recreates it" in _runbook(finding)


def test_a_storage_class_may_allow_expansion_and_default_fields_are_the_same():
    assert found([_class()], [_class(allowVolumeExpansion=True)]) == []
    plain = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "x"}, "provisioner": "p"}
    assert found([plain], [{**plain, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}]) == []


# --- StatefulSet, Deployment, Job, Service (the chart's objects) -------------------------------------

def test_a_statefulset_may_change_replicas_template_and_update_strategy():
    changed = _postgresql(replicas=3, image="16.2.0")
    changed["spec"]["updateStrategy"] = {"type": "OnDelete"}
    changed["spec"]["minReadySeconds"] = 10
    changed["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete"}
    assert found([_postgresql()], [changed]) == []


def test_a_statefulset_claim_template_or_selector_change_is_refused():
    assert found([_postgresql()], [_postgresql(size="16Gi")]) == [
        ("StatefulSet", "spec.volumeClaimTemplates[0].spec.resources.requests.storage", REFUSED)]
    reselected = _postgresql()
    reselected["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = "db"
    reselected["spec"]["serviceName"] = "db"
    assert found([_postgresql()], [reselected]) == [
        ("StatefulSet", "spec.selector.matchLabels.app.kubernetes.io/name", REFUSED),
        ("StatefulSet", "spec.serviceName", REFUSED)]
    [finding] = classify("x", [_postgresql()], [_postgresql(size="16Gi")])
    assert "delete statefulset airflow-postgresql --cascade=orphan" in _runbook(finding)


def test_a_removed_statefulset_leaves_its_claims_orphaned():
    [finding] = classify("x", [_postgresql()], [])
    assert finding.category == DATA and "data-airflow-postgresql-N" in finding.why


def test_a_deployment_may_change_its_pod_template_and_replicas_but_not_its_selector():
    assert found([_deployment()], [_deployment(image="airflow:3.1.8", replicas=3)]) == []
    assert found([_deployment()], [_deployment(selector="other")]) == [("Deployment", "spec.selector", REFUSED)]


@pytest.mark.parametrize("kind", ["DaemonSet", "ReplicaSet"])
def test_daemonset_and_replicaset_selectors_are_immutable_too(kind):
    old, new = _deployment(), _deployment(selector="other")
    old["kind"] = new["kind"] = kind
    assert found([old], [new]) == [(kind, "spec.selector", REFUSED)]


def test_a_job_that_outlives_its_run_refuses_a_new_template():
    assert found([_job()], [_job(image="airflow:3.1.8")]) == [("Job", "spec.template.spec.containers[0].image", REFUSED)]
    assert found([_job()], [_job(parallelism=2)]) == []


@pytest.mark.parametrize("old", [_job(ttl=300), _job(hook=True)])
def test_a_job_deleted_after_its_run_may_change(old):
    changed = copy.deepcopy(old)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "airflow:3.1.8"
    assert found([old], [changed]) == []


@pytest.mark.parametrize(("before", "after", "field"), [
    ({"clusterIP": "10.43.0.10"}, {"clusterIP": "10.43.0.11"}, "spec.clusterIP"),
    ({"clusterIP": "None"}, {"clusterIP": "10.43.0.11"}, "spec.clusterIP"),
    ({"clusterIP": "None"}, {"type": "NodePort"}, "spec.type"),
    ({"ipFamilies": ["IPv4"]}, {"ipFamilies": ["IPv6"]}, "spec.ipFamilies"),
    ({"type": "LoadBalancer", "loadBalancerClass": "a"}, {"type": "LoadBalancer", "loadBalancerClass": "b"},
     "spec.loadBalancerClass"),
    ({"type": "LoadBalancer", "healthCheckNodePort": 30001}, {"type": "LoadBalancer", "healthCheckNodePort": 30002},
     "spec.healthCheckNodePort"),
])
def test_service_ip_and_type_rules(before, after, field):
    assert found([_service(**before)], [_service(**after)]) == [("Service", field, REFUSED)]


@pytest.mark.parametrize(("before", "after"), [
    ({}, {"ports": [{"port": 8081}]}),
    ({}, {"type": "NodePort"}),
    ({"clusterIP": "10.43.0.10"}, {}),
    ({"type": "ExternalName", "externalName": "a.example.com"}, {"clusterIP": "10.43.0.10"}),
])
def test_service_changes_the_api_server_accepts(before, after):
    assert found([_service(**before)], [_service(**after)]) == []


# --- the Helm release ------------------------------------------------------------------------------

def test_a_chart_or_airflow_version_change_needs_a_runbook():
    assert found([_release()], [_release(version="1.20.0")]) == [("HelmRelease", "spec.chart.spec.version", RUNBOOK)]
    [finding] = classify("x", [_release()], [_release(airflowVersion="3.2.0")])
    assert (finding.field, finding.category) == ("values.airflowVersion", RUNBOOK)
    assert "back up the metadata database first" in _runbook(finding) and "pg_dump" in _runbook(finding)


def test_leaving_celery_loses_the_queue_and_leaving_kubernetes_leaves_its_pods_unwatched():
    assert found([_release()], [_release(executor="KubernetesExecutor")]) == [("HelmRelease", "values.executor", DATA)]
    assert found([_release(executor="KubernetesExecutor")], [_release()]) == [("HelmRelease", "values.executor",
                                                                              RUNBOOK)]  # its task pods, unwatched
    assert found([_release()], [_release(executor="CeleryExecutor,KubernetesExecutor")]) == []


def test_switching_the_bundled_postgresql_off_orphans_the_metadata_database():
    [finding] = classify("x", [_release()], [_release(postgresql={"enabled": False})])
    assert (finding.field, finding.category) == ("values.postgresql.enabled", DATA)
    assert "data-airflow-postgresql-0" in finding.why


@pytest.mark.parametrize("values", [{"postgresql": {"primary": {"persistence": {"size": "16Gi"}}}},
                                    {"redis": {"persistence": {"storageClassName": "fast"}}}])
def test_a_changed_database_or_broker_claim_is_refused_in_the_helm_upgrade(values):
    [(kind, field, category)] = found([_release()], [_release(**values)])
    assert (kind, category) == ("HelmRelease", REFUSED) and field.endswith(("size", "storageClassName"))


def test_database_and_broker_values_outside_the_claim_template_or_at_their_default_pass():
    assert found([_release()], [_release(postgresql={"primary": {"persistence": {"size": "8Gi", "mountPath": "/pg"}}},
                                         redis={"persistence": {"persistentVolumeClaimRetentionPolicy": {
                                             "whenDeleted": "Delete"}}})]) == []


def test_another_existing_claim_leaves_the_files_on_the_old_one():
    old = _release(dags={"persistence": {"enabled": True, "existingClaim": "mine"}})
    new = _release(dags={"persistence": {"enabled": True, "existingClaim": "theirs"}})
    assert found([old], [new]) == [("HelmRelease", "values.dags.persistence.existingClaim", DATA)]


def test_no_longer_mounting_a_users_claim_leaves_its_files_behind():
    old = _release(logs={"persistence": {"enabled": True, "existingClaim": "shared-logs"}})
    new = _release(logs={"persistence": {"enabled": False}})
    assert found([old], [new]) == [("HelmRelease", "values.logs.persistence.enabled", DATA)]


def test_a_claim_gen_no_longer_makes_is_one_finding_not_two():
    old = [_pv(), _pvc(), _release(dags={"persistence": {"enabled": True, "existingClaim": "airflow-dags"}})]
    new = [_release(dags={"persistence": {"enabled": True, "existingClaim": "shared-dags"}})]
    assert found(old, new) == [("PersistentVolume", "metadata.name", DATA)]


def test_a_release_no_longer_generated_is_uninstalled():
    [finding] = classify("x", [_release()], [])
    assert (finding.kind, finding.field, finding.new, finding.category) == ("HelmRelease", "metadata.name",
                                                                            "(removed)", DATA)


def test_value_changes_inside_the_release_pass():
    assert found([_release()], [_release(scheduler={"replicas": 3}, workers={"celery": {"replicas": 3}})]) == []


def test_a_renamed_release_or_namespace_orphans_the_database():
    [finding] = classify("x", [_release()], [_release(name="af2")])
    assert (finding.field, finding.old, finding.new, finding.category) == ("spec.releaseName", "airflow", "af2", DATA)
    assert "data-af2-postgresql-0" in finding.why
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "airflow", "annotations": {common.PRUNE_ANNOTATION: "disabled"}}}
    moved = copy.deepcopy(namespace)
    moved["metadata"]["name"] = "af2"
    assert found([namespace, _release()], [moved, _release(namespace="af2")]) == [
        ("HelmRelease", "metadata.namespace", DATA), ("Namespace", "metadata.name", DATA)]


def test_another_engine_for_the_same_release_needs_a_runbook():
    chart = {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": {"name": "airflow", "namespace": "kube-system"},
             "spec": {"chart": "airflow", "targetNamespace": "airflow", "version": "1.19.0", "valuesContent": "executor: CeleryExecutor\n"}}
    assert found([_release()], [chart]) == [("HelmRelease", "kind", RUNBOOK)]
    k3s = copy.deepcopy(chart)
    k3s["spec"]["valuesContent"] = "executor: KubernetesExecutor\n"
    assert found([chart], [k3s]) == [("HelmChart", "values.executor", DATA)]


def test_the_cluster_leaving_a_celery_overlay_is_a_finding():
    def wiring(path: str) -> dict[str, Any]:
        return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "airflow-airflow", "namespace": "flux-system"}, "spec": {"path": path}}
    assert found([wiring("./dist/celery-executor")], [wiring("./dist/kubernetes-executor")]) == [
        ("Kustomization", "spec.path", DATA)]
    assert found([wiring("./dist/kubernetes-executor")], [wiring("./dist/celery-executor")]) == []
    pruning = wiring("./dist/kubernetes-executor")
    pruning["spec"]["prune"] = True
    renamed = copy.deepcopy(pruning)
    renamed["metadata"]["name"] = "analytics-airflow"
    assert found([pruning], []) == [("Kustomization", "metadata.name", DATA)]
    assert found([pruning], [renamed]) == []


def test_the_local_path_provisioner_is_not_taken_for_airflow():
    provisioner = [
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
         "metadata": {"name": "local-path-provisioner", "namespace": "flux-system"}, "spec": {"path": "./deploy"}},
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
         "metadata": {"name": "local-path", "namespace": "kube-system"},
         "spec": {"chart": {"spec": {"chart": "local-path-provisioner"}}, "values": {}}}]
    assert found([*provisioner, _release()], [_release()]) == []
    [finding] = classify("x", [*provisioner, _release(), _pv()], [*provisioner, _release(), _pv("/data")])
    assert "flux suspend kustomization <kustomization> -n flux-system; flux suspend helmrelease airflow -n airflow" \
        in _runbook(finding)


def test_a_cloudnativepg_cluster_keeps_its_service_account_and_its_removal_loses_the_database():
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "airflow-db", "namespace": "airflow"},
               "spec": {"instances": 1, "serviceAccountName": "db", "storage": {"size": "1Gi"}}}
    renamed = copy.deepcopy(cluster)
    renamed["spec"]["serviceAccountName"] = "other"
    more = copy.deepcopy(cluster)
    more["spec"]["instances"] = 3
    assert found([cluster], [renamed]) == [("Cluster", "spec.serviceAccountName", REFUSED)]
    assert found([cluster], [more]) == []
    assert found([cluster], []) == [("Cluster", "metadata.name", DATA)]


# --- the line ----------------------------------------------------------------------------------------

def test_the_line_format():
    finding = changes.Finding("celery-executor", "PersistentVolumeClaim", "airflow", "airflow-logs",
                              "spec.resources.requests.storage", "10Gi", "20Gi", "refused: why", "what to do", REFUSED)
    assert finding.lines() == ["danger: celery-executor PersistentVolumeClaim airflow/airflow-logs: "
                               "spec.resources.requests.storage: 10Gi -> 20Gi: refused: why",
                               "  1. what to do", "  2. merge now"]
    cluster_scoped = changes.Finding("x", "PersistentVolume", "", "pv", "f", "a", "b", "w", ("t", "merge now", "u"),
                                     DATA)
    assert cluster_scoped.lines() == ["danger: x PersistentVolume pv: f: a -> b: w", "  1. t", "  2. merge now",
                                      "  3. u"]
    assert cluster_scoped.markdown() == ["- `danger: x PersistentVolume pv: f: a -> b: w`", "  1. t",
                                         "  2. merge now", "  3. u"]


def test_a_long_why_and_long_values_keep_the_first_line_within_200_characters():
    why = "refused: " + "a reason worth reading " * 20
    finding = changes.Finding("celery-executor", "HelmRelease", "airflow", "airflow", "values.x", "o" * 300, "n" * 300,
                              why, "do it", REFUSED)
    first, whole, *steps = finding.lines()
    assert len(first) <= 200 and first.endswith("…") and "o" * 39 + "…" in first
    assert whole == f"  why: {why}" and steps == ["  1. do it", "  2. merge now"]


def test_a_finding_of_several_overlays_is_one_naming_them():
    one = changes.Finding("kubernetes-executor", "Namespace", "", "airflow", "f", "a", "b", "w", "t", DATA)
    other = changes.Finding("celery-executor", "Namespace", "", "airflow", "f", "a", "b", "w", "t", DATA)
    assert merged([one, other, one], OVERLAYS) == [
        changes.Finding("celery-executor, kubernetes-executor", "Namespace", "", "airflow", "f", "a", "b", "w", "t",
                        DATA)]


def test_procedures_name_the_flux_objects_gen_generates(tmp_path):
    from support import make_project
    from test_review import wire

    from generator import config as config_module

    config = config_module.load(wire(make_project(tmp_path)))
    [finding] = classify("kubernetes-executor", [_release(), _pv()], [_release(), _pv("/data")], config, config)
    assert "flux suspend kustomization airflow-airflow -n flux-system; flux suspend helmrelease airflow -n airflow" \
        in _runbook(finding)


@pytest.mark.parametrize(("text", "value"), [("10Gi", 10 * 2**30), ("500M", 500 * 10**6), ("1e3", 1000),
                                             ("250m", 0.25), ("10", 10), ("ten", None)])
def test_quantities(text, value):
    assert quantities.quantity(text) == (None if value is None else pytest.approx(value))


# --- where it shows: gen diff and gen synth in a real Git repository ---------------------------------

def _edit(config, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


def test_diff_exit_codes_0_1_2_3(tmp_path):
    from test_review import gen, repository, set_scheduler_replicas

    config = repository(tmp_path)
    assert gen("diff", "--config", str(config)).exit_code == 0
    set_scheduler_replicas(tmp_path, 3)  # a value inside the pod templates: changes, no danger
    result = gen("diff", "--config", str(config))
    assert result.exit_code == 1 and "danger:" not in result.output
    assert gen("diff", "--config", str(config), "--base", "no-such-ref").exit_code == 2
    _edit(config, "hostPath: /srv/airflow/dags", "hostPath: /data/dags")
    result = gen("diff", "--config", str(config), "--overlay", "celery-executor")
    assert result.exit_code == 3
    first, *rest = result.stdout.splitlines()
    assert first.startswith("danger: celery-executor PersistentVolume airflow-airflow-dags: spec.hostPath.path: "
                            "/srv/airflow/dags -> /data/dags: refused: ")
    runbook = rest[:next(index for index, line in enumerate(rest) if not line.startswith("  "))]
    assert any(line.endswith(". merge now") for line in runbook)
    assert rest[len(runbook)].startswith("== celery-executor: ")
    assert "danger:" not in "\n".join(rest)


def test_diff_exits_3_for_a_larger_logs_claim_and_a_new_access_mode(tmp_path):
    from test_review import gen, repository

    config = repository(tmp_path)
    _edit(config, "size: 10Gi", "size: 20Gi")
    _edit(config, "accessMode: ReadOnlyMany", "accessMode: ReadWriteMany")
    result = gen("diff", "--config", str(config), "--overlay", "kubernetes-executor")
    assert result.exit_code == 3
    dangers = [line for line in result.stdout.splitlines() if line.startswith("danger:")]
    assert [line.split(": ")[1] for line in dangers] == [
        "kubernetes-executor PersistentVolumeClaim airflow/airflow-dags",
        "kubernetes-executor PersistentVolumeClaim airflow/airflow-logs"]
    assert "spec.accessModes: [\"ReadOnlyMany\"] -> [\"ReadWriteMany\"]" in dangers[0]
    assert "spec.resources.requests.storage: 10Gi -> 20Gi" in dangers[1]


def test_diff_markdown_puts_the_findings_first(tmp_path):
    from test_review import gen, repository

    config = repository(tmp_path)
    _edit(config, "release: airflow", "release: analytics")
    result = gen("diff", "--config", str(config), "--overlay", "celery-executor", "--format", "markdown")
    assert result.exit_code == 3
    body = result.stdout
    assert body.index("#### Needs care before merging") < body.index("| overlay |")
    assert "- `danger: celery-executor HelmRelease airflow/airflow: spec.releaseName: airflow -> analytics: " in body


def test_diff_flags_the_cluster_leaving_the_celery_overlay(tmp_path):
    from test_review import WIRING, gen, repository

    config = repository(tmp_path, extra=WIRING.replace("kubernetes-executor", "celery-executor"))
    _edit(config, "overlay: celery-executor", "overlay: kubernetes-executor")
    result = gen("diff", "--config", str(config), "--overlay", "kubernetes-executor")
    assert result.exit_code == 3
    assert result.stdout.startswith("danger: cluster wiring Kustomization flux-system/airflow-airflow: spec.path: "
                                    "./dist/celery-executor -> ./dist/kubernetes-executor: ")


def test_synth_warns_against_the_files_it_replaces_and_still_writes(tmp_path):
    from test_review import gen, repository

    config = repository(tmp_path)
    _edit(config, "hostPath: /srv/airflow/logs", "hostPath: /data/logs")
    result = gen("synth", "--config", str(config), "--overlay", "celery-executor")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings and all(line.startswith("warning: danger: celery-executor PersistentVolume airflow-airflow-logs: "
                                            "spec.hostPath.path: /srv/airflow/logs -> /data/logs: ")
                            for line in warnings)
    assert "/data/logs" in (tmp_path / "dist" / "celery-executor" / "manifests.yaml").read_text()
    again = gen("synth", "--config", str(config), "--overlay", "celery-executor")
    assert "warning:" not in again.stderr  # the files on disk are the new ones now
