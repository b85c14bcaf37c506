"""The Traefik IngressRoute to the Airflow UI, and the Middlewares gen attaches to it.

Rule values are Go string literals inside backticks: the config schema admits only host names and
path segments that cannot contain a backtick, quote, backslash, space or operator, so no input can
close the literal and add `|| ...` to the route (GITOPS.md §4.3).

Middlewares run in the order the route lists them: the security headers first (so every answer,
a refusal or an authentication redirect included, carries them), then the address allowlist (so a
refused client never reaches the authentication server), then the user's own, then the legacy
stripPrefix next to the service.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import hardening, names
from generator.model import IngressConfig
from generator.synth.constructs.api import api_object

VERSION = "v1alpha1"  # the same in traefik.io (v3, and v2.10+) and traefik.containo.us (v2 only)

# The allowlist's field: traefik.io (Traefik v3) names it ipAllowList; traefik.containo.us (Traefik 2.x)
# ipWhiteList, the only spelling Traefik before v2.11 reads (ipAllowList arrived in v2.11).
ALLOW_LIST_FIELD = {"traefik.io": "ipAllowList", "traefik.containo.us": "ipWhiteList"}

# Response headers that the Airflow UI still works with. X-Frame-Options is SAMEORIGIN, not DENY: the
# Airflow 3 UI shows its auth manager's pages (FAB users and roles) and plugin views in iframes of its own
# origin. No Content-Security-Policy: the UI's styling injects inline styles and the FAB pages inline
# scripts, and plugin views may frame other origins, so any policy strict enough to matter breaks a page.
SECURITY_HEADERS = {
    "stsSeconds": 31536000,  # one year of HTTPS-only for this host; subdomains and preload are the owner's call
    "contentTypeNosniff": True,
    "customFrameOptionsValue": "SAMEORIGIN",
    "referrerPolicy": "same-origin",
}


def rule(host: str, path_prefix: str) -> str:
    return f"Host(`{host}`) && PathPrefix(`{path_prefix}`)"


class AirflowRoute(Construct):
    """Routes https://<host><pathPrefix> to the chart's UI service on port 8080."""

    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, ingress: IngressConfig,
                 service: str, port: int) -> None:
        super().__init__(scope, id)
        self._api_version = f"{ingress.api_group}/{VERSION}"
        self._namespace = namespace
        middlewares: list[dict[str, str]] = []
        if hardening.security_headers(ingress):
            middlewares.append(self._middleware("SecurityHeaders", names.security_headers_middleware(release),
                                                {"headers": dict(SECURITY_HEADERS)}))
        if ingress.allow_from:
            field = ALLOW_LIST_FIELD[ingress.api_group]
            middlewares.append(self._middleware("AllowFrom", names.allow_list_middleware(release),
                                                {field: {"sourceRange": list(ingress.allow_from)}}))
        middlewares += [{"name": ref.name, "namespace": ref.namespace or namespace} for ref in ingress.middlewares]
        if ingress.prefix_mode == "strip":
            middlewares.append(self._middleware("StripPrefix", names.strip_prefix_middleware(release),
                                                {"stripPrefix": {"prefixes": [ingress.path_prefix]}}))
        route: dict[str, Any] = {
            "kind": "Rule",
            "match": rule(ingress.host, ingress.path_prefix),
            "services": [{"kind": "Service", "name": service, "port": port}],
        }
        if middlewares:
            route["middlewares"] = middlewares
        tls = ({"certResolver": ingress.tls.cert_resolver} if ingress.tls.cert_resolver
               else {"secretName": ingress.tls.secret_name})
        api_object(
            self, "Resource", api_version=self._api_version, kind="IngressRoute",
            name=names.ingress_route(release), namespace=namespace,
            spec={"entryPoints": list(ingress.entry_points), "routes": [route], "tls": tls},
        )

    def _middleware(self, id: str, name: str, spec: dict[str, Any]) -> dict[str, str]:
        """A Middleware of gen's in the release namespace, and the route's reference to it."""
        api_object(self, id, api_version=self._api_version, kind="Middleware", name=name,
                   namespace=self._namespace, spec=spec)
        return {"name": name, "namespace": self._namespace}
