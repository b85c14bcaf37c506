"""Build the cdk8s App for a config: one Chart per concern, each synthesized to one file of dist/base.

Cluster-scoped objects live in a chart without a namespace, since cdk8s stamps a chart's namespace
onto every object in it, StorageClasses and PersistentVolumes included (GITOPS.md §8.4).
"""

from __future__ import annotations

from typing import Any

from . import airflow, credentials, names, values
from .config import Config
from .runtime import cdk8s

# file name in dist/base -> what it holds
CHARTS = {
    "airflow": "Namespace, HelmRepository and HelmRelease",
    "cluster": "StorageClass and PersistentVolumes (cluster-scoped)",
    "storage": "PersistentVolumeClaims",
    "traefik": "IngressRoute (and the stripPrefix Middleware in strip mode)",
}


def release_values(config: Config) -> dict[str, Any]:
    """The HelmRelease values every overlay shares: the user's base values with gen's on top."""
    generated = {key: value for key, (value, _origin) in airflow.base_values(config).items()}
    return values.deep_merge(config.base_values, values.unflatten(generated))


def build(config: Config) -> dict[str, list[dict[str, Any]]]:
    """The objects of every chart, as plain JSON-like dicts, keyed by chart name."""
    lib = cdk8s()
    from .constructs.release import FluxHelmRelease, ReleaseNamespace
    from .constructs.storage import HostPathVolume, StorageClass, VolumeClaim
    from .constructs.traefik import AirflowRoute

    app = lib.App()
    ns, release = config.namespace, config.release

    def chart(name: str) -> Any:
        return lib.Chart(app, name, disable_resource_name_hashes=True)

    cluster = chart("cluster")
    StorageClass(cluster, "class", storage=config.storage)
    storage = chart("storage")
    for volume in names.VOLUMES:
        HostPathVolume(cluster, f"{volume}-volume", namespace=ns, release=release, volume=volume,
                       storage=config.storage)
        VolumeClaim(storage, f"{volume}-claim", namespace=ns, release=release, volume=volume,
                    storage=config.storage)

    traefik = chart("traefik")
    AirflowRoute(traefik, "route", namespace=ns, release=release, ingress=config.ingress,
                 service=airflow.ui_service(release, config.airflow_version), port=airflow.UI_PORT)

    main = chart("airflow")
    ReleaseNamespace(main, "namespace", namespace=ns)
    FluxHelmRelease(main, "release", namespace=ns, release=release, chart=config.chart, flux=config.flux,
                    values=release_values(config), values_from=credentials.values_from(config))

    charts = {"cluster": cluster, "storage": storage, "traefik": traefik, "airflow": main}
    return {name: list(charts[name].to_json()) for name in sorted(charts)}


def build_sync(config: Config) -> list[dict[str, Any]]:
    """The Flux wiring objects for clusters/<name>/airflow.yaml; none without `flux.cluster`."""
    if config.flux.cluster is None:
        return []
    lib = cdk8s()
    from .constructs.sync import FluxSync

    app = lib.App()
    chart = lib.Chart(app, "sync", disable_resource_name_hashes=True)
    FluxSync(chart, "sync", config=config)
    return list(chart.to_json())
