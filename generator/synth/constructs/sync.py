"""The Flux objects that make a cluster follow this project: a GitRepository and a Kustomization.

`prune: true` removes what the project no longer generates; `wait: true` makes the Kustomization
Ready only when the HelmRelease is, so a failed upgrade shows on the object Flux users watch.

With a CloudNativePG database, a second Kustomization applies dist/database and is Ready only when
the Cluster is (a CEL health check on its Ready condition); the overlay's Kustomization `dependsOn`
it, so the HelmRelease, and the migration Job with it, is applied only once the database accepts
connections.
"""

from __future__ import annotations

from constructs import Construct

from generator.knowledge import sync
from generator.model import Config
from generator.synth.constructs.api import api_object


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
        common = {"interval": cluster.interval, "prune": True, "wait": True, "timeout": cluster.timeout,
                  "retryInterval": config.flux.retry_interval, "sourceRef": {"kind": "GitRepository", "name": name}}
        overlay = {"path": sync.overlay_path(config), **common}
        if sync.separate_database(config):
            database = sync.database_object_name(config)
            api_object(self, "Database", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
                       name=database, namespace=sync.FLUX_NAMESPACE,
                       spec={"path": sync.database_path(config), **common,
                             "healthCheckExprs": [sync.CLUSTER_HEALTH]})
            overlay["dependsOn"] = [{"name": database}]
        api_object(self, "Kustomization", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
                   name=name, namespace=sync.FLUX_NAMESPACE, spec=overlay)
