"""Cluster profiles, engines and storage backends: the rules with their fixes, and what each emits."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from click.testing import CliRunner
from support import SHARED, documents, make_project

from generator.commands import cli
from generator.config import load
from generator.knowledge import airflow, chart_values, cluster
from generator.plumbing.errors import ConfigError
from generator.synth import pipeline
from generator.synth.constructs import provisioner
from generator.synth.kustomize import kubectl

BASE = """\
ingress:
  host: airflow.example.com
  tls: {certResolver: letsencrypt}
"""


def problems_of(tmp_path, text):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, BASE + text), "gen.yaml")
    return caught.value.problems


# --- profiles ------------------------------------------------------------------------------------

def test_the_default_profile_is_a_single_k3s_node_with_flux_and_traefik_v3(tmp_path):
    config = load(make_project(tmp_path, BASE))
    assert (config.cluster.distribution, config.cluster.nodes, config.gitops.engine) == ("k3s", 1, "flux")
    assert config.ingress.api_group == "traefik.io"
    assert (config.storage.dags.type, config.storage.logs.type) == ("hostPath", "hostPath")


@pytest.mark.parametrize("distribution", sorted(cluster.PROFILES))
def test_only_kubeadm_gets_the_local_path_provisioner(tmp_path, distribution):
    from generator.synth import app

    config = load(make_project(tmp_path, BASE + f"cluster: {{distribution: {distribution}}}\n"))
    built = app.build(config)
    assert ("provisioner" in built) is (distribution == "kubeadm")


def test_the_provisioner_is_the_pinned_upstream_deploy_directory(synthesized):
    objects = documents((synthesized["kubeadm-legacy"] / "dist" / "base" / "provisioner.yaml").read_text())
    source, kustomization = objects
    assert source["kind"] == "GitRepository"
    assert source["spec"]["url"] == "https://github.com/rancher/local-path-provisioner"
    assert source["spec"]["ref"] == {"tag": "v0.0.37"}
    assert kustomization["spec"]["path"] == "./deploy"
    assert kustomization["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}


def test_the_default_class_patch_marks_the_real_upstream_storage_class(tmp_path):
    """Apply the Kustomization's patch with real kustomize to the upstream manifest (test data only)."""
    upstream = SHARED / "reference" / "local-path-provisioner" / "local-path-storage.yaml"
    (tmp_path / "local-path-storage.yaml").write_text(upstream.read_text())
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["local-path-storage.yaml"],
        "patches": [{"patch": provisioner.default_class_patch(),
                     "target": {"kind": "StorageClass", "name": cluster.LOCAL_PATH_CLASS}}],
    }))
    built = subprocess.run([kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, check=True)
    classes = [o for o in documents(built.stdout) if o["kind"] == "StorageClass"]
    assert [c["metadata"]["name"] for c in classes] == ["local-path"]
    assert classes[0]["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert classes[0]["provisioner"] == "rancher.io/local-path"


# --- storage rules, each with its fix ------------------------------------------------------------

def test_host_path_on_several_nodes_is_refused_with_the_alternatives(tmp_path):
    assert problems_of(tmp_path, "cluster: {distribution: kubeadm, nodes: 3}\n") == [
        "gen.yaml: storage.dags.type: hostPath lives on one node, but cluster.nodes is 3 on kubeadm: pods on the "
        "other nodes would see an empty directory; use nfs, storageClass (a ReadWriteMany class such as longhorn) "
        "or existingClaim, or gitSync, or set cluster.nodes: 1",
        "gen.yaml: storage.logs.type: hostPath lives on one node, but cluster.nodes is 3 on kubeadm: pods on the "
        "other nodes would see an empty directory; use nfs, storageClass (a ReadWriteMany class such as longhorn) "
        "or existingClaim, or none (remote logging), or set cluster.nodes: 1",
    ]


def test_host_path_on_several_kind_workers_is_allowed_because_kind_config_shares_it(tmp_path):
    load(make_project(tmp_path, BASE + "cluster: {distribution: kind, nodes: 3}\n"))


def test_read_write_many_on_local_path_is_refused_with_the_fix(tmp_path):
    text = "storage:\n  logs: {type: storageClass, storageClassName: local-path}\n"
    assert problems_of(tmp_path, text) == [
        "gen.yaml: storage.logs.storageClassName: local-path on k3s provisions node-local volumes and refuses "
        "ReadWriteMany (it offers ReadWriteOnce only); use a ReadWriteMany class (longhorn, "
        "nfs-subdir-external-provisioner's nfs-client, cephfs), storage.logs.type nfs, or type none (remote logging)"]


def test_kinds_standard_class_is_local_path_too(tmp_path):
    text = ("cluster: {distribution: kind}\n"
            "storage:\n  dags: {type: storageClass, storageClassName: standard, accessMode: ReadWriteMany}\n")
    [problem] = problems_of(tmp_path, text)
    assert problem.startswith("gen.yaml: storage.dags.storageClassName: standard on kind provisions node-local")


def test_minikubes_hostpath_class_takes_any_access_mode_but_only_on_one_node(tmp_path):
    text = ("cluster: {distribution: minikube}\n"
            "storage:\n  logs: {type: storageClass, storageClassName: standard}\n")
    load(make_project(tmp_path, BASE + text))
    [problem] = problems_of(tmp_path, text.replace("minikube}", "minikube, nodes: 2}").replace(
        "storage:\n", "storage:\n  dags: {type: existingClaim, existingClaim: dags}\n"))
    assert problem.startswith("gen.yaml: storage.logs.storageClassName: standard on minikube provisions node-local "
                              "volumes: with cluster.nodes 2, pods on other nodes cannot mount them;")


def test_a_new_read_only_dag_claim_is_refused_as_unwritable(tmp_path):
    assert problems_of(tmp_path, "storage:\n  dags: {type: storageClass, storageClassName: longhorn}\n") == [
        "gen.yaml: storage.dags.accessMode: ReadOnlyMany on a new claim from longhorn gives an empty volume that no "
        "pod can write DAGs into; use ReadWriteMany (and copy the DAGs in), or storage.dags.type gitSync or "
        "existingClaim"]


def test_read_write_once_on_local_path_is_refused_only_with_several_nodes(tmp_path):
    text = "storage:\n  logs: {type: storageClass, storageClassName: local-path, accessMode: ReadWriteOnce}\n"
    load(make_project(tmp_path, BASE + text))
    [problem] = problems_of(tmp_path, text.replace("storage:", "cluster: {nodes: 2}\nstorage:").replace(
        "logs: {", "dags: {type: gitSync, gitSync: {repository: 'https://git.example.com/d.git'}}\n  logs: {"))
    assert "with cluster.nodes 2, pods on other nodes cannot mount them" in problem


def test_a_read_write_many_class_on_several_nodes_is_fine(tmp_path):
    text = ("cluster: {nodes: 4}\nstorage:\n"
            "  dags: {type: storageClass, storageClassName: longhorn, accessMode: ReadWriteMany}\n"
            "  logs: {type: storageClass, storageClassName: longhorn}\n")
    config = load(make_project(tmp_path, BASE + text))
    assert cluster.claim_name(config, "logs") == "airflow-logs"


@pytest.mark.parametrize(("volume", "kind", "key"), [
    ("dags", "nfs", "nfs"), ("dags", "storageClass", "storageClassName"), ("dags", "existingClaim", "existingClaim"),
    ("dags", "gitSync", "gitSync"), ("logs", "none", "remote"),
])
def test_each_backend_asks_for_its_own_settings(tmp_path, volume, kind, key):
    assert problems_of(tmp_path, f"storage:\n  {volume}: {{type: {kind}}}\n") == [
        f"gen.yaml: storage.{volume}.{key}: is required with storage.{volume}.type {kind}"]


def test_settings_of_another_backend_are_refused(tmp_path):
    assert problems_of(tmp_path, "storage:\n  dags: {existingClaim: my-dags}\n") == [
        "gen.yaml: storage.dags.existingClaim: is only used with storage.dags.type existingClaim; remove it or set "
        "storage.dags.type: existingClaim"]


def test_backend_settings_are_checked_field_by_field(tmp_path):
    text = ("storage:\n  dags: {type: nfs, nfs: {server: 'nas example', path: relative}}\n"
            "  logs: {type: none, remote: {baseLogFolder: bucket}}\n")
    assert problems_of(tmp_path, text) == [
        "gen.yaml: storage.dags.nfs.path: 'relative' must be an absolute path such as /exports/airflow, without "
        "control characters or backslashes",
        "gen.yaml: storage.dags.nfs.server: 'nas example' must be a host name or IPv4 address such as "
        "nfs.example.com or 10.0.0.5",
        "gen.yaml: storage.logs.remote.baseLogFolder: 'bucket' must be a URL such as s3://bucket/logs, "
        "gs://bucket/logs or wasb://container/logs",
        "gen.yaml: storage.logs.remote.connectionSecret: is required: Secret in the release namespace whose key "
        "`connection` holds the connection URI; passed to Airflow as AIRFLOW_CONN_<CONNECTIONID>. gen references it "
        "by name and never fills it.",
    ]


def test_the_k3s_engine_needs_k3s(tmp_path):
    assert problems_of(tmp_path, "cluster: {distribution: kubeadm}\ngitops: {engine: k3s}\n") == [
        "gen.yaml: gitops.engine: k3s needs cluster.distribution k3s (only k3s runs the helm-controller that reads "
        "HelmChart objects; it is kubeadm); use gitops.engine: flux"]


# --- what the backends put into the values -------------------------------------------------------

def test_git_sync_replaces_the_dag_volume(synthesized):
    config = load(synthesized["k3s-helmchart"] / "gen.yaml")
    values = {key: value for key, (value, _) in chart_values.base_values(config).items()}
    assert values["dags.persistence.enabled"] is False and "dags.persistence.existingClaim" not in values
    assert values["dags.gitSync.repo"] == "https://git.example.com/data/dags.git"
    assert values["dags.gitSync.ref"] == values["dags.gitSync.branch"] == "production"
    assert values["dags.gitSync.credentialsSecret"] == "airflow-git-credentials"


def test_remote_logging_reads_its_connection_from_a_secret(synthesized):
    config = load(synthesized["minikube-remote-logs"] / "gen.yaml")
    values = {key: value for key, (value, _) in chart_values.base_values(config).items()}
    assert values["logs.persistence.enabled"] is False
    assert values["config.logging.remote_logging"] == "True"
    assert values["secret"] == [{"envName": "AIRFLOW_CONN_AWS_LOGS", "secretName": "airflow-remote-logs",
                                 "secretKey": "connection"}]
    assert values["dags.persistence.existingClaim"] == "shared-dags"
    assert not (synthesized["minikube-remote-logs"] / "dist" / "base" / "storage.yaml").exists()


def test_nfs_volumes_are_bound_like_host_path_ones(synthesized):
    objects = documents((synthesized["kubeadm-legacy"] / "dist" / "base" / "cluster.yaml").read_text())
    logs = next(o for o in objects if o["metadata"]["name"] == "airflow-airflow-logs")
    assert logs["spec"]["nfs"] == {"server": "nas.home.arpa", "path": "/export/airflow/logs"}
    assert logs["spec"]["claimRef"] == {"namespace": "airflow", "name": "airflow-logs"}


def test_a_storage_class_claim_has_no_selector_or_volume_name(synthesized):
    [claim] = documents((synthesized["k3s-helmchart"] / "dist" / "base" / "storage.yaml").read_text())
    assert claim["spec"]["storageClassName"] == "longhorn"
    assert "selector" not in claim["spec"] and "volumeName" not in claim["spec"]


def test_the_legacy_traefik_group_is_used_for_every_traefik_object(synthesized):
    objects = documents((synthesized["kubeadm-legacy"] / "dist" / "base" / "traefik.yaml").read_text())
    assert sorted(o["kind"] for o in objects) == ["IngressRoute", "Middleware", "Middleware"]  # headers, stripPrefix
    assert {o["apiVersion"] for o in objects} == {"traefik.containo.us/v1alpha1"}


# --- the k3s engine ------------------------------------------------------------------------------

def _release_values(root, overlay, kind):
    objects = documents((root / "dist" / overlay / "manifests.yaml").read_text())
    return next(o for o in objects if o["kind"] == kind)


@pytest.fixture(scope="module")
def flux_twin(synthesized, tmp_path_factory):
    """The k3s-helmchart fixture synthesized again with gitops.engine flux."""
    root = synthesized["k3s-helmchart"]
    text = (root / "gen.yaml").read_text().replace("engine: k3s", "engine: flux")
    values = (root / "charts" / "airflow" / "values.yaml").read_text()
    twin = tmp_path_factory.mktemp("flux-twin")
    pipeline.synth(make_project(twin, text, values=values))
    return twin


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
def test_the_helm_chart_gets_the_same_values_as_the_flux_release(synthesized, flux_twin, overlay):
    chart = _release_values(synthesized["k3s-helmchart"], overlay, "HelmChart")
    release = _release_values(flux_twin, overlay, "HelmRelease")
    assert chart["spec"]["values"] == release["spec"]["values"]
    assert chart["spec"]["values"]["executor"] == release["spec"]["values"]["executor"]
    assert chart["metadata"]["namespace"] == "kube-system" and chart["spec"]["targetNamespace"] == "airflow"
    assert chart["spec"]["version"] == "1.22.0" and chart["spec"]["failurePolicy"] == "abort"


def test_the_k3s_admin_password_secret_is_a_values_file_beside_the_helm_chart(tmp_path):
    config = make_project(tmp_path, fixture="k3s-helmchart")
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config)], catch_exceptions=False)
    secrets = {s["metadata"]["name"]: s for s in yaml.safe_load_all(result.output) if s}
    admin = secrets["airflow-admin-password"]
    assert admin["metadata"]["namespace"] == "kube-system"
    password = yaml.safe_load(admin["stringData"]["values.yaml"])["createUserJob"]["defaultUser"]["password"]
    assert len(password) >= 24
    names = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--names"]).output
    assert "kube-system/airflow-admin-password: values.yaml" in names.splitlines()


def test_synth_refuses_a_layout_that_cannot_work_and_writes_nothing(tmp_path):
    config = make_project(tmp_path, BASE + "cluster: {nodes: 2}\n")
    result = CliRunner().invoke(cli, ["synth", "--config", str(config)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"error: {config}: storage.") for line in lines)
    assert not (tmp_path / "dist").exists() and not (tmp_path / "overlays").exists()
