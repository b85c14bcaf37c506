"""The DAG and log volumes: a no-provisioner StorageClass, hostPath or nfs PersistentVolume/Claim pairs,
and claims on an existing StorageClass.

Each claim is bound to its volume in both directions (the claim's volumeName and selector, the
volume's claimRef), so no other claim can take the volume and no provisioner answers the claim.
Flux never prunes them: deleting a claim by accident must not lose DAGs or logs.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import names
from generator.model import StorageConfig, VolumeConfig
from generator.synth.constructs.api import PRUNE_DISABLED, api_object

# StorageClass parameters are immutable: Flux must recreate the class rather than fail to patch it.
FORCE_RECREATE = {"kustomize.toolkit.fluxcd.io/force": "enabled"}


class StorageClass(Construct):
    """The cluster-scoped class that only the pre-made volumes belong to."""

    def __init__(self, scope: Construct, id: str, *, storage: StorageConfig) -> None:
        super().__init__(scope, id)
        api_object(
            self, "Resource", api_version="storage.k8s.io/v1", kind="StorageClass", name=storage.class_name,
            annotations=FORCE_RECREATE,
            provisioner="kubernetes.io/no-provisioner",
            volumeBindingMode="WaitForFirstConsumer",
            reclaimPolicy=storage.reclaim_policy,
        )


def _labels(release: str, volume: str) -> dict[str, str]:
    # `type: airflow-<volume>` is the post's selector; the instance label keeps two releases apart.
    return {"type": f"airflow-{volume}", "app.kubernetes.io/instance": release}


class StaticVolume(Construct):
    """A cluster-scoped hostPath or nfs PersistentVolume reserved for exactly one claim."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, volume: str,
                 storage: StorageConfig) -> None:
        super().__init__(scope, id)
        spec: VolumeConfig = storage.volume(volume)
        api_object(
            self, "Resource", api_version="v1", kind="PersistentVolume",
            name=names.volume(namespace, release, volume),
            labels=_labels(release, volume), annotations=PRUNE_DISABLED,
            spec=_volume_spec(spec, storage, claim_ref={"namespace": namespace, "name": names.claim(release, volume)}),
        )


def _source(spec: VolumeConfig) -> dict[str, Any]:
    if spec.type == "nfs":
        return {"nfs": {"server": spec.nfs.server, "path": spec.nfs.path}}
    return {"hostPath": {"path": spec.host_path, "type": "DirectoryOrCreate"}}


def _volume_spec(spec: VolumeConfig, storage: StorageConfig, claim_ref: dict[str, str]) -> dict[str, Any]:
    return {
        "accessModes": [spec.access_mode],
        "capacity": {"storage": spec.size},
        "claimRef": claim_ref,
        **_source(spec),
        "persistentVolumeReclaimPolicy": storage.reclaim_policy,
        "storageClassName": storage.class_name,
        "volumeMode": "Filesystem",
    }


class VolumeClaim(Construct):
    """The namespaced claim the chart mounts through `<volume>.persistence.existingClaim`.

    With a static volume (hostPath, nfs) the claim names it; with type storageClass the named class
    provisions it, so there is no volumeName and no selector (dynamic provisioners refuse selectors).
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, volume: str,
                 storage: StorageConfig) -> None:
        super().__init__(scope, id)
        spec = storage.volume(volume)
        labels = _labels(release, volume)
        bound = {"selector": {"matchLabels": labels}, "storageClassName": storage.class_name,
                 "volumeName": names.volume(namespace, release, volume)}
        if spec.type == "storageClass":
            bound = {"storageClassName": spec.storage_class_name}
        api_object(
            self, "Resource", api_version="v1", kind="PersistentVolumeClaim",
            name=names.claim(release, volume), namespace=namespace,
            labels=labels, annotations=PRUNE_DISABLED,
            spec={
                "accessModes": [spec.access_mode],
                "resources": {"requests": {"storage": spec.size}},
                **bound,
                "volumeMode": "Filesystem",
            },
        )
