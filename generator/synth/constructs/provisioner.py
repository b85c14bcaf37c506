"""rancher local-path-provisioner for clusters without a dynamic provisioner (kubeadm), through Flux.

The chart's bundled PostgreSQL (and Redis) ask the default StorageClass for a volume; kubeadm has
none, so their pods stay Pending (the post's wall on kubeadm). Flux fetches the upstream `deploy`
directory at a pinned tag, so no copy of the upstream manifest lives in this project, and a patch
marks its `local-path` class the cluster default, as the post did by hand.
"""

from __future__ import annotations

from constructs import Construct

from generator.knowledge.cluster import LOCAL_PATH_CLASS
from generator.synth.constructs.api import api_object

REPOSITORY = "https://github.com/rancher/local-path-provisioner"
TAG = "v0.0.37"
PATH = "./deploy"
NAME = "local-path-provisioner"
FLUX_NAMESPACE = "flux-system"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def default_class_patch() -> str:
    """A strategic-merge patch, as text (Flux's `patches[].patch` is a string), on the upstream class."""
    return (f"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: {LOCAL_PATH_CLASS}\n"
            f"  annotations:\n    {DEFAULT_CLASS}: \"true\"\n")


class LocalPathProvisioner(Construct):
    """A GitRepository at the pinned tag and a Kustomization of its deploy/ with the default-class patch."""

    def __init__(self, scope: Construct, id: str, *, interval: str) -> None:
        super().__init__(scope, id)
        api_object(
            self, "Source", api_version="source.toolkit.fluxcd.io/v1", kind="GitRepository",
            name=NAME, namespace=FLUX_NAMESPACE,
            spec={"interval": interval, "url": REPOSITORY, "ref": {"tag": TAG}},
        )
        api_object(
            self, "Kustomization", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
            name=NAME, namespace=FLUX_NAMESPACE,
            spec={
                "interval": interval,
                "path": PATH,
                "prune": True,
                "wait": True,
                "sourceRef": {"kind": "GitRepository", "name": NAME},
                "patches": [{"patch": default_class_patch(),
                             "target": {"kind": "StorageClass", "name": LOCAL_PATH_CLASS}}],
            },
        )
