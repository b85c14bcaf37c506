"""Airflow and chart knowledge in one place.

Which keys the official chart reads depends on the Airflow version (webserver on 2, api-server on 3)
and on the chart version (workers.celery.* from 1.19); which executor strings work depends on the
Airflow version. Everything else in gen asks this module. Facts: AIRFLOW-CHART.md §2, §3, GITOPS.md §2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from generator.model import Config, Version

CELERY = "CeleryExecutor"
KUBERNETES = "KubernetesExecutor"
MULTI = "CeleryExecutor,KubernetesExecutor"
HYBRID = "CeleryKubernetesExecutor"

CELERY_EXECUTOR = "celery-executor"
KUBERNETES_EXECUTOR = "kubernetes-executor"
CELERY_KUBERNETES_EXECUTOR = "celery-kubernetes-executor"
OVERLAYS = (CELERY_EXECUTOR, KUBERNETES_EXECUTOR, CELERY_KUBERNETES_EXECUTOR)

UI_PORT = 8080

# Generated values, flat: dotted chart key -> (value, the setting it comes from).
Generated = dict[str, tuple[Any, str]]


AIRFLOW_3 = Version(3, 0, 0)
SUGGESTED = Version(3, 1, 7)  # the Airflow version chart 1.19.0 deploys by default (its appVersion)
MULTI_EXECUTOR_SINCE = Version(2, 10, 0)
WORKERS_CELERY_KEYS_SINCE = Version(1, 19, 0)  # chart version that added workers.celery.*


@dataclass(frozen=True)
class ChartKey:
    """A chart values key that exists only from chart version `since`; `before` is its older spelling."""

    key: str
    since: Version
    before: str | None = None
    needed_for: str = ""  # why gen writes it, for the message when the pinned chart is too old


CHART_KEYS = (
    ChartKey("workers.celery", WORKERS_CELERY_KEYS_SINCE, "workers"),
    # Chart 1.20 moved these Celery worker keys under workers.celery (the old ones still work, with a warning).
    ChartKey("workers.celery.keda", Version(1, 20, 0), "workers.keda"),
    ChartKey("workers.celery.podDisruptionBudget", Version(1, 20, 0), "workers.podDisruptionBudget"),
    ChartKey("workers.celery.resources", Version(1, 20, 0), "workers.resources"),
    ChartKey("createUserJob.defaultUser", Version(1, 19, 0), "webserver.defaultUser"),
    ChartKey("apiSecretKeySecretName", Version(1, 18, 0),
             needed_for="Airflow 3 keeps its api-server session key in a Secret"),
    ChartKey("jwtSecretName", Version(1, 17, 0), needed_for="Airflow 3 keeps its JWT signing key in a Secret"),
)
MULTI_EXECUTOR_CHART_SINCE = Version(1, 16, 0)  # the chart's executor schema accepts a list from 1.16


def chart_key(key: str, chart_version: Version) -> str:
    """`key` as the pinned chart spells it: the older spelling before the chart version that renamed it."""
    for known in CHART_KEYS:
        if known.before and chart_version < known.since and (key == known.key or key.startswith(known.key + ".")):
            return known.before + key[len(known.key):]
    return key


def is_airflow_3(version: Version) -> bool:
    return version >= AIRFLOW_3


def ui_component(version: Version) -> str:
    """The `component` label of the UI's pods: api-server on Airflow 3, webserver on Airflow 2."""
    return "api-server" if is_airflow_3(version) else "webserver"


def ui_service(release: str, version: Version) -> str:
    """The chart's Service in front of the UI: the api-server on Airflow 3, the webserver on Airflow 2."""
    return f"{release}-api-server" if is_airflow_3(version) else f"{release}-webserver"


def base_url(config: Config) -> str | None:
    """Airflow's base_url: the route's address, with the prefix unless Traefik strips it (legacy Airflow 2 mode)
    or the route serves the root of its host; without a route, airflow.baseUrl (None: the chart's default).
    The chart derives the api-server's probe paths from it, so they follow."""
    ingress = config.ingress
    if ingress is None:
        return config.airflow.base_url
    path = "" if ingress.prefix_mode == "strip" or ingress.path_prefix == "/" else ingress.path_prefix
    return f"https://{ingress.host}{path}"


def base_url_key(version: Version) -> str:
    return "config.api.base_url" if is_airflow_3(version) else "config.webserver.base_url"


def executor(overlay: str, config: Config) -> str:
    """The chart's `executor` value for an overlay, by Airflow version (see `problems` for refusals)."""
    if overlay == CELERY_EXECUTOR:
        return CELERY
    if overlay == KUBERNETES_EXECUTOR:
        return KUBERNETES
    requested = config.overlays[CELERY_KUBERNETES_EXECUTOR].executor
    if requested != "auto":
        return requested
    return MULTI if config.airflow_version >= MULTI_EXECUTOR_SINCE else HYBRID


def unknown_chart_keys(user: dict[str, Any], label: str, chart_version: Version) -> list[str]:
    """User values under a key the pinned chart does not know yet: the chart schema would refuse them."""
    found = []
    for known in CHART_KEYS:
        node: Any = user
        for part in known.key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or chart_version >= known.since:
            continue
        instead = (f"write it as {known.before} instead, or" if known.before else "remove it, or")
        found.append(f"{label}: {known.key}: chart {chart_version} (charts/airflow/chart.yaml) does not know "
                     f"{known.key}, added in chart {known.since}; {instead} pin chart {known.since} or later")
    return found


def generated_key_problems(config: Config, generated: Generated) -> list[str]:
    """Keys gen must write that the pinned chart is too old to read, with no older spelling to fall back on."""
    found = []
    version = config.chart.version
    for known in CHART_KEYS:
        if known.before or version >= known.since:
            continue
        if any(key == known.key or key.startswith(known.key + ".") for key in generated):
            found.append(f"charts/airflow/chart.yaml: version: chart {version} does not know {known.key} (added in "
                         f"chart {known.since}), and gen needs it: {known.needed_for}; pin chart {known.since} "
                         f"or later")
    if generated.get("executor", (None,))[0] == MULTI and version < MULTI_EXECUTOR_CHART_SINCE:
        found.append(f"charts/airflow/chart.yaml: version: chart {version} does not accept executor '{MULTI}' "
                     f"(accepted from chart {MULTI_EXECUTOR_CHART_SINCE}); pin chart {MULTI_EXECUTOR_CHART_SINCE} or "
                     f"later, or on Airflow 2 set overlays.{CELERY_KUBERNETES_EXECUTOR}.executor: {HYBRID}")
    return found


def base_url_problems(user: dict[str, Any], label: str, config: Config) -> list[str]:
    """A base_url whose path is not the route's prefix sends every link and redirect outside the route."""
    expected = base_url(config)
    if config.ingress is None:
        return []  # no route to contradict: base_url is the user's (airflow.baseUrl, or their own value)
    wanted_path = urlsplit(expected).path
    found = []
    for key in ("config.api.base_url", "config.webserver.base_url"):
        node: Any = user
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, str):
            continue
        path = urlsplit(node).path.rstrip("/")
        if path == wanted_path:
            continue
        if config.ingress.prefix_mode == "strip":
            why = (f"in prefixMode 'strip' Traefik removes {config.ingress.path_prefix} before Airflow sees it, so "
                   "base_url must have no path")
        else:
            why = f"the route serves {config.ingress.path_prefix or '/'} (ingress.pathPrefix) and keeps the prefix"
        if config.ingress.prefix_mode == "strip" and path == config.ingress.path_prefix:
            other = " (or set ingress.prefixMode: keep, which keeps the prefix and wants this path)"
        elif config.ingress.prefix_mode == "keep" and re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", path):
            other = f" (to serve Airflow under {path}, set ingress.pathPrefix: {path})"
        else:
            other = ""
        found.append(f"{label}: {key}: {node!r} has path {path or '/'!r} but {why}; remove it here: gen sets "
                     f"{base_url_key(config.airflow_version)} to {expected!r} from ingress.host and "
                     f"ingress.pathPrefix{other}")
    return found


def problems(config: Config) -> list[str]:
    """Combinations the schema cannot express and Airflow or the chart would reject at run time."""
    found = []
    version = config.airflow_version
    label = config.source.label
    if version.major not in (2, 3):
        # The chart pin's own appVersion is the natural suggestion, unless it is the refused version itself.
        suggestion = config.chart.airflow_version if config.chart.airflow_version.major in (2, 3) else SUGGESTED
        found.append(f"{label}: airflow.version: {version} is not supported by chart {config.chart.version}; "
                     f"use an Airflow 2 or 3 version such as {suggestion}")
    if config.ingress is not None and config.ingress.prefix_mode == "strip" and is_airflow_3(version):
        found.append(f"{label}: ingress.prefixMode: 'strip' is not supported on Airflow 3 (airflow.version "
                     f"{version}): its UI, login pages and execution API need the prefix; use 'keep'")
    if config.ingress is not None and config.airflow.base_url is not None:
        found.append(f"{label}: airflow.baseUrl: gen derives base_url from ingress when there is a route; remove "
                     f"airflow.baseUrl, or set ingress: false")
    requested = config.overlays[CELERY_KUBERNETES_EXECUTOR].executor
    where = f"{label}: overlays.{CELERY_KUBERNETES_EXECUTOR}.executor"
    if requested == HYBRID and is_airflow_3(version):
        found.append(f"{where}: {HYBRID} raises at start-up on Airflow 3 (airflow.version {version}); use 'auto' "
                     f"or '{MULTI}', and pick the executor per task with executor=")
    if requested == MULTI and version < MULTI_EXECUTOR_SINCE:
        found.append(f"{where}: '{MULTI}' needs Airflow {MULTI_EXECUTOR_SINCE} or later (airflow.version "
                     f"{version}); use 'auto' or '{HYBRID}'")
    return found
