"""Build the cdk8s App for a config: one Chart per concern, each synthesized to one file of dist/base.

Cluster-scoped objects live in a chart without a namespace, since cdk8s stamps a chart's namespace
onto every object in it, StorageClasses and PersistentVolumes included (GITOPS.md §8.4).
"""

from __future__ import annotations

from typing import Any

from generator.knowledge import (
    airflow,
    chart_values,
    cluster,
    credentials,
    database,
    hardening,
    names,
    secret_providers,
)
from generator.model import Config
from generator.plumbing.runtime import cdk8s

# Charts written to a directory of their own rather than dist/base: Flux applies dist/database, and
# waits for the Cluster to be Ready, before the overlay whose migrations need it (see sync.py); and
# dist/secrets, whose ExternalSecrets must be Ready before the database and the release.
SEPARATE = {"database": "dist/database", "secrets": secret_providers.SECRETS_TREE}


def _storage(chart: Any, config: Config) -> dict[str, Any]:
    """StorageClass and static volumes (cluster-scoped) and the claims gen makes, by backend."""
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.storage import StaticVolume, StorageClass, VolumeClaim

    ns, release = config.namespace, config.release
    cluster_chart, storage_chart = chart("cluster"), chart("storage")
    if cluster.volumes_of_type(config, *cluster.STATIC_TYPES):
        StorageClass(cluster_chart, "class", storage=config.storage)
    for volume in names.VOLUMES:
        kind = config.storage.volume(volume).type
        if kind in cluster.STATIC_TYPES:
            StaticVolume(cluster_chart, f"{volume}-volume", namespace=ns, release=release, volume=volume,
                         storage=config.storage)
        if kind in (*cluster.STATIC_TYPES, "storageClass"):
            VolumeClaim(storage_chart, f"{volume}-claim", namespace=ns, release=release, volume=volume,
                        storage=config.storage)
    return {"cluster": cluster_chart, "storage": storage_chart}


def _release(chart: Any, config: Config) -> None:
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.release import FluxHelmRelease, K3sHelmChart

    ns, release = config.namespace, config.release
    if config.gitops.engine == "k3s":
        K3sHelmChart(chart, "release", namespace=ns, release=release, chart=config.chart, flux=config.flux,
                     values=chart_values.base_release_values(config), values_secrets=credentials.values_secrets(config))
    else:
        FluxHelmRelease(chart, "release", namespace=ns, release=release, chart=config.chart, flux=config.flux,
                        values=chart_values.base_release_values(config), values_from=credentials.values_from(config))


def _route(chart: Any, config: Config) -> dict[str, Any]:
    """The route to the UI, of the kind ingress.kind names; none with `ingress: false`."""
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.routes import GatewayRoute, KubernetesIngress
    from generator.synth.constructs.traefik import AirflowRoute

    if config.ingress is None:
        return {}
    kinds = {"IngressRoute": ("traefik", AirflowRoute), "Ingress": ("route", KubernetesIngress),
             "HTTPRoute": ("route", GatewayRoute)}
    name, construct = kinds[config.ingress.kind]
    scope = chart(name)
    construct(scope, "route", namespace=config.namespace, release=config.release, ingress=config.ingress,
              service=airflow.ui_service(config.release, config.airflow_version), port=airflow.UI_PORT)
    return {name: scope}


def _external_secrets(chart: Any, config: Config) -> Any:
    """The Namespace and an ExternalSecret per Secret the release reads, in the Secret's namespace."""
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.external_secrets import ReleaseExternalSecret
    from generator.synth.constructs.release import ReleaseNamespace

    assert config.secrets.external_secrets is not None
    ReleaseNamespace(chart, "namespace", namespace=config.namespace)
    for spec, name in credentials.required(config, secret_providers.tree_overlays(config)):
        ReleaseExternalSecret(chart, spec.setting, name=name, namespace=credentials.secret_namespace(config, spec),
                              secret_type=credentials.secret_type(config, spec),
                              settings=config.secrets.external_secrets,
                              remote_key=secret_providers.remote_key(config, name),
                              properties=secret_providers.remote_properties(config, spec),
                              template_data=secret_providers.admin_values_template(config)
                              if spec.setting == "adminPassword" else None)
    return chart


def build(config: Config) -> dict[str, list[dict[str, Any]]]:
    """The objects of every chart, as plain JSON-like dicts, keyed by chart name; empty charts are left out."""
    lib = cdk8s()
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.network import AirflowNetworkPolicies
    from generator.synth.constructs.provisioner import LocalPathProvisioner
    from generator.synth.constructs.release import ReleaseNamespace

    app = lib.App()
    ns, release = config.namespace, config.release

    def chart(name: str) -> Any:
        return lib.Chart(app, name, disable_resource_name_hashes=True)

    charts = _storage(chart, config)

    charts.update(_route(chart, config))

    if config.network_policies.enabled:
        charts["network"] = chart("network")
        AirflowNetworkPolicies(charts["network"], "policies", namespace=ns, release=release,
                               ui_component=airflow.ui_component(config.airflow_version), ui_port=airflow.UI_PORT,
                               proxy_namespaces=hardening.proxy_namespaces(config), redis_port=hardening.redis_port(config))

    charts["airflow"] = chart("airflow")
    if secret_providers.provider(config) == secret_providers.EXTERNAL_SECRETS:
        charts["secrets"] = _external_secrets(chart("secrets"), config)
    if config.database.type == database.CLOUDNATIVEPG:
        charts["database"] = chart("database")
    # The Namespace lives in the tree Flux applies first (the Secrets', else the database's), so that no
    # two Flux Kustomizations own one object. With sops it is a file beside the encrypted Secrets.
    if not secret_providers.has_secrets_tree(config):
        ReleaseNamespace(charts.get("database", charts["airflow"]), "namespace", namespace=ns)
    if config.database.type == database.CLOUDNATIVEPG:
        # constructs start Node.js (jsii) on import: only when objects are built
        from generator.synth.constructs.database import ClusterBackups, MetadataCluster

        backup = database.backup(config)
        store = database.object_store_name(config) if backup else None
        MetadataCluster(charts["database"], "cluster", name=database.cluster_name(config), namespace=ns,
                        settings=database.cnpg_settings(config), database_name=config.database.name,
                        owner=config.database.user, secret=credentials.name(config, credentials.spec("metadata")),
                        object_store=store)
        if backup and store:
            ClusterBackups(charts["database"], "backups", namespace=ns, cluster=database.cluster_name(config),
                           object_store=store, scheduled_backup=database.scheduled_backup_name(config),
                           settings=backup)
    _release(charts["airflow"], config)

    if config.metrics.service_monitor:
        # constructs start Node.js (jsii) on import: only when objects are built
        from generator.synth.constructs.monitoring import StatsdServiceMonitor

        charts["monitoring"] = chart("monitoring")
        StatsdServiceMonitor(charts["monitoring"], "statsd", namespace=ns, release=release,
                             labels=config.metrics.service_monitor_labels, interval=config.metrics.interval)

    if cluster.profile(config).gen_installs_provisioner:
        charts["provisioner"] = chart("provisioner")
        LocalPathProvisioner(charts["provisioner"], "local-path", interval=config.flux.source_interval)

    built = {name: list(charts[name].to_json()) for name in sorted(charts)}
    return {name: objects for name, objects in built.items() if objects}


def build_sync(config: Config) -> list[dict[str, Any]]:
    """The Flux wiring objects for clusters/<name>/airflow.yaml; none without `flux.cluster`."""
    if config.flux.cluster is None:
        return []
    lib = cdk8s()
    # constructs start Node.js (jsii) on import: only when objects are built
    from generator.synth.constructs.sync import FluxSync

    app = lib.App()
    chart = lib.Chart(app, "sync", disable_resource_name_hashes=True)
    FluxSync(chart, "sync", config=config)
    return list(chart.to_json())
