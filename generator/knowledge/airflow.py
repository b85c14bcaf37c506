"""Airflow and chart knowledge in one place.

Which keys the official chart reads depends on the Airflow version (webserver on 2, api-server on 3)
and on the chart version (the table of releases in charts.py); which executor strings work depends on
the Airflow version. Everything else in gen asks this module. Facts: AIRFLOW-CHART.md §2, §3, GITOPS.md §2.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from generator.knowledge import charts
from generator.model import Config, Version
from generator.plumbing.values import value_at

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
MULTI_EXECUTOR_SINCE = Version(2, 10, 0)


def chart_key(key: str, chart_version: Version) -> str:
    """`key` as the pinned chart spells it (the chart table knows where each release reads it)."""
    return charts.home(key, chart_version)


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
    """User values under a key the pinned chart does not know yet: the chart would ignore or refuse them."""
    found = []
    for key in charts.new_keys():
        since = charts.added_in(key)
        if value_at(user, key) is None or since is None or chart_version >= since:
            continue
        older = charts.home(key, chart_version)
        instead = f"write it as {older} instead, or" if older != key else "remove it, or"
        found.append(f"{label}: {key}: chart {chart_version} (charts/airflow/chart.yaml) does not know "
                     f"{key}, added in chart {since}; {instead} pin chart {since} or later (gen upgrade "
                     f"--chart-version {since})")
    return found


def deprecated_keys(user: dict[str, Any], label: str, chart_version: Version) -> list[str]:
    """User values under a key that the pinned chart deprecated after 1.19.0 (gen's oldest pin, whose
    projects keep working as they were): Renovate's bump of the pin lands here, and gen upgrade moves them."""
    found = []
    for move in charts.moves_until(chart_version):
        if move.since <= charts.RELEASES[0].version or value_at(user, move.old) is None:
            continue
        found.append(f"{label}: {move.old}: deprecated in chart {move.since} (moved to {' and '.join(move.homes)}); "
                     f"run gen upgrade --chart-version {chart_version} to move it")
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
    row = charts.release(config.chart.version)
    if row is not None and not row.airflow_min <= version < row.airflow_below:
        found.append(f"{label}: airflow.version: {version} is not supported by chart {config.chart.version}, which "
                     f"runs Airflow {row.airflow_min} up to (not including) {row.airflow_below}; use a version such "
                     f"as {charts.suggested(config.chart.version)}")
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


def warnings(config: Config) -> list[str]:
    """Settings that work but bite: Airflow 3.2.x's UI asks for its version outside a sub-path."""
    low, below = charts.ROOT_PATH_BUG
    version = config.airflow_version
    if low <= version < below and config.ingress.path_prefix:
        return [f"{config.source.label}: airflow.version: {version} under ingress.pathPrefix "
                f"{config.ingress.path_prefix}: its UI sends GET /api/v2/version to the host's root, outside the "
                f"prefix (apache/airflow#72344, fixed in 3.3.2), a login loop wherever something else on the host "
                f"answers 401 at /api/; use {charts.CURRENT_AIRFLOW} or later"]
    return []
