"""Cluster knowledge in one place: what each distribution brings, and which storage layouts work on it.

The post met a different wall on each cluster it tried: kubeadm has no dynamic provisioner (the
bundled PostgreSQL's claim stays Pending), k3s bundles local-path and Traefik, and a hostPath volume
lives on one node. local-path provisions node-local volumes and refuses every access mode but
ReadWriteOnce (GITOPS.md §5), so it can hold neither the shared DAG folder nor the shared logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.knowledge import names
from generator.model import Config, VolumeConfig

LOCAL_PATH_CLASS = "local-path"  # the StorageClass in rancher's deploy/local-path-storage.yaml and in k3s


@dataclass(frozen=True)
class Profile:
    name: str
    default_class: str  # the cluster's default StorageClass (what the chart's PostgreSQL and Redis claims get)
    gen_installs_provisioner: bool  # kubeadm ships none: gen adds rancher local-path-provisioner through Flux
    shared_host_path: bool  # hostPath reaches the same directory on every node (kind: gen kind-config mounts it)
    node_local_classes: frozenset[str]  # classes whose volumes live on one node
    rwo_only_classes: frozenset[str]  # local-path based: refuse every access mode but ReadWriteOnce


_LOCAL_PATH = frozenset({LOCAL_PATH_CLASS})
_STANDARD_AND_LOCAL_PATH = frozenset({"standard", LOCAL_PATH_CLASS})
PROFILES = {
    # k3s bundles rancher's local-path-provisioner as its default class.
    "k3s": Profile("k3s", LOCAL_PATH_CLASS, False, False, _LOCAL_PATH, _LOCAL_PATH),
    # kubeadm has no provisioner: gen emits local-path-provisioner v0.0.37 and marks its class default.
    "kubeadm": Profile("kubeadm", LOCAL_PATH_CLASS, True, False, _LOCAL_PATH, _LOCAL_PATH),
    # kind's `standard` class is rancher's local-path-provisioner under another name.
    "kind": Profile("kind", "standard", False, True, _STANDARD_AND_LOCAL_PATH, _STANDARD_AND_LOCAL_PATH),
    # minikube's hostpath provisioner accepts any access mode, but its volumes live on one node.
    "minikube": Profile("minikube", "standard", False, False, _STANDARD_AND_LOCAL_PATH, _LOCAL_PATH),
}

STATIC_TYPES = ("hostPath", "nfs")  # gen makes the PersistentVolume and binds the claim to it
# Backends with no volume of gen's: git-sync, remote logs, DAGs in the image, the chart's worker claims.
VOLUMELESS_TYPES = ("gitSync", "none", "image", "workers")
# gen.yaml key of a backend's settings -> (VolumeConfig field, the `type` it belongs to)
BACKEND_KEYS = {"storageClassName": ("storage_class_name", "storageClass"),
                "existingClaim": ("existing_claim", "existingClaim"), "nfs": ("nfs", "nfs"),
                "gitSync": ("git_sync", "gitSync"), "remote": ("remote", "none")}


def profile(config: Config) -> Profile:
    return PROFILES[config.cluster.distribution]


def multi_node(config: Config) -> bool:
    return config.cluster.nodes > 1


def volumes_of_type(config: Config, *types: str) -> list[str]:
    return [v for v in names.VOLUMES if config.storage.volume(v).type in types]


def claim_name(config: Config, volume: str) -> str | None:
    """The claim the chart mounts for a volume, or None when the backend needs no volume."""
    spec = config.storage.volume(volume)
    if spec.type == "existingClaim":
        return spec.existing_claim
    if spec.type in VOLUMELESS_TYPES:
        return None
    return names.claim(config.release, volume)


def _backend_problems(config: Config, volume: str) -> list[str]:
    """Each backend's own settings: present with it, absent without it."""
    spec: VolumeConfig = config.storage.volume(volume)
    where = f"{config.source.label}: storage.{volume}"
    found = []
    for key, (field, owner) in BACKEND_KEYS.items():
        value = getattr(spec, field, None)  # dags has no `remote`, logs no `gitSync`
        if spec.type == owner and value is None:
            found.append(f"{where}.{key}: is required with storage.{volume}.type {owner}")
        elif spec.type != owner and value is not None:
            found.append(f"{where}.{key}: is only used with storage.{volume}.type {owner}; remove it or set "
                         f"storage.{volume}.type: {owner}")
    return found


def _host_path_problems(config: Config, volume: str) -> list[str]:
    spec = config.storage.volume(volume)
    if spec.type != "hostPath" or not multi_node(config) or profile(config).shared_host_path:
        return []
    alternatives = "nfs, storageClass (a ReadWriteMany class such as longhorn) or existingClaim"
    alternatives += ", or gitSync" if volume == "dags" else ", or none (remote logging)"
    return [f"{config.source.label}: storage.{volume}.type: hostPath lives on one node, but cluster.nodes is "
            f"{config.cluster.nodes} on {config.cluster.distribution}: pods on the other nodes would see an empty "
            f"directory; use {alternatives}, or set cluster.nodes: 1"]


def _class_problems(config: Config, volume: str) -> list[str]:
    spec = config.storage.volume(volume)
    if spec.type != "storageClass" or spec.storage_class_name not in profile(config).node_local_classes:
        return []
    where = f"{config.source.label}: storage.{volume}.storageClassName"
    fix = ("use a ReadWriteMany class (longhorn, nfs-subdir-external-provisioner's nfs-client, cephfs), "
           f"storage.{volume}.type nfs" + (", or gitSync" if volume == "dags" else ", or type none (remote logging)"))
    if spec.access_mode != "ReadWriteOnce" and spec.storage_class_name in profile(config).rwo_only_classes:
        return [f"{where}: {spec.storage_class_name} on {config.cluster.distribution} provisions node-local volumes "
                f"and refuses {spec.access_mode} (it offers ReadWriteOnce only); {fix}"]
    if multi_node(config):
        return [f"{where}: {spec.storage_class_name} on {config.cluster.distribution} provisions node-local volumes: "
                f"with cluster.nodes {config.cluster.nodes}, pods on other nodes cannot mount them; {fix}"]
    return []


def _empty_read_only_problems(config: Config) -> list[str]:
    """A new ReadOnlyMany claim is an empty volume that no pod may write DAGs into."""
    spec = config.storage.dags
    if spec.type != "storageClass" or spec.access_mode != "ReadOnlyMany" or spec.storage_class_name is None:
        return []
    return [f"{config.source.label}: storage.dags.accessMode: ReadOnlyMany on a new claim from "
            f"{spec.storage_class_name} gives an empty volume that no pod can write DAGs into; use ReadWriteMany "
            f"(and copy the DAGs in), or storage.dags.type gitSync or existingClaim"]


def problems(config: Config) -> list[str]:
    """Storage layouts that would leave pods Pending or blind on this cluster, each with its fix."""
    found = []
    label = config.source.label
    for volume in names.VOLUMES:
        found += _backend_problems(config, volume)
        found += _host_path_problems(config, volume)
        found += _class_problems(config, volume)
    found += _empty_read_only_problems(config)
    if config.gitops.engine == "k3s" and config.cluster.distribution != "k3s":
        found.append(f"{label}: gitops.engine: k3s needs cluster.distribution k3s (only k3s runs the helm-controller "
                     f"that reads HelmChart objects; it is {config.cluster.distribution}); use gitops.engine: flux")
    return found


# Airflow's user in the official image (the chart's `uid`, with `gid` 0): hostPath logs must be writable by it.
AIRFLOW_UID = 50000


def notes(config: Config) -> list[str]:
    """What the node needs that gen cannot do for it: one line each."""
    logs = config.storage.logs
    if logs.type != "hostPath":
        return []
    return [f"note: storage.logs.hostPath {logs.host_path} must be writable by UID {AIRFLOW_UID} on the node, or "
            f"every task fails to open its log (sudo install -d -o {AIRFLOW_UID} -g 0 -m 0775 {logs.host_path}; "
            f"docs/k3s.md)"]


def warnings(config: Config) -> list[str]:
    """Settings that work on paper but that the cluster's defaults defeat."""
    if config.cluster.distribution == "k3s" and config.ingress is not None and config.ingress.allow_from:
        return [f"{config.source.label}: ingress.allowFrom: k3s's ServiceLB hides the client's address unless "
                f"Traefik's Service has externalTrafficPolicy: Local, so the allowlist sees one address for "
                f"everyone (and answers 403 to all); set it in a HelmChartConfig for traefik (docs/k3s.md)"]
    return []
