"""The Traefik IngressRoute to the Airflow UI, and the legacy stripPrefix Middleware.

Rule values are Go string literals inside backticks: the config schema admits only host names and
path segments that cannot contain a backtick, quote, backslash, space or operator, so no input can
close the literal and add `|| ...` to the rule (GITOPS.md §4.3).
"""

from __future__ import annotations

from constructs import Construct

from .. import names
from ..model import IngressConfig
from .api import api_object

VERSION = "v1alpha1"  # the same in traefik.io (v3, and v2.10+) and traefik.containo.us (v2 only)


def rule(host: str, path_prefix: str) -> str:
    return f"Host(`{host}`) && PathPrefix(`{path_prefix}`)"


class AirflowRoute(Construct):
    """Routes https://<host><pathPrefix> to the chart's UI service on port 8080."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, ingress: IngressConfig,
                 service: str, port: int) -> None:
        super().__init__(scope, id)
        api_version = f"{ingress.api_group}/{VERSION}"
        route: dict = {
            "kind": "Rule",
            "match": rule(ingress.host, ingress.path_prefix),
            "services": [{"kind": "Service", "name": service, "port": port}],
        }
        if ingress.prefix_mode == "strip":
            middleware = names.strip_prefix_middleware(release)
            api_object(
                self, "StripPrefix", api_version=api_version, kind="Middleware", name=middleware,
                namespace=namespace, spec={"stripPrefix": {"prefixes": [ingress.path_prefix]}},
            )
            route["middlewares"] = [{"name": middleware, "namespace": namespace}]
        tls = ({"certResolver": ingress.tls.cert_resolver} if ingress.tls.cert_resolver
               else {"secretName": ingress.tls.secret_name})
        api_object(
            self, "Resource", api_version=api_version, kind="IngressRoute", name=names.ingress_route(release),
            namespace=namespace,
            spec={"entryPoints": list(ingress.entry_points), "routes": [route], "tls": tls},
        )
