"""The route to the Airflow UI for clusters without Traefik: a Kubernetes Ingress or a Gateway API HTTPRoute.

Both send https://<host><pathPrefix> to the chart's UI Service as it is: the prefix is kept (never
rewritten), and `/` serves the root of the host. TLS ends at the Ingress controller (the Secret named by
ingress.tls.secretName) or at the Gateway's listener, which holds its own certificate.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import names
from generator.model import IngressConfig
from generator.synth.constructs.api import api_object

INGRESS_API_VERSION = "networking.k8s.io/v1"
GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"


class KubernetesIngress(Construct):
    """An Ingress (networking.k8s.io/v1) with one Prefix path to the UI Service."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, ingress: IngressConfig,
                 service: str, port: int) -> None:
        super().__init__(scope, id)
        path = {"path": ingress.path_prefix, "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": port}}}}
        spec: dict[str, Any] = {"rules": [{"host": ingress.host, "http": {"paths": [path]}}]}
        if ingress.class_name:
            spec["ingressClassName"] = ingress.class_name
        if ingress.tls.secret_name:
            spec["tls"] = [{"hosts": [ingress.host], "secretName": ingress.tls.secret_name}]
        api_object(self, "Resource", api_version=INGRESS_API_VERSION, kind="Ingress",
                   name=names.ingress_route(release), namespace=namespace, spec=spec)


class GatewayRoute(Construct):
    """An HTTPRoute (Gateway API v1) attached to the given Gateways, with one PathPrefix match."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, ingress: IngressConfig,
                 service: str, port: int) -> None:
        super().__init__(scope, id)
        parents = [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": ref.name,
                    **({"namespace": ref.namespace} if ref.namespace else {}),
                    **({"sectionName": ref.section_name} if ref.section_name else {})}
                   for ref in ingress.parent_refs]
        rule = {"matches": [{"path": {"type": "PathPrefix", "value": ingress.path_prefix}}],
                "backendRefs": [{"name": service, "port": port}]}
        api_object(self, "Resource", api_version=GATEWAY_API_VERSION, kind="HTTPRoute",
                   name=names.ingress_route(release), namespace=namespace,
                   spec={"parentRefs": parents, "hostnames": [ingress.host], "rules": [rule]})
