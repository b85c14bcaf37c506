"""Production operations: Prometheus scraping of the StatsD exporter and CloudNativePG backups."""

from __future__ import annotations

import pytest
from support import documents, make_project, object_problems

from generator.config import load
from generator.plumbing.errors import ConfigError

BASE = "ingress:\n  host: airflow.example.com\n  tls:\n    certResolver: letsencrypt\n"
CNPG = "database:\n  type: cloudnativepg\n  cloudnativepg:\n    backup:\n"
STORE = "      objectStore: {destinationPath: s3://backups/airflow, secret: airflow-db-backup-s3}\n"


def _objects(root, path):
    return {(o["kind"], o["metadata"]["name"]): o for o in documents((root / path).read_text())}


def _problems(tmp_path, extra, values=None):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, BASE + extra, values=values))
    return caught.value.problems


# --- backups ---------------------------------------------------------------------------------------

def test_backups_go_through_the_barman_cloud_plugin_and_pass_the_real_crds(synthesized):
    objects = _objects(synthesized["database-cloudnativepg"], "dist/database/database.yaml")
    cluster = objects[("Cluster", "airflow-db")]
    assert cluster["spec"]["plugins"] == [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True,
                                           "parameters": {"barmanObjectName": "airflow-db-backups"}}]
    assert "backup" not in cluster["spec"]  # the built-in barmanObjectStore, removed in CloudNativePG 1.31
    store = objects[("ObjectStore", "airflow-db-backups")]["spec"]
    assert store["retentionPolicy"] == "14d"
    assert store["configuration"]["destinationPath"] == "s3://backups/airflow"
    assert store["configuration"]["s3Credentials"]["secretAccessKey"] == {"name": "airflow-db-backup-s3",
                                                                          "key": "ACCESS_SECRET_KEY"}
    scheduled = objects[("ScheduledBackup", "airflow-db-scheduled")]["spec"]
    assert scheduled["method"] == "plugin" and scheduled["cluster"] == {"name": "airflow-db"}
    assert scheduled["pluginConfiguration"] == {"name": "barman-cloud.cloudnative-pg.io"}
    for obj in objects.values():
        assert object_problems(obj, "1.37.0") == [], obj["kind"]


def test_the_crds_catch_a_bad_schedule_method_and_retention(synthesized):
    objects = _objects(synthesized["database-cloudnativepg"], "dist/database/database.yaml")
    scheduled = objects[("ScheduledBackup", "airflow-db-scheduled")]
    store = objects[("ObjectStore", "airflow-db-backups")]
    broken = [{**scheduled, "spec": {**scheduled["spec"], "method": "barman"}},
              {**store, "spec": {**store["spec"], "retentionPolicy": "14 days"}}]
    for obj in broken:
        assert object_problems(obj, "1.37.0"), obj["kind"]


def test_backups_with_every_default_run_nightly_and_keep_thirty_days(tmp_path):
    config = load(make_project(tmp_path, BASE + CNPG + STORE))
    backup = config.database.cloudnativepg.backup
    assert (backup.schedule, backup.retention, backup.object_store.endpoint_url) == ("0 0 2 * * *", "30d", None)


def test_without_backup_the_cluster_has_no_plugin(synthesized):
    config = load(synthesized["database-cloudnativepg"] / "gen.yaml")
    assert config.database.cloudnativepg.backup is not None
    objects = _objects(synthesized["example"], "dist/base/airflow.yaml")
    assert not any(kind in ("ObjectStore", "ScheduledBackup") for kind, _ in objects)


@pytest.mark.parametrize(("setting", "message"), [
    ("      schedule: '0 2 * * *'\n", "must be six cron fields with seconds first"),
    ("      retention: 30\n", "backup.retention"),
    ("      retention: 0d\n", "must be a positive number and d, w or m"),
    ("      objectStore: {destinationPath: /backups, secret: s3}\n", "must be an S3 bucket path"),
])
def test_bad_backup_settings_are_refused_in_one_line(tmp_path, setting, message):
    store = "" if "objectStore" in setting else STORE
    problems = _problems(tmp_path, CNPG + setting + store)
    assert len(problems) == 1 and message in problems[0], problems


def test_an_endpoint_with_credentials_is_refused(tmp_path):
    store = ("      objectStore: {destinationPath: s3://backups/airflow, secret: s3,\n"
             "                    endpointURL: 'https://key:secret@minio.example.com'}\n")
    problems = _problems(tmp_path, CNPG + store)
    assert any("endpointURL" in line for line in problems), problems
    assert not any("secret@" in line for line in problems)


def test_the_buckets_secret_must_not_be_one_gen_secrets_fills(tmp_path):
    store = "      objectStore: {destinationPath: s3://backups/airflow, secret: airflow-metadata}\n"
    problems = _problems(tmp_path, CNPG + store)
    assert [p.split(": ", 1)[1] for p in problems] == ["database.cloudnativepg.backup.objectStore.secret: 'airflow-metadata' is also "
                        "the Secret of secrets.metadata; the bucket's keys (ACCESS_KEY_ID, ACCESS_SECRET_KEY) need "
                        "a Secret of their own, such as airflow-db-backup-s3"]


def test_backup_settings_need_cloudnativepg(tmp_path):
    problems = _problems(tmp_path, "database:\n  cloudnativepg:\n    backup:\n" + STORE)
    assert any("database.cloudnativepg: is only used with database.type cloudnativepg" in p for p in problems)


# --- metrics ---------------------------------------------------------------------------------------

def test_the_service_monitor_selects_the_charts_statsd_service_and_passes_the_real_crd(synthesized):
    objects = _objects(synthesized["database-cloudnativepg"], "dist/base/monitoring.yaml")
    monitor = objects[("ServiceMonitor", "airflow-statsd")]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["selector"]["matchLabels"] == {"tier": "airflow", "component": "statsd",
                                                           "release": "airflow"}
    assert monitor["spec"]["endpoints"] == [{"port": "statsd-scrape", "interval": "30s", "path": "/metrics"}]
    assert object_problems(monitor, "1.37.0") == []
    broken = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"port": 9102}]}}
    assert object_problems(broken, "1.37.0")


def test_the_service_monitor_reaches_every_overlay(synthesized):
    for overlay in ("celery-executor", "kubernetes-executor", "celery-kubernetes-executor"):
        hydrated = documents((synthesized["database-cloudnativepg"] / "dist" / overlay / "manifests.yaml").read_text())
        assert any(o["kind"] == "ServiceMonitor" for o in hydrated), overlay


def test_no_network_policy_of_gens_selects_the_exporter(synthesized):
    """gen's policies select the UI and Redis pods only: a pod no policy selects accepts every scrape."""
    policies = documents((synthesized["database-cloudnativepg"] / "dist" / "base" / "network.yaml").read_text())
    assert policies
    assert all(p["spec"]["podSelector"]["matchLabels"].get("component") != "statsd" for p in policies)


def test_no_service_monitor_by_default(synthesized):
    assert not (synthesized["example"] / "dist" / "base" / "monitoring.yaml").exists()


def test_a_service_monitor_without_the_exporter_is_refused(tmp_path):
    problems = _problems(tmp_path, "metrics:\n  serviceMonitor: true\n", values="statsd:\n  enabled: false\n")
    assert [p.split(": ", 1)[1] for p in problems] == ["metrics.serviceMonitor: needs the chart's StatsD exporter, but "
                        "charts/airflow/values.yaml sets statsd.enabled: false; remove that line, or set "
                        "metrics.serviceMonitor: false"]


# --- autoscaling and availability: the chart's values, then the real chart's objects -----------------

SCALED = BASE + ("cluster: {distribution: kubeadm, nodes: 3}\n"
                 "storage:\n  dags: {type: nfs, accessMode: ReadWriteMany, nfs: {server: nfs.example.com, path: /dags}}\n"
                 "  logs: {type: nfs, nfs: {server: nfs.example.com, path: /logs}}\n"
                 "workers:\n  celery:\n    autoscaling: {min: 1, max: 8}\n")


def _overlay_values(config, overlay):
    from generator.knowledge import chart_values
    merged = {**chart_values.base_values(config), **chart_values.overlay_values(overlay, config)}
    return {key: value for key, (value, _origin) in merged.items()}


def test_autoscaling_sets_the_charts_keda_values_for_the_celery_overlays_only(tmp_path):
    config = load(make_project(tmp_path, SCALED))
    celery = _overlay_values(config, "celery-executor")
    assert celery["workers.celery.keda.enabled"] is True  # chart 1.19 spelt it workers.keda
    assert (celery["workers.celery.keda.minReplicaCount"], celery["workers.celery.keda.maxReplicaCount"]) == (1, 8)
    assert "workers.celery.replicas" not in celery and "workers.replicas" not in celery
    assert not any("keda" in key for key in _overlay_values(config, "kubernetes-executor"))


def test_several_nodes_get_two_api_servers_and_budgets_by_default(tmp_path):
    config = load(make_project(tmp_path, SCALED))
    values = _overlay_values(config, "celery-executor")
    assert values["apiServer.replicas"] == 2
    for component in ("scheduler", "apiServer", "dagProcessor", "triggerer", "workers.celery"):
        assert values[f"{component}.podDisruptionBudget.enabled"] is True, component


def test_one_node_gets_neither_unless_asked(tmp_path):
    config = load(make_project(tmp_path, BASE))
    assert not any("podDisruptionBudget" in key or key == "apiServer.replicas"
                   for key in _overlay_values(config, "celery-executor"))
    asked = load(make_project(tmp_path / "asked", BASE + "availability: {apiServerReplicas: 3, disruptionBudgets: true}\n"))
    values = _overlay_values(asked, "celery-executor")
    assert values["apiServer.replicas"] == 3 and values["scheduler.podDisruptionBudget.enabled"] is True


@pytest.mark.parametrize(("extra", "values", "message"), [
    ("workers:\n  celery:\n    replicas: 3\n    autoscaling: {max: 5}\n", None,
     "workers.celery.replicas: KEDA sets the worker count with autoscaling"),
    ("workers:\n  celery:\n    autoscaling: {max: 5}\n", "workers:\n  replicas: 2\n",
     "charts/airflow/values.yaml: workers.replicas: KEDA sets the worker count"),
    ("workers:\n  celery:\n    autoscaling: {min: 6, max: 5}\n", None, "is above max 5"),
    ("workers:\n  celery:\n    autoscaling: true\n", None, "must be false or {min, max}"),
    ("flux:\n  cluster: {name: home, overlay: kubernetes-executor, url: 'https://git.example.com/gitops.git'}\n"
     "workers:\n  celery:\n    autoscaling: {max: 5}\n", None, "runs no Celery workers to scale"),
])
def test_autoscaling_that_cannot_work_is_refused_in_one_line(tmp_path, extra, values, message):
    problems = _problems(tmp_path, extra, values=values)
    assert len(problems) == 1 and message in problems[0], problems


@pytest.mark.parametrize("budget", [
    "scheduler:\n  podDisruptionBudget: {enabled: true, config: {minAvailable: 1}}\n",
    "triggerer:\n  podDisruptionBudget: {enabled: true, config: {maxUnavailable: 0}}\n",
    "apiServer:\n  replicas: 2\n  podDisruptionBudget: {enabled: true, config: {minAvailable: 2}}\n",
    "dagProcessor:\n  podDisruptionBudget: {enabled: true, config: {minAvailable: 100%}}\n",
])
def test_a_budget_that_blocks_every_drain_is_refused(tmp_path, budget):
    problems = _problems(tmp_path, "", values=budget)
    assert len(problems) == 1 and "so every node drain waits forever" in problems[0], problems


def test_a_budget_that_lets_one_pod_go_is_accepted(tmp_path):
    load(make_project(tmp_path, BASE, values="apiServer:\n  replicas: 3\n"
                                             "  podDisruptionBudget: {enabled: true, config: {minAvailable: 2}}\n"))


@pytest.fixture(scope="module")
def scaled_render(tmp_path_factory):
    """One config with every operations setting on, rendered by the real chart for the two Celery overlays."""
    from support import CHART_ARCHIVE

    from generator.review import render, renders
    config = load(make_project(tmp_path_factory.mktemp("scaled"), SCALED + "size: medium\n",
                               values="scheduler:\n  resources: {requests: {cpu: 1, memory: 1Gi}}\n"))
    chart = render.load_chart(config, CHART_ARCHIVE)
    rendered = renders.config_renders(config, ["celery-executor", "celery-kubernetes-executor"], chart)
    return {name: {(o["kind"], o["metadata"]["name"]): o for o in r.chart_objects} for name, r in rendered.items()}


@pytest.mark.parametrize(("overlay", "clause"), [
    ("celery-executor", "FROM task_instance WHERE (state='running' OR state='queued')"),
    ("celery-kubernetes-executor", "AND executor IS DISTINCT FROM 'KubernetesExecutor'"),
])
def test_the_rendered_scaled_object_scales_the_workers_and_passes_the_keda_crd(scaled_render, overlay, clause):
    objects = scaled_render[overlay]
    scaled = objects[("ScaledObject", "airflow-worker")]
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (1, 8)
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["metadata"]["connectionFromEnv"] == "AIRFLOW_CONN_AIRFLOW_DB"
    assert clause in trigger["metadata"]["query"] and "/ 16)" in trigger["metadata"]["query"]
    assert object_problems(scaled, "1.37.0") == []
    worker = next(o for (kind, name), o in objects.items() if name == "airflow-worker" and kind != "ScaledObject"
                  and kind in ("Deployment", "StatefulSet"))
    assert "replicas" not in worker["spec"]  # KEDA owns the count


def test_the_rendered_budgets_and_api_servers_survive_a_drain(scaled_render):
    objects = scaled_render["celery-executor"]
    budgets = {name: o for (kind, name), o in objects.items() if kind == "PodDisruptionBudget"}
    assert sorted(budgets) == ["airflow-api-server-pdb", "airflow-dag-processor-pdb", "airflow-scheduler-pdb",
                               "airflow-triggerer-pdb", "airflow-worker-pdb"]
    for budget in budgets.values():
        assert budget["spec"]["maxUnavailable"] == 1
        assert object_problems(budget, "1.37.0") == []
    assert objects[("Deployment", "airflow-api-server")]["spec"]["replicas"] == 2


def test_size_sets_every_components_resources_and_the_users_own_win(scaled_render):
    objects = scaled_render["celery-executor"]

    def container(kind, name, container_name):
        spec = objects[(kind, name)]["spec"]["template"]["spec"]
        return next(c for c in spec["containers"] if c["name"] == container_name)

    assert container("Deployment", "airflow-scheduler", "scheduler")["resources"] == {
        "requests": {"cpu": 1, "memory": "1Gi"}}
    assert container("Deployment", "airflow-api-server", "api-server")["resources"] == {
        "requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "1024Mi"}}
    worker_kind = "StatefulSet" if ("StatefulSet", "airflow-worker") in objects else "Deployment"
    assert container(worker_kind, "airflow-worker", "worker")["resources"]["requests"] == {"cpu": "500m",
                                                                                         "memory": "1024Mi"}


def test_requests_beyond_the_nodes_capacity_warn(tmp_path):
    from generator.knowledge import operations
    small = load(make_project(tmp_path / "fits", BASE + "size: small\ncluster: {capacity: {cpu: 4, memory: 8Gi}}\n"))
    assert operations.warnings(small) == []
    large = load(make_project(tmp_path / "big", BASE + "size: large\ncluster: {capacity: {cpu: 2, memory: 4Gi}}\n"))
    [line] = operations.warnings(large)
    assert "size: large requests" in line and "some pods would stay Pending" in line


def test_size_gives_redis_resources_only_where_the_chart_runs_redis(tmp_path):
    bundled = load(make_project(tmp_path / "redis", BASE + "size: small\n"))
    assert "redis.resources" in _overlay_values(bundled, "celery-executor")
    external = load(make_project(tmp_path / "external", BASE + "size: small\nworkers:\n  celery:\n    broker: external\n"))
    values = _overlay_values(external, "celery-executor")
    assert values["redis.enabled"] is False and "redis.resources" not in values
