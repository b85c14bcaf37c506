"""Names of the objects gen creates and the objects the chart creates, in one place.

Overlays, routes and claims refer to each other by these names, so they must never drift apart.
"""

from __future__ import annotations

VOLUMES = ("dags", "logs")


def claim(release: str, volume: str) -> str:
    """PersistentVolumeClaim in the release namespace that the chart mounts via existingClaim."""
    return f"{release}-{volume}"


def volume(namespace: str, release: str, volume: str) -> str:
    """Cluster-scoped PersistentVolume; the namespace is part of the name so two deployments never collide."""
    return f"{namespace}-{release}-{volume}"


def helm_repository(chart_name: str) -> str:
    return f"{chart_name}-charts"


def helm_release(release: str) -> str:
    return release


def ingress_route(release: str) -> str:
    return release


def strip_prefix_middleware(release: str) -> str:
    return f"{release}-strip-prefix"


# Where k3s's helm-controller watches HelmChart objects (GITOPS.md §3); the HelmChart and the Secrets
# it reads live here, whatever the release namespace.
K3S_NAMESPACE = "kube-system"


def security_headers_middleware(release: str) -> str:
    return f"{release}-security-headers"


def allow_list_middleware(release: str) -> str:
    return f"{release}-allow-from"


def ui_network_policy(release: str) -> str:
    return f"{release}-ui-ingress"


def redis_network_policy(release: str) -> str:
    return f"{release}-redis-ingress"


def airflow_pod_labels(release: str) -> dict[str, str]:
    """Labels every pod the chart runs for a release carries (components, jobs, task pods), Redis included."""
    return {"tier": "airflow", "release": release}


def statsd_service(release: str) -> str:
    """The chart's StatsD exporter Service (statsd.enabled, on by default)."""
    return f"{release}-statsd"


def service_monitor(release: str) -> str:
    return f"{release}-statsd"
