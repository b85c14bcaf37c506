"""`gen kind-config`: the post's kind cluster, shaped so the generated volumes bind on it.

A control plane and `cluster.nodes` workers labelled `node=worker_<i>`, as in the post. Every worker
mounts the same host directories (<dataDir>/dags, <dataDir>/logs) at the paths the hostPath
PersistentVolumes name, so a pod sees the same DAGs and logs whichever worker it lands on: this is
why hostPath is allowed with several nodes on kind and nowhere else (see `cluster.py`).
Field names are those of kind's `kind.x-k8s.io/v1alpha4` Cluster (pkg/apis/config/v1alpha4/types.go).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generator.knowledge import cluster
from generator.model import Config
from generator.plumbing import output
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import dump_documents

API_VERSION = "kind.x-k8s.io/v1alpha4"


def problems(config: Config) -> list[str]:
    if config.cluster.distribution == "kind":
        return []
    return [f"{config.source.label}: cluster.distribution: gen kind-config writes a kind cluster, but this config "
            f"is for {config.cluster.distribution}; set cluster.distribution: kind"]


def data_dir(config: Config) -> Path:
    """The host directory, absolute (kind resolves relative paths against where it runs, not gen.yaml)."""
    return Path(os.path.abspath(config.source.project_dir / config.cluster.kind.data_dir))


def mounts(config: Config) -> list[dict[str, str]]:
    host = data_dir(config)
    return [{"hostPath": str(host / volume), "containerPath": config.storage.volume(volume).host_path}
            for volume in cluster.volumes_of_type(config, "hostPath")]


def cluster_config(config: Config) -> dict[str, Any]:
    """The kind Cluster: one control plane (no workload: kind keeps it tainted once there are workers)."""
    found = problems(config)
    if found:
        raise ConfigError(found)
    workers = []
    for index in range(config.cluster.nodes):
        node: dict[str, Any] = {"role": "worker", "labels": {"node": f"worker_{index}"}}
        if mounts(config):
            node["extraMounts"] = mounts(config)
        workers.append(node)
    return {"kind": "Cluster", "apiVersion": API_VERSION, "nodes": [{"role": "control-plane"}, *workers]}


def render(config: Config) -> str:
    head = (f"# kind cluster for {config.source.name}, written by `gen kind-config`. Create the host directories "
            f"first (the logs directory writable by UID 50000):\n"
            f"#   mkdir -p {' '.join(m['hostPath'] for m in mounts(config)) or '(none: no hostPath volumes)'}\n"
            f"# then: kind create cluster --config <this file>\n")
    return head + dump_documents([cluster_config(config)])


def write(text: str, target: Path) -> None:
    """Replace `target` atomically: never a partial file."""
    output.write_atomically(target, text)
