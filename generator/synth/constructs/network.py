"""NetworkPolicies gen writes itself: who may open a connection to the Airflow UI and to Redis.

Why not the chart's `networkPolicies.enabled` (chart 1.19.0)? It is one switch for every component's
policy, and two of them break Airflow 3: the worker and triggerer policies admit their log ports only
from `component: webserver`, while on Airflow 3 it is the api-server that fetches live task logs; the
statsd policy also shuts out any metrics scraper not listed in `statsd.extraNetworkPolicies`, and the
api-server policy admits nothing unless `apiServer.networkPolicy.ingress.from` is set. So gen leaves
that switch off and selects the two services itself; the bundled PostgreSQL gets its subchart's own
policy through chart values (`chart_values._database_policy`), which does the job.

Every policy lists only Ingress: it limits who connects to the selected pods and nothing they send.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import names
from generator.synth.constructs.api import api_object

API_VERSION = "networking.k8s.io/v1"


def _namespace_peer(namespace: str) -> dict[str, Any]:
    # Kubernetes sets kubernetes.io/metadata.name on every Namespace (GA in 1.22).
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


class AirflowNetworkPolicies(Construct):
    """The UI service's pods accept the route's proxy and Airflow's pods; Redis accepts Airflow's pods only."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, ui_component: str,
                 ui_port: int, proxy_namespaces: tuple[str, ...] | None, redis_port: int | None) -> None:
        """`proxy_namespaces`: where the route's proxy runs (Traefik, the Ingress controller, the Gateway);
        None admits every namespace's pods, () none (no route). `redis_port` None: no bundled Redis to guard."""
        super().__init__(scope, id)
        airflow_pods = {"podSelector": {"matchLabels": names.airflow_pod_labels(release)}}
        proxies = ([{"namespaceSelector": {}}] if proxy_namespaces is None
                   else [_namespace_peer(name) for name in proxy_namespaces])
        self._policy("Ui", names.ui_network_policy(release), namespace, release, ui_component,
                     [*proxies, airflow_pods], ui_port)
        if redis_port is not None:
            self._policy("Redis", names.redis_network_policy(release), namespace, release, "redis",
                         [airflow_pods], redis_port)

    def _policy(self, id: str, name: str, namespace: str, release: str, component: str,
                peers: list[dict[str, Any]], port: int) -> None:
        selector = {**names.airflow_pod_labels(release), "component": component}
        api_object(self, id, api_version=API_VERSION, kind="NetworkPolicy", name=name, namespace=namespace,
                   spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"],
                         "ingress": [{"from": peers, "ports": [{"protocol": "TCP", "port": port}]}]})
