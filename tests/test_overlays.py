"""What each executor overlay deploys, by Airflow version: one table of facts, checked per case."""

from __future__ import annotations

import pytest
import yaml
from support import documents, make_project

from generator.config import load
from generator.knowledge import airflow, chart_values
from generator.synth import overlays

AIRFLOW_VERSIONS = ("2.11.0", "3.1.7")

CONFIG = """\
airflow: {{version: {version}}}
ingress: {{host: airflow.example.com, tls: {{certResolver: le}}}}
workers:
  celery: {{replicas: 4}}
  kubernetes:
    nodeSelector: {{disk: ssd}}
    env: [{{name: TZ, value: UTC}}]
"""

# overlay -> (executor on 2.11, executor on 3.1, redis, Celery workers, task pod settings)
EXPECTED = {
    "celery-executor": ("CeleryExecutor", "CeleryExecutor", True, True, False),
    "kubernetes-executor": ("KubernetesExecutor", "KubernetesExecutor", False, False, True),
    "celery-kubernetes-executor": ("CeleryExecutor,KubernetesExecutor", "CeleryExecutor,KubernetesExecutor",
                                   True, True, True),
}


def config_for(tmp_path, version, extra=""):
    return load(make_project(tmp_path, CONFIG.format(version=version) + extra))


def pin_chart(tmp_path, chart_version, airflow_version):
    """Pin the project at tmp_path to `chart_version` (its charts/airflow/chart.yaml)."""
    (tmp_path / "charts/airflow/chart.yaml").write_text(
        "repository: https://airflow.apache.org\nname: airflow\n"
        f"version: {chart_version}\nairflowVersion: {airflow_version}\n")


def at(values, key):
    """The value at dotted `key` in nested values, or None where any step is missing."""
    for step in key.split("."):
        if not isinstance(values, dict) or step not in values:
            return None
        values = values[step]
    return values


@pytest.mark.parametrize("version", AIRFLOW_VERSIONS)
@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
def test_each_overlay_sets_its_executor_broker_and_workers(tmp_path, overlay, version):
    config = config_for(tmp_path, version)
    values = chart_values.overlay_patch(overlay, config)
    executor_2, executor_3, redis, celery_workers, task_pods = EXPECTED[overlay]
    assert values["executor"] == (executor_3 if version.startswith("3") else executor_2)
    assert values["redis"]["enabled"] is redis
    workers = values.get("workers", {})
    assert (workers.get("celery") == {"replicas": 4}) is celery_workers
    assert (values.get("triggerer") == {"enabled": True}) is celery_workers
    # Task pod settings sit where the pinned chart reads them (workers.kubernetes.* from chart 1.20/1.21 on).
    node_selector = airflow.chart_key("workers.kubernetes.nodeSelector", config.chart.version)
    env = airflow.chart_key("workers.kubernetes.env", config.chart.version)
    assert (at(values, node_selector) == {"disk": "ssd"}) is task_pods
    assert (at(values, env) == [{"name": "TZ", "value": "UTC"}]) is task_pods
    if overlay == "kubernetes-executor":
        assert values["flower"] == {"enabled": False}


@pytest.mark.parametrize("version", AIRFLOW_VERSIONS)
def test_the_ui_service_and_base_url_key_follow_the_airflow_version(tmp_path, version):
    config = config_for(tmp_path, version)
    values = chart_values.base_release_values(config)
    if version.startswith("3"):
        assert values["config"] == {"api": {"base_url": "https://airflow.example.com/airflow"}}
        assert airflow.ui_service("airflow", config.airflow_version) == "airflow-api-server"
        assert "--proxy-headers" in values["apiServer"]["args"][-1]
    else:
        assert values["config"] == {"webserver": {"base_url": "https://airflow.example.com/airflow"}}
        assert airflow.ui_service("airflow", config.airflow_version) == "airflow-webserver"
        assert "apiServer" not in values
    assert values["airflowVersion"] == values["defaultAirflowTag"] == version
    for job in ("createUserJob", "migrateDatabaseJob"):
        assert values[job] == {"useHelmHooks": False, "applyCustomEnv": False}
    assert values["dags"]["persistence"] == {"enabled": True, "existingClaim": "airflow-dags"}
    assert values["logs"]["persistence"] == {"enabled": True, "existingClaim": "airflow-logs"}


def test_before_airflow_2_10_the_mixed_overlay_uses_celery_kubernetes_executor(tmp_path):
    # Chart 1.20.0 and later run Airflow >= 2.11 only; 1.19.0 still runs Airflow 2.9.
    make_project(tmp_path, CONFIG.format(version="2.9.3"))
    pin_chart(tmp_path, "1.19.0", "3.1.7")
    values = chart_values.overlay_patch("celery-kubernetes-executor", load(tmp_path / "gen.yaml"))
    assert values["executor"] == "CeleryKubernetesExecutor"


def test_on_airflow_2_10_and_later_the_hybrid_executor_can_still_be_asked_for(tmp_path):
    config = config_for(tmp_path, "2.11.0", "overlays: {celery-kubernetes-executor: {executor: "
                                            "CeleryKubernetesExecutor}}\n")
    assert chart_values.overlay_patch("celery-kubernetes-executor", config)["executor"] == "CeleryKubernetesExecutor"


def test_before_chart_1_20_task_pod_settings_use_the_old_keys(tmp_path):
    """Chart 1.19.0 reads task pods' nodeSelector (moved in 1.20.0) and env (moved in 1.21.0) at workers.*."""
    make_project(tmp_path, CONFIG.format(version="2.11.0"))
    pin_chart(tmp_path, "1.19.0", "3.1.7")
    values = chart_values.overlay_patch("kubernetes-executor", load(tmp_path / "gen.yaml"))
    assert values["workers"] == {"nodeSelector": {"disk": "ssd"}, "env": [{"name": "TZ", "value": "UTC"}]}


def test_per_overlay_values_reach_only_that_overlays_patch(synthesized):
    root = synthesized["tls-secret"]
    patches = {name: documents((root / "overlays" / name / overlays.PATCH_FILE).read_text())[0]["spec"]["values"]
               for name in airflow.OVERLAYS}
    celery_resources = airflow.chart_key("workers.celery.resources", load(root / "gen.yaml").chart.version)
    assert at(patches["celery-executor"], celery_resources) == {"requests": {"cpu": "1", "memory": "2Gi"}}
    assert at(patches["celery-kubernetes-executor"], celery_resources) is None
    assert patches["kubernetes-executor"]["cleanup"] == {"enabled": True}
    assert all("cleanup" not in patches[name] for name in ("celery-executor", "celery-kubernetes-executor"))
    base = (root / "dist" / "base" / "airflow.yaml").read_text()
    assert "cleanup" not in base and "cpu: '1'" not in base


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
def test_hydrated_release_keeps_base_values_and_applies_the_patch(synthesized, overlay):
    root = synthesized["tls-secret"]
    objects = documents((root / "dist" / overlay / "manifests.yaml").read_text())
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    values = release["spec"]["values"]
    assert values["scheduler"] == {"replicas": 2}  # from charts/airflow/values.yaml
    assert values["dags"]["persistence"]["existingClaim"] == "orchestrator-dags"
    assert values["executor"] == EXPECTED[overlay][1]
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(["Namespace", "StorageClass", "PersistentVolume", "PersistentVolume",
                            "PersistentVolumeClaim", "PersistentVolumeClaim", "HelmRepository", "HelmRelease",
                            "IngressRoute", "Middleware", "NetworkPolicy", "NetworkPolicy"])


def test_the_overlay_kustomization_points_at_the_base_and_patches_the_release(synthesized):
    text = (synthesized["example"] / "overlays" / "kubernetes-executor" / "kustomization.yaml").read_text()
    assert yaml.safe_load(text) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["../../dist/base"],
        "patches": [{"path": "helmrelease-values.yaml", "target": {
            "group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease", "name": "airflow",
            "namespace": "airflow"}}],
    }


def test_the_example_dags_are_checked_under_the_executors_the_overlays_set(tmp_path):
    """examples/check_dags.py parses each DAG with its overlay's executor string; keep them equal."""
    import importlib.util

    from support import REPO

    spec = importlib.util.spec_from_file_location("check_dags", REPO / "examples" / "check_dags.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = load(make_project(tmp_path))
    for overlay in airflow.OVERLAYS:
        executor, _dag_id = module.EXAMPLES[overlay.replace("-", "_").replace("_executor", "_executor.py")]
        assert executor == airflow.executor(overlay, config)
