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
