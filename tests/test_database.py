"""The metadata database: bundled, external or CloudNativePG, one Secret for the chart and the database."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner
from support import CONFIGS, documents, make_project, object_problems, validators

from generator.commands import cli
from generator.config import load
from generator.knowledge import airflow, database
from generator.plumbing.errors import ConfigError

BASE = "ingress:\n  host: airflow.example.com\n  tls:\n    certResolver: letsencrypt\n"


def _release(root, overlay):
    objects = documents((root / "dist" / overlay / "manifests.yaml").read_text())
    return next(o for o in objects if o["kind"] == "HelmRelease")


def _problems(tmp_path, extra):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, BASE + extra))
    return caught.value.problems


def _secrets(config_path, *args):
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config_path), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output, {s["metadata"]["name"]: s for s in yaml.safe_load_all(result.output) if s}


# --- cloudnativepg ---------------------------------------------------------------------------------

def test_cloudnativepg_emits_one_cluster_that_passes_the_real_crd(synthesized):
    root = synthesized["database-cloudnativepg"]
    objects = documents((root / "dist" / "database" / "database.yaml").read_text())
    clusters = [o for o in objects if o["kind"] == "Cluster"]
    assert [o["kind"] for o in objects] == ["Namespace", "Cluster", "ObjectStore", "ScheduledBackup"]  # backups on
    assert len(clusters) == 1
    cluster = clusters[0]
    assert (cluster["apiVersion"], cluster["metadata"]["name"], cluster["metadata"]["namespace"]) == \
        ("postgresql.cnpg.io/v1", "airflow-db", "airflow")
    assert cluster["spec"] == {
        "instances": 3,
        "storage": {"size": "20Gi", "storageClass": "longhorn"},
        "bootstrap": {"initdb": {"database": "airflow", "owner": "airflow", "secret": {"name": "airflow-metadata"}}},
        "plugins": [{"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True,
                     "parameters": {"barmanObjectName": "airflow-db-backups"}}],
    }
    assert cluster["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
    for kube in ("1.30.0", "1.37.0"):
        assert object_problems(cluster, kube) == []


def test_the_crd_catches_a_misspelt_cluster_field(synthesized):
    """Guards the guard: the Cluster is really checked against CloudNativePG's CRD."""
    objects = documents((synthesized["database-cloudnativepg"] / "dist" / "database" / "database.yaml").read_text())
    cluster = next(o for o in objects if o["kind"] == "Cluster")
    broken = {**cluster, "spec": {**cluster["spec"], "storage": {"size": "20Gi", "storageClassName": "longhorn"}}}
    assert object_problems(broken, "1.37.0")
    assert object_problems({**cluster, "spec": {**cluster["spec"], "instances": 0}}, "1.37.0")


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
def test_the_chart_reads_the_secret_the_cluster_bootstraps_from(synthesized, overlay):
    root = synthesized["database-cloudnativepg"]
    values = _release(root, overlay)["spec"]["values"]
    cluster = next(o for o in documents((root / "dist" / "database" / "database.yaml").read_text())
                   if o["kind"] == "Cluster")
    assert values["data"]["metadataSecretName"] == cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"]
    assert values["postgresql"] == {"enabled": False}
    manifests = (root / "dist" / overlay / "manifests.yaml").read_text()
    assert "kind: Cluster\n" not in manifests  # only dist/database applies it: one owner under Flux


def test_the_overlays_kustomization_waits_for_the_cluster(synthesized):
    root = synthesized["database-cloudnativepg"]
    wiring = documents((root / "clusters" / "production" / "airflow.yaml").read_text())
    kustomizations = {o["metadata"]["name"]: o["spec"] for o in wiring if o["kind"] == "Kustomization"}
    assert set(kustomizations) == {"airflow-airflow", "airflow-airflow-database"}
    first, then = kustomizations["airflow-airflow-database"], kustomizations["airflow-airflow"]
    assert first["path"] == "./airflow/dist/database" and first["wait"] is True
    assert first["healthCheckExprs"] == [{
        "apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
        "current": "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')"}]
    assert then["dependsOn"] == [{"name": "airflow-airflow-database"}]
    assert then["path"] == "./airflow/dist/celery-executor"
    for obj in wiring:
        assert object_problems(obj, "1.37.0") == []


def test_gen_secrets_fills_the_cluster_secret_with_the_connection_of_the_same_user(synthesized):
    root = synthesized["database-cloudnativepg"]
    _output, secrets = _secrets(root / "gen.yaml")
    metadata = secrets["airflow-metadata"]
    kubernetes_validate.validate(metadata, "1.37.0", strict=True)
    assert metadata["type"] == "kubernetes.io/basic-auth"
    data = metadata["stringData"]
    assert sorted(data) == ["connection", "password", "username"]
    url = urlparse(data["connection"])
    assert (url.scheme, url.username, url.password, url.hostname, url.port, url.path) == \
        ("postgresql", data["username"], data["password"], "airflow-db-rw.airflow", 5432, "/airflow")
    assert data["username"] == "airflow"  # the Cluster's owner
    assert "airflow-postgresql" not in secrets  # no bundled PostgreSQL, no password for it


def test_gen_secrets_names_lists_the_basic_auth_keys(synthesized):
    result = CliRunner().invoke(cli, ["secrets", "--config", str(synthesized["database-cloudnativepg"] / "gen.yaml"),
                                      "--names"], catch_exceptions=False)
    assert "airflow/airflow-metadata: username, password, connection\n" in result.output


def test_a_cloudnativepg_database_with_every_default(tmp_path):
    config = load(make_project(tmp_path, BASE + "database:\n  type: cloudnativepg\n"))
    assert database.cnpg_settings(config) == database.CloudNativePGConfig(instances=1, size="10Gi",
                                                                          storage_class_name=None)
    assert database.cluster_name(config) == "airflow-db"


# --- external --------------------------------------------------------------------------------------

def test_an_external_database_has_no_database_objects_and_no_bundled_postgresql(synthesized):
    root = synthesized["database-external"]
    assert not (root / "dist" / "database").exists()
    for overlay in airflow.OVERLAYS:
        text = (root / "dist" / overlay / "manifests.yaml").read_text()
        assert "postgresql.cnpg.io" not in text
        values = _release(root, overlay)["spec"]["values"]
        assert values["postgresql"] == {"enabled": False}
        assert values["data"]["metadataSecretName"] == "pipelines-metadata"


def test_gen_secrets_prints_the_external_connection_and_the_sql_that_prepares_the_server(synthesized):
    output, secrets = _secrets(synthesized["database-external"] / "gen.yaml", "--overlay", "kubernetes-executor")
    metadata = secrets["pipelines-metadata"]
    assert metadata["type"] == "Opaque" and list(metadata["stringData"]) == ["connection"]
    url = urlparse(metadata["stringData"]["connection"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path, url.query) == \
        ("postgresql", "airflow_app", "pg.internal.example.com", 6432, "/airflow_meta", "sslmode=verify-full")
    comments = [line for line in output.splitlines() if line.startswith("#   ")]
    assert comments == [f"#   CREATE ROLE airflow_app WITH LOGIN PASSWORD '{url.password}';",
                        "#   CREATE DATABASE airflow_meta OWNER airflow_app;"]
    assert "pipelines-postgresql" not in secrets


def test_an_ipv6_address_is_bracketed_in_the_connection(tmp_path):
    config = load(make_project(tmp_path, BASE + "database:\n  type: external\n  external:\n    host: 'fd00::5'\n"))
    assert database.connection(config, "pw") == "postgresql://airflow:pw@[fd00::5]:5432/airflow?sslmode=require"


# --- bundled ---------------------------------------------------------------------------------------

def test_bundled_is_the_default_and_keeps_the_charts_postgresql(synthesized):
    for name in ("example", "database-bundled"):
        values = _release(synthesized[name], "celery-executor")["spec"]["values"]
        assert values["postgresql"]["auth"] == {"existingSecret": "airflow-postgresql"}
        assert "enabled" not in values["postgresql"], "the chart's PostgreSQL is on by default"
        assert not (synthesized[name] / "dist" / "database").exists()


def test_bundled_on_several_nodes_warns_why(tmp_path):
    config = make_project(tmp_path, BASE + "cluster:\n  distribution: kind\n  nodes: 3\n")
    result = CliRunner().invoke(cli, ["synth", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0
    assert (f"warning: {config}: database.type: bundled runs one PostgreSQL pod on a node-local volume (the chart "
            f"calls it not for production): with cluster.nodes 3 it does not survive the loss of its node; use "
            f"database.type cloudnativepg (instances: 3) or external\n") in result.output
    assert database.warnings(load(make_project(tmp_path / "one", BASE))) == []


# --- rules -----------------------------------------------------------------------------------------

def test_settings_of_another_type_are_refused(tmp_path):
    label = str(tmp_path / "gen.yaml")
    assert _problems(tmp_path, "database:\n  cloudnativepg: {instances: 3}\n  external: {host: db.example.com}\n") == [
        f"{label}: database.external: is only used with database.type external; remove it or set "
        f"database.type: external",
        f"{label}: database.cloudnativepg: is only used with database.type cloudnativepg; remove it or set "
        f"database.type: cloudnativepg",
    ]


def test_external_needs_its_settings(tmp_path):
    assert _problems(tmp_path, "database:\n  type: external\n") == [
        f"{tmp_path / 'gen.yaml'}: database.external: is required with database.type external; give at least "
        f"host (such as external: {{host: db.example.com}})"]


def test_instances_below_one_are_refused_with_a_fix(tmp_path):
    assert _problems(tmp_path, "database:\n  type: cloudnativepg\n  cloudnativepg: {instances: 0}\n") == [
        f"{tmp_path / 'gen.yaml'}: database.cloudnativepg.instances: 0 is below 1; a Cluster needs at least one "
        f"instance: use 1, or 3 for a highly available cluster"]


@pytest.mark.parametrize("host", ["db..example.com", "-db.example.com", "db.example.com.", "999.1.2.3",
                                  "db_1.example.com", "a" * 64 + ".example.com", "fd00:::5"])
def test_an_external_host_that_is_neither_a_name_nor_an_address_is_refused(tmp_path, host):
    found = _problems(tmp_path, f"database:\n  type: external\n  external:\n    host: '{host}'\n")
    assert len(found) == 1
    assert "database.external.host" in found[0]
    assert ("is neither an RFC 1123 host name nor an IP address" in found[0]
            or "must be a host name such as db.example.com" in found[0])


@pytest.mark.parametrize("host", ["db.example.com", "pg-rw.databases", "10.0.0.7", "fd00::5", "DB1.Example.COM"])
def test_names_and_addresses_are_accepted_as_external_hosts(tmp_path, host):
    load(make_project(tmp_path, BASE + f"database:\n  type: external\n  external:\n    host: '{host}'\n"))


@pytest.mark.parametrize("user", ["postgres", "streaming_replica", "pg_monitor"])
def test_roles_of_postgresql_and_cloudnativepg_are_refused_as_the_owner(tmp_path, user):
    found = _problems(tmp_path, f"database:\n  type: cloudnativepg\n  user: {user}\n")
    assert found == [f"{tmp_path / 'gen.yaml'}: database.user: {user!r} is a role of PostgreSQL or CloudNativePG "
                     f"itself (postgres, streaming_replica, pg_*); Airflow needs a role of its own, such as "
                     f"user: airflow"]


def test_a_name_with_a_trailing_newline_is_refused(tmp_path):
    found = _problems(tmp_path, 'database:\n  type: cloudnativepg\n  name: "airflow\\n"\n')
    assert any("database.name: " in line and "must be a PostgreSQL name" in line for line in found)


def test_names_cloudnativepg_would_derive_beyond_kubernetes_limits_are_refused(tmp_path):
    """gen.yaml caps release at 40 characters, inside these limits; the rule guards the arithmetic."""
    config = load(make_project(tmp_path, BASE + "database:\n  type: cloudnativepg\n"))
    too_long = dataclasses.replace(config, release="r" * 48)
    found = database.problems(too_long)
    assert found == [f"{config.source.label}: release: the CloudNativePG Cluster {'r' * 48}-db would have 51 "
                     f"characters, and CloudNativePG allows at most 50; shorten release to at most 47 characters"]
    longest = dataclasses.replace(config, release="r" * 46)  # 49 characters: a valid Cluster name
    assert database.problems(longest) == [
        f"{config.source.label}: release: CloudNativePG names objects after the Cluster "
        f"({'r' * 46}-db-999-major-upgrade, 67 characters) beyond Kubernetes' 63; shorten release by 4 characters"]
    assert database.problems(dataclasses.replace(config, release="r" * 40)) == []


@pytest.mark.parametrize("name", CONFIGS)
def test_gen_validate_passes_every_fixture(synthesized, name):
    from generator.review import validate

    report = validate.run(synthesized[name] / "gen.yaml", airflow.OVERLAYS, validators())
    assert (report.problems, report.unchecked) == (0, 0), report.lines
    warned = [line for line in report.lines if line.startswith("warning: ")]
    # the bundled PostgreSQL on several nodes: kind-workers, k3s-helmchart, minikube-remote-logs
    assert bool(warned) is (name in ("kind-workers", "k3s-helmchart", "minikube-remote-logs")), report.lines


def test_gen_validate_knows_the_cluster_kind_only_through_crds(synthesized):
    from support import CRDS

    from generator.review import validate

    config = synthesized["database-cloudnativepg"] / "gen.yaml"
    with_crd = validate.run(config, airflow.OVERLAYS, validators())
    others = [path for path in sorted(CRDS.glob("*.yaml")) if not path.name.startswith("postgresql.cnpg.io")]
    without = validate.run(config, airflow.OVERLAYS, validate.Validators(
        kube_version=validate.kube_version("1.37"), crds=validate.load_crds(others), chart=None))
    assert with_crd.objects == without.objects
    assert (with_crd.unchecked, without.unchecked) == (0, 2)  # the Cluster and its ScheduledBackup
    assert any(line.startswith("not checked, no CRD given: postgresql.cnpg.io/v1 Cluster (1)")
               for line in without.lines), without.lines


def test_the_cloudnativepg_defaults_of_the_model_are_the_schemas():
    """database.cloudnativepg may be left out; its dataclass then stands in with the schema's defaults."""
    from generator import schema

    props = schema.load("config")["properties"]["database"]["properties"]["cloudnativepg"]["properties"]
    defaults = database.CloudNativePGConfig()
    assert (defaults.instances, defaults.size, defaults.storage_class_name) == \
        (props["instances"]["default"], props["size"]["default"], props["storageClassName"]["default"])


def test_gen_diff_shows_a_change_to_the_cluster_in_a_section_of_its_own(tmp_path):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=Test", "-c", "user.email=test@example.com",
                        *args], capture_output=True, text=True, check=True)

    config = make_project(tmp_path, BASE + "database:\n  type: cloudnativepg\n")
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "airflow")
    config.write_text(BASE + "database:\n  type: cloudnativepg\n  cloudnativepg: {instances: 3}\n")
    result = CliRunner().invoke(cli, ["diff", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "== database: 0 added, 0 removed, 1 changed\nchanged: Cluster airflow/airflow-db\n" in result.output
    assert "-  instances: 1\n+  instances: 3\n" in result.output
    assert "== kubernetes-executor: no change\n" in result.output
