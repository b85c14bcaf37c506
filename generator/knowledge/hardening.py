"""Exposure knowledge in one place: who may reach Airflow, and whose forwarded headers it believes.

The route is published on the internet; what stands in front of Airflow's own login is the user's
Middlewares (forward authentication, an address allowlist), gen's security headers, and the network
policies that keep every pod but Traefik's and Airflow's away from the UI, the database and the broker.
Behind Traefik, the Airflow 3 api-server (uvicorn) honours X-Forwarded-Proto only from the addresses in
FORWARDED_ALLOW_IPS: gen narrows it to the pod network where the distribution fixes one.
"""

from __future__ import annotations

import ipaddress

from generator.knowledge import airflow, credentials, names
from generator.model import Config, IngressConfig, MiddlewareRef

# Where Traefik runs when ingress.traefikNamespace is unset: k3s bundles it in kube-system; elsewhere the
# Traefik Helm chart is usually installed into a namespace of its own called traefik.
TRAEFIK_NAMESPACES = {"k3s": "kube-system", "kubeadm": "traefik", "kind": "traefik", "minikube": "traefik"}

# The pod network each distribution uses unless told otherwise: k3s's --cluster-cidr default, kind's
# networking.podSubnet default, minikube's default pod CIDR. kubeadm has none of its own (the CNI and
# --pod-network-cidr decide), so there gen cannot know Traefik's address and trusts every one.
POD_NETWORKS = {"k3s": ("10.42.0.0/16",), "kind": ("10.244.0.0/16",), "minikube": ("10.244.0.0/16",)}
TRUST_EVERY_ADDRESS = "*"

# The api-server (or webserver) and Redis listen here in chart 1.19.0 (ports.airflowUI, ports.apiServer,
# ports.redisDB).
REDIS_PORT = 6379


def redis_port(config: Config) -> int | None:
    """The port gen's Redis policy guards; None with an external broker (the chart runs no Redis)."""
    return None if credentials.external_broker(config) else REDIS_PORT


TRAEFIK = "IngressRoute"  # the route kind that is Traefik's, and the default


def traefik_namespace(config: Config) -> str:
    ingress = config.ingress
    return (ingress.traefik_namespace if ingress else None) or TRAEFIK_NAMESPACES[config.cluster.distribution]


def proxy_namespaces(config: Config) -> tuple[str, ...] | None:
    """The namespaces whose pods forward requests to the UI, which its network policy admits: Traefik's for an
    IngressRoute, controllerNamespace for an Ingress or HTTPRoute (None: every namespace), none without a route."""
    if config.ingress is None:
        return ()
    if config.ingress.kind == TRAEFIK:
        return (traefik_namespace(config),)
    return (config.ingress.controller_namespace,) if config.ingress.controller_namespace else None


def security_headers(ingress: IngressConfig) -> bool:
    """gen's headers Middleware is Traefik's: on for an IngressRoute unless switched off."""
    return ingress.kind == TRAEFIK and ingress.security_headers is not False


def trusted_proxies(config: Config) -> tuple[str, ...]:
    """What FORWARDED_ALLOW_IPS lists: the setting, else the distribution's pod network, else every address."""
    if config.ingress is not None and config.ingress.trusted_proxies is not None:
        return config.ingress.trusted_proxies
    return POD_NETWORKS.get(config.cluster.distribution, (TRUST_EVERY_ADDRESS,))


def forwarded_allow_ips(config: Config) -> str:
    """uvicorn's FORWARDED_ALLOW_IPS: comma-separated addresses and networks (networks since uvicorn 0.31)."""
    return ",".join(trusted_proxies(config))


def middleware_namespace(ref: MiddlewareRef, config: Config) -> str:
    return ref.namespace or config.namespace


def _network_problems(values: tuple[str, ...], where: str) -> list[str]:
    found = []
    for index, text in enumerate(values):
        if text == TRUST_EVERY_ADDRESS:
            continue
        try:
            ipaddress.ip_network(text, strict=True)
        except ValueError:
            try:
                network = ipaddress.ip_network(text, strict=False)
            except ValueError:
                found.append(f"{where}[{index}]: {text!r} is not an IPv4 or IPv6 address or network; write one "
                             f"such as 192.168.1.0/24 or 2001:db8::/32")
                continue
            found.append(f"{where}[{index}]: {text!r} has host bits set; write the network {str(network)!r}, "
                         f"or the single address as {text.split('/')[0]!r}")
    return found


def _middleware_problems(config: Config) -> list[str]:
    where = f"{config.source.label}: ingress.middlewares"
    ingress = config.ingress
    made = {names.security_headers_middleware(config.release): ("ingress.securityHeaders", security_headers(ingress)),
            names.allow_list_middleware(config.release): ("ingress.allowFrom", bool(ingress.allow_from)),
            names.strip_prefix_middleware(config.release): ("ingress.prefixMode strip", ingress.prefix_mode == "strip")}
    own = {name: setting for name, (setting, makes) in made.items() if makes}
    found = []
    seen: dict[tuple[str, str], int] = {}
    for index, ref in enumerate(config.ingress.middlewares):
        key = (middleware_namespace(ref, config), ref.name)
        if key in seen:
            found.append(f"{where}[{index}]: {key[1]!r} in namespace {key[0]!r} is already attached as "
                         f"ingress.middlewares[{seen[key]}]; list each Middleware once")
        seen.setdefault(key, index)
        if key[0] == config.namespace and ref.name in own:
            found.append(f"{where}[{index}].name: {ref.name!r} is the name of the Middleware gen makes for "
                         f"{own[ref.name]}; rename your Middleware")
    return found


# Traefik's settings, what each is for, and what to use instead under another route kind.
TRAEFIK_ONLY = (
    ("middlewares", lambda i: bool(i.middlewares), "attach authentication in your Ingress controller or Gateway"),
    ("allowFrom", lambda i: bool(i.allow_from), "limit client addresses in your Ingress controller or Gateway"),
    ("securityHeaders", lambda i: i.security_headers is True,
     "set response headers in your Ingress controller or Gateway, or remove securityHeaders"),
    ("prefixMode", lambda i: i.prefix_mode == "strip", "use prefixMode keep, which every Airflow version supports"),
    ("entryPoints", lambda i: i.entry_points != ("websecure",), "remove entryPoints (Traefik's listeners)"),
    ("apiGroup", lambda i: i.api_group != "traefik.io", "remove apiGroup (Traefik's CRD group)"),
    ("traefikNamespace", lambda i: i.traefik_namespace is not None, "use controllerNamespace"),
    ("tls.certResolver", lambda i: i.tls.cert_resolver is not None,
     "use tls.secretName, a kubernetes.io/tls Secret such as cert-manager issues"),
)


def route_problems(config: Config) -> list[str]:
    """Each route kind's own settings, one line per setting that belongs to another kind."""
    ingress, where = config.ingress, f"{config.source.label}: ingress"
    if ingress is None:
        return []
    found = []
    if ingress.kind != TRAEFIK:
        found += [f"{where}.{key}: is a Traefik setting and ingress.kind is {ingress.kind}; {instead}, or use kind "
                  f"IngressRoute" for key, used, instead in TRAEFIK_ONLY if used(ingress)]
    elif not (ingress.tls.cert_resolver or ingress.tls.secret_name):
        found.append(f"{where}.tls: is required for kind IngressRoute: set exactly one of certResolver (an ACME "
                     f"resolver in Traefik's static configuration) or secretName (a kubernetes.io/tls Secret)")
    if ingress.kind == TRAEFIK and ingress.controller_namespace is not None:
        found.append(f"{where}.controllerNamespace: is for kinds Ingress and HTTPRoute; use traefikNamespace")
    if ingress.kind != "Ingress" and ingress.class_name is not None:
        found.append(f"{where}.className: is the IngressClass of kind Ingress; remove it, or set kind: Ingress")
    if ingress.kind != "HTTPRoute" and ingress.parent_refs:
        found.append(f"{where}.parentRefs: are the Gateways of kind HTTPRoute; remove them, or set kind: HTTPRoute")
    if ingress.kind == "HTTPRoute" and not ingress.parent_refs:
        found.append(f"{where}.parentRefs: is required for kind HTTPRoute: the Gateways the route attaches to, such "
                     f"as [{{name: public, namespace: gateway-system}}]")
    if ingress.kind == "HTTPRoute" and ingress.tls.secret_name:
        found.append(f"{where}.tls: the Gateway's listener holds the certificate of an HTTPRoute; remove ingress.tls")
    return found


def problems(config: Config) -> list[str]:
    label = config.source.label
    if config.ingress is None:
        return []
    found = route_problems(config) + _middleware_problems(config)
    found += _network_problems(config.ingress.allow_from, f"{label}: ingress.allowFrom")
    proxies = config.ingress.trusted_proxies or ()
    found += _network_problems(proxies, f"{label}: ingress.trustedProxies")
    if config.ingress.trusted_proxies is not None and not airflow.is_airflow_3(config.airflow_version):
        found.append(f"{label}: ingress.trustedProxies: only the Airflow 3 api-server reads it (FORWARDED_ALLOW_IPS), "
                     f"and airflow.version is {config.airflow_version}; remove it (on Airflow 2 the network policy "
                     f"limits who may send forwarded headers)")
    if TRUST_EVERY_ADDRESS in proxies and len(proxies) > 1:
        found.append(f"{label}: ingress.trustedProxies: '*' already trusts every address; give '*' alone or only "
                     f"addresses and networks")
    return found


def warnings(config: Config) -> list[str]:
    """Exposure settings that work but do not do what they seem to: an allowlist that allows everyone."""
    found = []
    for index, text in enumerate(config.ingress.allow_from if config.ingress else ()):
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue  # a problem of its own (problems())
        if network.prefixlen == 0:
            found.append(f"{config.source.label}: ingress.allowFrom[{index}]: {text} allows every IPv{network.version} "
                         f"address, so the allowlist lets everyone reach Airflow's login; list the networks that may "
                         f"(such as 192.168.1.0/24), or remove ingress.allowFrom")
    return found
