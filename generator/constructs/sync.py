"""The Flux objects that make a cluster follow this project: a GitRepository and a Kustomization.

`prune: true` removes what the project no longer generates; `wait: true` makes the Kustomization
Ready only when the HelmRelease is, so a failed upgrade shows on the object Flux users watch.
"""

from __future__ import annotations

from constructs import Construct

from .. import sync
from ..model import Config
from .api import api_object


class FluxSync(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config) -> None:
        super().__init__(scope, id)
        cluster = config.flux.cluster
        assert cluster is not None
        name = sync.object_name(config)
        source = {"interval": cluster.interval, "url": cluster.url, "ref": {"branch": cluster.branch}}
        if cluster.secret_name:
            source["secretRef"] = {"name": cluster.secret_name}
        api_object(self, "Source", api_version="source.toolkit.fluxcd.io/v1", kind="GitRepository",
                   name=name, namespace=sync.FLUX_NAMESPACE, spec=source)
        api_object(
            self, "Kustomization", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
            name=name, namespace=sync.FLUX_NAMESPACE,
            spec={
                "interval": cluster.interval,
                "path": sync.overlay_path(config),
                "prune": True,
                "wait": True,
                "timeout": cluster.timeout,
                "retryInterval": config.flux.retry_interval,
                "sourceRef": {"kind": "GitRepository", "name": name},
            },
        )
