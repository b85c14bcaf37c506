"""gen import, the route: gen.yaml `ingress` from whatever route the install has, of the kind it has.

A Traefik IngressRoute (routes), a plain Ingress, a Gateway API HTTPRoute, or the chart's own
`ingress.apiServer` / `ingress.web` values (written as a gen Ingress, which replaces the chart's); with
none of them, `ingress: false`, and never an invented host.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.onboarding.importing import findings, routes

UI_SUFFIXES = ("-api-server", "-webserver")
GATEWAY_GROUP = "gateway.networking.k8s.io"


@dataclass(frozen=True)
class Route:
    """What the install's route gives gen.yaml."""

    settings: dict[str, Any] | bool  # gen.yaml `ingress`; False: no route
    implied_release: str | None  # the release the route's Service names
    used: tuple[str, ...]  # the objects mapped
    stripped: bool  # a stripPrefix Middleware removed the prefix
    chart_values: bool  # the route came from the chart's ingress.* values, which gen's Ingress replaces


def _release_of(service: Any) -> str | None:
    name = str(service or "")
    return next((name[: -len(suffix)] for suffix in UI_SUFFIXES if name.endswith(suffix)), None)


def _path(value: Any) -> str:
    return str(value or "/").rstrip("*").rstrip("/") or "/"  # a trailing /* (some controllers) is a prefix


def _kube_ingress(where: str, doc: Mapping[str, Any], found: findings.Found) -> tuple[dict[str, Any], str | None]:
    """An Ingress's first rule whose path sends to a UI Service."""
    spec = doc.get("spec") or {}
    for rule in spec.get("rules") or []:
        for path in ((rule.get("http") or {}).get("paths") or []) if isinstance(rule, Mapping) else []:
            service = ((path.get("backend") or {}).get("service") or {}).get("name") if isinstance(path, Mapping) \
                else None
            if _release_of(service) is None or not rule.get("host"):
                continue
            found.route_service = str(service)
            settings: dict[str, Any] = {"kind": "Ingress", "host": rule["host"], "pathPrefix": _path(path.get("path"))}
            annotations = (doc.get("metadata") or {}).get("annotations") or {}
            class_name = spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")
            if class_name:
                settings["className"] = class_name
            secret = next((t.get("secretName") for t in spec.get("tls") or [] if isinstance(t, Mapping)
                           and rule["host"] in (t.get("hosts") or [rule["host"]]) and t.get("secretName")), None)
            if secret:
                settings["tls"] = {"secretName": secret}
            if annotations:
                found.cannot.append(f"{where}: metadata.annotations ({', '.join(sorted(map(str, annotations)))}): gen's "
                                    f"Ingress carries none. Way through: set them on your Ingress controller, or keep "
                                    f"applying this Ingress by hand and set ingress: false.")
            for key, value in (("host", "spec.rules.host"), ("pathPrefix", "spec.rules.http.paths.path"),
                               ("className", "spec.ingressClassName"), ("tls", "spec.tls")):
                found.origins[f"ingress.{key}"] = f"{where}: {value}"
            return settings, _release_of(service)
    return {}, None


def _http_route(where: str, doc: Mapping[str, Any], found: findings.Found) -> tuple[dict[str, Any], str | None]:
    """An HTTPRoute's first rule whose backend is a UI Service."""
    spec = doc.get("spec") or {}
    hosts = spec.get("hostnames") or []
    for rule in spec.get("rules") or []:
        backends = [b.get("name") for b in (rule.get("backendRefs") or []) if isinstance(b, Mapping)] \
            if isinstance(rule, Mapping) else []
        service = next((name for name in backends if _release_of(name)), None)
        if service is None or not hosts:
            continue
        found.route_service = str(service)
        match = next((m for m in rule.get("matches") or [] if isinstance(m, Mapping)), {})
        parents = [{key: ref[key] for key in ("name", "namespace", "sectionName") if ref.get(key)}
                   for ref in spec.get("parentRefs") or [] if isinstance(ref, Mapping)]
        settings = {"kind": "HTTPRoute", "host": hosts[0], "pathPrefix": _path((match.get("path") or {}).get("value")),
                    "parentRefs": parents}
        for key, value in (("host", "spec.hostnames"), ("pathPrefix", "spec.rules.matches.path"),
                           ("parentRefs", "spec.parentRefs")):
            found.origins[f"ingress.{key}"] = f"{where}: {value}"
        if len(hosts) > 1:
            found.left_out.append(f"{where}: spec.hostnames {', '.join(map(str, hosts[1:]))} (gen routes one host)")
        return settings, _release_of(service)
    return {}, None


def _chart_route(values: Mapping[str, Any], found: findings.Found) -> dict[str, Any]:
    """The chart's own Ingress values: ingress.apiServer (Airflow 3) or ingress.web, when enabled."""
    for key in ("ingress.apiServer", "ingress.web"):
        spec = findings.get(values, key)
        if not isinstance(spec, Mapping) or not (spec.get("enabled") or findings.get(values, "ingress.enabled")):
            continue
        hosts = spec.get("hosts") or ([spec["host"]] if spec.get("host") else [])
        first = hosts[0] if hosts else None
        host = first.get("name") if isinstance(first, Mapping) else first
        if not host:
            continue
        settings: dict[str, Any] = {"kind": "Ingress", "host": host, "pathPrefix": _path(spec.get("path"))}
        if spec.get("ingressClassName"):
            settings["className"] = spec["ingressClassName"]
        tls = (first.get("tls") if isinstance(first, Mapping) else None) or spec.get("tls") or {}
        if isinstance(tls, Mapping) and tls.get("enabled") and tls.get("secretName"):
            settings["tls"] = {"secretName": tls["secretName"]}
        for name in ("host", "pathPrefix", "className", "tls"):
            found.origins[f"ingress.{name}"] = f"values: {key}"
        found.notes.append(f"{key}: the chart's own Ingress becomes gen's (ingress.kind Ingress): same host, path, "
                           f"class and TLS Secret; Helm deletes the chart's Ingress in the upgrade and Flux applies "
                           f"gen's")
        if spec.get("annotations"):
            found.cannot.append(f"{key}.annotations ({', '.join(sorted(map(str, spec['annotations'])))}): gen's "
                                f"Ingress carries none. Way through: set them on your Ingress controller.")
        return settings
    return {}


def route(objects: list[tuple[str, dict]], values: Mapping[str, Any], release: str | None,
          found: findings.Found) -> Route:
    """The install's route, of the first kind found: IngressRoute, Ingress, HTTPRoute, the chart's values."""
    traefik = [(w, d) for w, d in objects if d["kind"] == "IngressRoute"
               and d["apiVersion"].split("/")[0] in ("traefik.io", "traefik.containo.us")]
    if traefik:
        settings, implied, used, stripped = routes.traefik(traefik, objects, release, found)
        return Route(settings, implied, tuple(used), stripped, False)
    readers = {"Ingress": ("networking.k8s.io", _kube_ingress), "HTTPRoute": (GATEWAY_GROUP, _http_route)}
    for where, doc in objects:
        group, reader = readers.get(doc["kind"], (None, None))
        if reader is not None and doc["apiVersion"].split("/")[0] == group:
            settings, implied = reader(where, doc, found)
            if settings:
                return Route(settings, implied, (where,), False, False)
    if settings := _chart_route(values, found):
        return Route(settings, None, (), False, True)
    found.notes.append("no route found (no IngressRoute, Ingress or HTTPRoute in the manifests, no chart ingress "
                       "values): gen.yaml gets ingress: false, and Airflow stays reached as it is now (port-forward "
                       "or a LoadBalancer Service); pass the route's file with --manifests if it has one")
    return Route(False, None, (), False, False)
