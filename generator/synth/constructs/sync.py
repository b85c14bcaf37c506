"""The Flux objects that make a cluster follow this project: a GitRepository and a Kustomization.

`prune: true` removes what the project no longer generates; `wait: true` makes the Kustomization
Ready only when the HelmRelease is, so a failed upgrade shows on the object Flux users watch.

With a CloudNativePG database, a second Kustomization applies dist/database and is Ready only when
the Cluster is (a CEL health check on its Ready condition); the overlay's Kustomization `dependsOn`
it, so the HelmRelease, and the migration Job with it, is applied only once the database accepts
connections.

With a secrets provider, a Kustomization of the Secrets comes first: sops-encrypted files that
kustomize-controller decrypts with the age key in the sops-age Secret, or ExternalSecrets whose Ready
condition it checks. It holds the Namespace; the database's and the release's Kustomizations
`dependsOn` it.
"""

from __future__ import annotations

from constructs import Construct

from generator.knowledge import secret_providers, sync
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
        first: list[dict] = []  # what the database and the release wait for
        if secret_providers.has_secrets_tree(config):
            first = [{"name": self._secrets(config, common)}]
        if sync.separate_database(config):
            database = sync.database_object_name(config)
            spec = {"path": sync.database_path(config), **common, "healthCheckExprs": [sync.CLUSTER_HEALTH]}
            if first:
                spec["dependsOn"] = first
            api_object(self, "Database", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
                       name=database, namespace=sync.FLUX_NAMESPACE, spec=spec)
            first = [{"name": database}, *first]
        if first:
            overlay["dependsOn"] = first
        api_object(self, "Kustomization", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
                   name=name, namespace=sync.FLUX_NAMESPACE, spec=overlay)

    def _secrets(self, config: Config, common: dict) -> str:
        """The Kustomization of the Secrets (and the Namespace): decrypted with the cluster's age key (sops), or
        Ready once every ExternalSecret is (external-secrets)."""
        name = secret_providers.tree_object_name(config)
        spec = {"path": secret_providers.tree_path(config), **common}
        if secret_providers.provider(config) == secret_providers.SOPS:
            spec["decryption"] = {"provider": "sops", "secretRef": {"name": secret_providers.SOPS_KEY_SECRET}}
        else:
            spec["healthCheckExprs"] = [secret_providers.EXTERNAL_SECRET_HEALTH]
        api_object(self, "Secrets", api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization",
                   name=name, namespace=sync.FLUX_NAMESPACE, spec=spec)
        return name
