"""gen import, Traefik routing: gen.yaml `ingress` from the install's IngressRoute (and its stripPrefix
Middleware).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from generator import schema
from generator.knowledge import airflow
from generator.onboarding.importing import findings

_LITERAL = r"(?:`([^`]*)`|\"((?:[^\"\\]|\\.)*)\")"
_HOST = re.compile(rf"Host\(\s*{_LITERAL}\s*\)")
_PREFIX = re.compile(rf"PathPrefix\(\s*{_LITERAL}\s*\)")

def _literal(match: re.Match[str]) -> str:
    raw, quoted = match.group(1), match.group(2)
    return raw if raw is not None else re.sub(r"\\(.)", r"\1", quoted)


def parse_match(rule: str) -> tuple[str | None, str | None]:
    """Host and PathPrefix of a rule `Host(`h`) && PathPrefix(`/p`)` (either order, or Host alone)."""
    hosts, prefixes = list(_HOST.finditer(rule)), list(_PREFIX.finditer(rule))
    rest = _PREFIX.sub("", _HOST.sub("", rule)).replace("&&", "").strip()
    if rest or len(hosts) != 1 or len(prefixes) > 1:
        return None, None
    return _literal(hosts[0]), (_literal(prefixes[0]) if prefixes else None)


def traefik(routes: list[tuple[str, dict]], objects: list[tuple[str, dict]], release: str | None,
            found: findings.Found) -> tuple[dict[str, Any], str | None, list[str], bool]:
    """gen.yaml `ingress` from the IngressRoutes; also the release its service implies, the objects used,
    and whether a stripPrefix Middleware removed the prefix.

    Long (carried over from the flat importer): one pass over the route's fields in the order gen.yaml has
    them; each step records into `found`, so cutting it would hand the route, its spec and `used` around."""
    used: list[str] = []

    def ui(service: Mapping[str, Any]) -> bool:
        name = str(service.get("name", ""))
        return name.endswith(("-webserver", "-api-server")) and (release is None or name.rsplit("-", 1)[0] in
                                                                   (release, f"{release}-api"))

    candidates = [(w, d, r) for w, d in routes for r in ((d.get("spec") or {}).get("routes") or [])
                  if isinstance(r, Mapping) and any(isinstance(s, Mapping) and ui(s) for s in r.get("services") or [])]
    if not candidates:
        if len(routes) != 1 or not ((routes[0][1].get("spec") or {}).get("routes")):
            found.problems.append(f"--manifests: none of the IngressRoutes ({', '.join(findings.describe(d) for _, d in routes)}) "
                                  "sends a route to the chart's <release>-webserver or <release>-api-server Service; "
                                  "pass the one that serves Airflow")
            return {}, None, used, False
        first = routes[0][1]["spec"]["routes"][0]
        candidates = [(routes[0][0], routes[0][1], first if isinstance(first, Mapping) else {})]
    where, doc, route = candidates[0]
    used.append(where)
    for other_where, other, _ in candidates[1:]:
        if other_where != where:
            found.left_out.append(f"{other_where}: a second route to Airflow; gen writes one")
    spec = doc.get("spec") or {}
    ingress: dict[str, Any] = {}
    rule = route.get("match")
    host, prefix = parse_match(rule) if isinstance(rule, str) else (None, None)
    if host is None:
        found.problems.append(f"{where}: spec.routes.match: {schema.show(rule)} is not a rule gen can carry over; gen "
                              f"writes Host(`HOST`) && PathPrefix(`/PREFIX`): reduce the route to that form")
    else:
        ingress["host"] = host
        found.origins["ingress.host"] = f"{where}: spec.routes.match"
        ingress["pathPrefix"] = (prefix or "/").rstrip("/") or "/"  # no PathPrefix: the root of the host
        found.origins["ingress.pathPrefix"] = f"{where}: spec.routes.match"
    if spec.get("entryPoints"):
        ingress["entryPoints"] = spec["entryPoints"]
        found.origins["ingress.entryPoints"] = f"{where}: spec.entryPoints"
    else:
        found.notes.append(f"{where} names no entryPoints (Traefik then uses all of them); gen.yaml gets "
                           f"ingress.entryPoints [websecure]")
    tls = spec.get("tls")
    if not isinstance(tls, Mapping) or not (tls.get("certResolver") or tls.get("secretName")):
        found.problems.append(f"{where}: spec.tls: has no certResolver or secretName; gen serves the UI over https "
                              f"only: add tls.certResolver (an ACME resolver) or tls.secretName to the IngressRoute")
    else:
        ingress["tls"] = {key: tls[key] for key in ("certResolver", "secretName") if tls.get(key)}
        found.origins["ingress.tls"] = f"{where}: spec.tls"
        found.origins["ingress.tls.certResolver"] = f"{where}: spec.tls.certResolver"
        found.origins["ingress.tls.secretName"] = f"{where}: spec.tls.secretName"
        for key in sorted(set(tls) - {"certResolver", "secretName"}):
            found.left_out.append(f"{where}: spec.tls.{key} (gen writes certResolver or secretName only)")
    group = doc["apiVersion"].split("/")[0]
    if group == "traefik.containo.us":
        ingress["apiGroup"] = group
    services = [s for s in route.get("services") or [] if isinstance(s, Mapping)]
    implied = None
    for service in services:
        name = str(service.get("name", ""))
        found.route_service = found.route_service or name
        for suffix in ("-api-server", "-webserver"):
            if name.endswith(suffix):
                implied = name[: -len(suffix)]
        if service.get("port") not in (None, airflow.UI_PORT, "airflow-ui", "api-server"):
            found.notes.append(f"{where}: service port {schema.show(service.get('port'))}; gen routes to the chart's "
                               f"port {airflow.UI_PORT}")
    stripped = False
    middlewares = {d["metadata"]["name"]: (w, d) for w, d in objects if d["kind"] == "Middleware"}
    for reference in route.get("middlewares") or []:
        name = reference.get("name") if isinstance(reference, Mapping) else None
        if name not in middlewares:
            found.left_out.append(f"{where}: middleware {schema.show(name)} (not in the manifests; gen does not "
                                  f"carry it over)")
            continue
        m_where, middleware = middlewares[name]
        prefixes = ((middleware.get("spec") or {}).get("stripPrefix") or {}).get("prefixes")
        if isinstance(prefixes, list) and prefix not in (None, "/") and [p.rstrip("/") for p in prefixes if isinstance(p, str)] == \
                [prefix.rstrip("/")]:
            stripped = True
            used.append(m_where)
        else:
            found.left_out.append(f"{m_where} (used by the route; gen writes no middleware of this kind: add it by "
                                  f"hand beside dist/ if you need it)")
    return ingress, implied, used, stripped
