"""The Namespace, and the Flux HelmRepository + HelmRelease (or the k3s HelmChart) that install the Airflow chart.

Credentials reach the chart only by Secret name (in `values`) or through `valuesFrom` Secret keys.

Flux renders the chart in the cluster, so Helm keeps its lifecycle (upgrades, history) and the
repository holds only reviewed values. RetryOnFailure never rolls back: Airflow's metadata
database migrations cannot be undone by a rollback (GITOPS.md §1.2).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import names
from generator.model import ChartPin, FluxConfig
from generator.synth.constructs.api import PRUNE_DISABLED, api_object


class ReleaseNamespace(Construct):
    """The namespace everything else lives in; never pruned, since that would delete all of it."""

    def __init__(self, scope: Construct, id: str, *, namespace: str) -> None:
        super().__init__(scope, id)
        api_object(self, "Resource", api_version="v1", kind="Namespace", name=namespace, annotations=PRUNE_DISABLED)


class FluxHelmRelease(Construct):
    """A HelmRepository for the chart pin and a HelmRelease of exactly that version with `values`."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, chart: ChartPin,
                 flux: FluxConfig, values: dict[str, Any], values_from: list[dict[str, Any]]) -> None:
        super().__init__(scope, id)
        repository = names.helm_repository(chart.name)
        api_object(
            self, "Repository", api_version="source.toolkit.fluxcd.io/v1", kind="HelmRepository",
            name=repository, namespace=namespace,
            spec={"interval": flux.source_interval, "url": chart.repository},
        )
        strategy = {"strategy": {"name": "RetryOnFailure", "retryInterval": flux.retry_interval}}
        api_object(
            self, "Resource", api_version="helm.toolkit.fluxcd.io/v2", kind="HelmRelease",
            name=names.helm_release(release), namespace=namespace,
            spec={
                "chart": {"spec": {
                    "chart": chart.name,
                    "version": str(chart.version),
                    "sourceRef": {"kind": "HelmRepository", "name": repository},
                }},
                "install": strategy,
                "upgrade": strategy,
                "interval": flux.interval,
                "releaseName": release,
                "timeout": flux.timeout,
                "values": values,
                "valuesFrom": values_from,
            },
        )


class K3sHelmChart(Construct):
    """A k3s HelmChart of exactly the pinned chart version with the same `values` as the Flux HelmRelease.

    Values go in the structured `spec.values` (not the `valuesContent` string), so each overlay patches
    them exactly as it patches a HelmRelease. `abort` leaves a failed upgrade for a person to look at:
    the default, `reinstall`, would uninstall Airflow and its database claim's owner with it.
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, chart: ChartPin,
                 flux: FluxConfig, values: dict[str, Any], values_secrets: list[dict[str, Any]]) -> None:
        super().__init__(scope, id)
        api_object(
            self, "Resource", api_version="helm.cattle.io/v1", kind="HelmChart",
            name=names.helm_release(release), namespace=names.K3S_NAMESPACE,
            spec={
                "chart": chart.name,
                "repo": chart.repository,
                "version": str(chart.version),
                "targetNamespace": namespace,
                "failurePolicy": "abort",
                "timeout": flux.timeout,
                "values": values,
                "valuesSecrets": values_secrets,
            },
        )
