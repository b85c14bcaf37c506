"""`gen kind-config`: the post's kind cluster, in kind's v1alpha4 Cluster shape, mounting what the volumes expect.

No package ships kind or a schema of its config, so KIND_CLUSTER below states the v1alpha4 fields
gen writes, with their types, as declared in kubernetes-sigs/kind `pkg/apis/config/v1alpha4/types.go`
(Cluster: kind, apiVersion, nodes; Node: role in {control-plane, worker}, labels, extraMounts;
Mount: containerPath, hostPath, readOnly, selinuxRelabel, propagation). kind decodes its config
strictly, so unknown fields are refused here too.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import yaml
from click.testing import CliRunner
from support import documents, make_project

from generator.commands import cli

MOUNT = {"type": "object", "additionalProperties": False, "required": ["containerPath", "hostPath"],
         "properties": {"containerPath": {"type": "string", "pattern": "^/"},
                        "hostPath": {"type": "string", "pattern": "^/"},
                        "readOnly": {"type": "boolean"}, "selinuxRelabel": {"type": "boolean"},
                        "propagation": {"enum": ["None", "HostToContainer", "Bidirectional"]}}}
NODE = {"type": "object", "additionalProperties": False, "required": ["role"],
        "properties": {"role": {"enum": ["control-plane", "worker"]},
                       "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                       "extraMounts": {"type": "array", "items": MOUNT}}}
KIND_CLUSTER = {"type": "object", "additionalProperties": False, "required": ["kind", "apiVersion"],
                "properties": {"kind": {"const": "Cluster"}, "apiVersion": {"const": "kind.x-k8s.io/v1alpha4"},
                               "name": {"type": "string"}, "nodes": {"type": "array", "items": NODE}}}
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # Kubernetes label value syntax


def _kind_config(*args):
    return CliRunner().invoke(cli, ["kind-config", *args], catch_exceptions=False)


def test_the_kind_config_is_the_posts_cluster_in_kinds_shape(tmp_path):
    config = make_project(tmp_path, fixture="kind-workers")
    result = _kind_config("--config", str(config))
    assert result.exit_code == 0, result.output
    cluster = yaml.safe_load(result.output)
    jsonschema.Draft202012Validator(KIND_CLUSTER).validate(cluster)
    control, *workers = cluster["nodes"]
    assert control == {"role": "control-plane"}
    assert [w["labels"] for w in workers] == [{"node": f"worker_{i}"} for i in range(3)]
    assert all(LABEL_VALUE.match(w["labels"]["node"]) for w in workers)
    data = tmp_path / "data"
    for worker in workers:
        assert worker["extraMounts"] == [
            {"hostPath": str(data / "dags"), "containerPath": "/data/airflow/dags"},
            {"hostPath": str(data / "logs"), "containerPath": "/data/airflow/logs"}]


def test_every_mount_lands_where_a_generated_volume_expects_it(synthesized, tmp_path):
    root = synthesized["kind-workers"]
    cluster = yaml.safe_load(_kind_config("--config", str(root / "gen.yaml")).output)
    volumes = [o for o in documents((root / "dist" / "base" / "cluster.yaml").read_text())
               if o["kind"] == "PersistentVolume"]
    expected = sorted(v["spec"]["hostPath"]["path"] for v in volumes)
    for worker in cluster["nodes"][1:]:
        assert sorted(m["containerPath"] for m in worker["extraMounts"]) == expected


def test_only_host_path_volumes_are_mounted(tmp_path):
    text = (make_project(tmp_path, fixture="kind-workers").read_text()
            + "gitops: {engine: flux}\n").replace("  dags:\n    hostPath: /data/airflow/dags\n",
                                                 "  dags:\n    type: gitSync\n    gitSync: "
                                                 "{repository: 'https://git.example.com/dags.git'}\n")
    cluster = yaml.safe_load(_kind_config("--config", str(make_project(tmp_path, text))).output)
    assert [m["containerPath"] for m in cluster["nodes"][1]["extraMounts"]] == ["/data/airflow/logs"]


def test_output_file_is_written_whole_and_nothing_else_is_left(tmp_path):
    config = make_project(tmp_path / "project", fixture="kind-workers")
    target = tmp_path / "out" / "kind.yaml"
    target.parent.mkdir()
    target.write_text("old\n")
    result = _kind_config("--config", str(config), "--output", str(target))
    assert result.exit_code == 0 and result.output == f"gen: wrote {target}\n"
    assert yaml.safe_load(target.read_text()) == yaml.safe_load(_kind_config("--config", str(config)).output)
    assert sorted(p.name for p in target.parent.iterdir()) == ["kind.yaml"]


def test_an_unwritable_output_leaves_no_file(tmp_path):
    config = make_project(tmp_path, fixture="kind-workers")
    result = _kind_config("--config", str(config), "--output", str(tmp_path / "missing" / "kind.yaml"))
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {tmp_path / 'missing' / 'kind.yaml'}: cannot write here:")
    assert not (tmp_path / "missing").exists()


def test_a_config_for_another_distribution_is_refused(tmp_path):
    result = _kind_config("--config", str(make_project(tmp_path)))
    assert result.exit_code == 1
    assert result.output == (f"error: {tmp_path / 'gen.yaml'}: cluster.distribution: gen kind-config writes a kind "
                             "cluster, but this config is for k3s; set cluster.distribution: kind\n")


def test_the_kind_config_names_the_directories_to_create(tmp_path):
    output = _kind_config("--config", str(make_project(tmp_path, fixture="kind-workers"))).output
    assert f"mkdir -p {Path(tmp_path) / 'data' / 'dags'} {Path(tmp_path) / 'data' / 'logs'}" in output
