"""The few fields of each object that make it work: binding, routing, TLS, pinning."""

from __future__ import annotations

from support import documents


def objects(root, name):
    return {(o["kind"], o["metadata"]["name"]): o for o in documents((root / "dist/base" / name).read_text())}


def test_each_volume_and_claim_are_bound_to_each_other_and_never_pruned(synthesized):
    root = synthesized["tls-secret"]
    volumes, claims = objects(root, "cluster.yaml"), objects(root, "storage.yaml")
    for volume in ("dags", "logs"):
        pv = volumes[("PersistentVolume", f"data-platform-orchestrator-{volume}")]
        pvc = claims[("PersistentVolumeClaim", f"orchestrator-{volume}")]
        assert "namespace" not in pv["metadata"]
        assert pv["spec"]["claimRef"] == {"namespace": "data-platform", "name": f"orchestrator-{volume}"}
        assert pvc["spec"]["volumeName"] == pv["metadata"]["name"]
        assert pvc["spec"]["selector"]["matchLabels"].items() <= pv["metadata"]["labels"].items()
        assert pv["spec"]["storageClassName"] == pvc["spec"]["storageClassName"] == "orchestrator-storage"
        assert pv["spec"]["accessModes"] == pvc["spec"]["accessModes"]
        assert pv["spec"]["capacity"]["storage"] == pvc["spec"]["resources"]["requests"]["storage"]
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        for obj in (pv, pvc):
            assert obj["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
    assert volumes[("PersistentVolume", "data-platform-orchestrator-dags")]["spec"]["hostPath"]["path"] == \
        "/mnt/tank/airflow/dags"


def test_the_storage_class_is_cluster_scoped_and_provisions_nothing(synthesized):
    sc = objects(synthesized["example"], "cluster.yaml")[("StorageClass", "airflow-storage")]
    assert "namespace" not in sc["metadata"]
    assert (sc["provisioner"], sc["volumeBindingMode"]) == ("kubernetes.io/no-provisioner", "WaitForFirstConsumer")


def test_keep_mode_routes_the_prefix_unchanged_to_the_api_server(synthesized):
    route = objects(synthesized["tls-secret"], "traefik.yaml")[("IngressRoute", "orchestrator")]
    assert route["spec"] == {
        "entryPoints": ["web", "websecure"],
        "routes": [{"kind": "Rule", "match": "Host(`tools.example.org`) && PathPrefix(`/tools/airflow`)",
                    "middlewares": [{"name": "orchestrator-security-headers", "namespace": "data-platform"}],
                    "services": [{"kind": "Service", "name": "orchestrator-api-server", "port": 8080}]}],
        "tls": {"secretName": "tools-example-org-tls"},
    }


def test_strip_mode_adds_the_posts_middleware_for_the_airflow_2_webserver(synthesized):
    found = objects(synthesized["airflow2-strip"], "traefik.yaml")
    assert found[("Middleware", "airflow-strip-prefix")]["spec"] == {"stripPrefix": {"prefixes": ["/airflow"]}}
    route = found[("IngressRoute", "airflow")]["spec"]["routes"][0]
    assert route["middlewares"] == [{"name": "airflow-security-headers", "namespace": "airflow"},
                                    {"name": "airflow-strip-prefix", "namespace": "airflow"}]
    assert route["services"][0]["name"] == "airflow-webserver"
    release = objects(synthesized["airflow2-strip"], "airflow.yaml")[("HelmRelease", "airflow")]
    assert release["spec"]["values"]["config"]["webserver"]["base_url"] == "https://home.example.net"


def test_the_release_is_pinned_exactly_and_retries_without_rollback(synthesized):
    found = objects(synthesized["tls-secret"], "airflow.yaml")
    release = found[("HelmRelease", "orchestrator")]["spec"]
    assert release["chart"]["spec"] == {"chart": "airflow", "version": "1.22.0",
                                        "sourceRef": {"kind": "HelmRepository", "name": "airflow-charts"}}
    assert (release["interval"], release["timeout"], release["releaseName"]) == ("1h", "30m", "orchestrator")
    for action in ("install", "upgrade"):
        assert release[action] == {"strategy": {"name": "RetryOnFailure", "retryInterval": "10m"}}
    repository = found[("HelmRepository", "airflow-charts")]["spec"]
    assert repository == {"interval": "6h", "url": "https://airflow.apache.org"}
    namespace = found[("Namespace", "data-platform")]
    assert namespace["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
