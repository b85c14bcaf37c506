"""The chart releases gen knows, one row per version, and the pins of a new project.

Each row says what that release of the official chart deploys by default, which Airflow versions it
runs, the bundled PostgreSQL's major version, which keys it added and deprecated (with their new
homes), which components read the JWT Secret, and what it changed in behaviour. Every other module
asks this one: `gen init` and `gen import` pin `CURRENT`, the loader refuses a pin outside `RELEASES`,
chart_values writes each key where the pinned release reads it, and `gen upgrade` moves a project's
keys across releases. Facts: each release's RELEASE_NOTES.rst and values.schema.json.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.model import Version


@dataclass(frozen=True)
class Move:
    """A values key the release deprecated, and the key(s) that replace it."""

    old: str
    homes: tuple[str, ...]
    since: Version


@dataclass(frozen=True)
class Change:
    """A behaviour change of a release that a project meets when it sets one of `when_set`."""

    since: Version
    when_set: tuple[str, ...]  # value paths
    kubernetes_only: bool  # met only by overlays whose executor runs KubernetesExecutor task pods
    what: str
    remedy: str


@dataclass(frozen=True)
class Release:
    version: Version
    default_airflow: Version  # its appVersion
    airflow_min: Version
    airflow_below: Version  # the first Airflow version it does not run
    postgresql_major: int  # the bundled PostgreSQL's image (postgresql.image.tag)
    helm_min: Version | None
    adds: tuple[str, ...]  # keys new in this release besides the homes of its moves
    moves: tuple[Move, ...]
    jwt_secret_readers: tuple[str, ...]  # components that mount the JWT signing key's Secret


def _moves(since: str, both: str, celery_only: str = "") -> tuple[Move, ...]:
    """`workers.X` moved under workers.celery.X and workers.kubernetes.X (`both`), or the first alone."""
    version = Version.parse(since)
    found = [Move(f"workers.{key}", (f"workers.celery.{key}", f"workers.kubernetes.{key}"), version)
             for key in both.split()]
    found += [Move(f"workers.{key}", (f"workers.celery.{key}",), version) for key in celery_only.split()]
    return tuple(found)


_JWT_ALL = ("api-server", "scheduler", "triggerer", "worker", "dag-processor")

RELEASES: tuple[Release, ...] = (
    Release(Version(1, 19, 0), Version(3, 1, 7), Version(2, 0, 0), Version(4, 0, 0), 16, None,
            adds=tuple(f"workers.{group}.{key}" for group in ("celery", "kubernetes")
                       for key in ("command", "kerberosInitContainer", "securityContexts")),
            moves=(*_moves("1.19.0", "", "replicas revisionHistoryLimit args livenessProbe updateStrategy strategy "
                                         "podManagementPolicy persistence"),
                   Move("webserver.defaultUser", ("createUserJob.defaultUser",), Version(1, 19, 0))),
            jwt_secret_readers=_JWT_ALL),
    Release(Version(1, 20, 0), Version(3, 1, 8), Version(2, 11, 0), Version(4, 0, 0), 16, None,
            adds=("dags.gitSync.recommendedProbeSetting", "dags.gitSync.httpPort", "dags.gitSync.startupProbe"),
            moves=_moves("1.20.0", "command securityContexts containerLifecycleHooks kerberosSidecar "
                                   "kerberosInitContainer terminationGracePeriodSeconds nodeSelector resources",
                         "podDisruptionBudget keda"),
            jwt_secret_readers=("api-server", "scheduler")),
    Release(Version(1, 21, 0), Version(3, 2, 0), Version(2, 11, 0), Version(4, 0, 0), 16, None,
            adds=(),
            moves=_moves("1.21.0", "safeToEvict hostAliases priorityClassName runtimeClassName schedulerName "
                                   "serviceAccount extraContainers extraInitContainers extraVolumes affinity "
                                   "tolerations topologySpreadConstraints podAnnotations labels env extraVolumeMounts",
                         "extraPorts volumeClaimTemplates waitForMigrations hpa annotations logGroomerSidecar"),
            jwt_secret_readers=("api-server", "scheduler")),
    Release(Version(1, 22, 0), Version(3, 2, 2), Version(2, 11, 0), Version(4, 0, 0), 16, Version(3, 19, 0),
            adds=("enableServiceLinks",), moves=(), jwt_secret_readers=("api-server", "scheduler")),
)

CHANGES: tuple[Change, ...] = (
    Change(Version(1, 20, 0), ("workers.env", "scheduler.env", "secret"), True,
           "chart 1.20.0 stops adding the AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__* and "
           "AIRFLOW__KUBERNETES_SECRETS__* copies of these entries that KubernetesExecutor task pods inherited",
           "give task pods what they need in the top-level env, or in config.kubernetes_environment_variables"),
    Change(Version(1, 20, 0), ("dags.gitSync.readinessProbe",), False,
           "chart 1.20.0 removes git-sync's readiness probe",
           "remove dags.gitSync.readinessProbe; gen sets dags.gitSync.recommendedProbeSetting"),
)

CURRENT = RELEASES[-1]
# Releases before 1.12.0 bundle PostgreSQL 11: their values.yaml pins postgresql.image.tag "11" (1.12.0 moved to the
# bitnami postgresql 13 subchart and PostgreSQL 16, which cannot open the older data files).
OLD_POSTGRESQL = (Version(1, 12, 0), "11")  # (the first release without the pin, the pinned tag)
# Airflow for new projects: 3.2.x under a sub-path sends its UI's first API call outside the prefix
# (apache/airflow#72344), fixed in 3.3.2; chart 1.22.0 renders it through airflowVersion/defaultAirflowTag.
CURRENT_AIRFLOW = Version(3, 3, 2)
ROOT_PATH_BUG = (Version(3, 2, 0), Version(3, 3, 0))  # the Airflow versions with apache/airflow#72344


def bundled_postgresql_tag(version: Version) -> str | None:
    """The bundled PostgreSQL's image tag that chart `version` pins in its own values, if it pins one."""
    return OLD_POSTGRESQL[1] if version < OLD_POSTGRESQL[0] else None


def known() -> str:
    return ", ".join(str(release.version) for release in RELEASES)


def release(version: Version) -> Release | None:
    return next((row for row in RELEASES if row.version == version), None)


def newest_running(airflow_version: Version) -> Release:
    """The newest release that runs `airflow_version` (the newest of all when none does: the loader says why)."""
    return next((row for row in reversed(RELEASES) if row.airflow_min <= airflow_version < row.airflow_below),
                CURRENT)


def crossed(old: Version, new: Version) -> tuple[Release, ...]:
    """The releases an upgrade from `old` to `new` takes on: newer than old, up to and including new."""
    return tuple(row for row in RELEASES if old < row.version <= new)


@functools.cache  # a pure lookup in a constant table, asked for every key of every config load
def moves_until(version: Version) -> tuple[Move, ...]:
    """Every deprecation of the releases up to `version`, oldest first."""
    return tuple(move for row in RELEASES if row.version <= version for move in row.moves)


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + ".")


@functools.cache  # a pure lookup in a constant table, asked for every key of every config load
def home(key: str, version: Version) -> str:
    """`key` (or a key below it) as `version` spells it: a new home such as workers.kubernetes.resources
    is written as the older workers.resources before the release that moved it there."""
    if any(_under(key, h) for move in moves_until(version) for h in move.homes):
        return key
    for move in (m for row in RELEASES for m in row.moves):
        for new_home in move.homes:
            if _under(key, new_home):
                return move.old + key[len(new_home):]
    return key


@functools.cache  # a pure lookup in a constant table, asked for every key of every config load
def added_in(key: str) -> Version | None:
    """The release that added `key` (a home of a move, or one of its `adds`); None for older keys."""
    for row in RELEASES:
        if any(_under(key, k) for k in row.adds) or any(_under(key, h) for move in row.moves for h in move.homes):
            return row.version
    return None


@functools.cache  # a pure lookup in a constant table, asked for every key of every config load
def new_keys() -> tuple[str, ...]:
    """Every key some release in the table added, for finding them in values pinned to an older one."""
    return tuple(sorted({k for row in RELEASES for k in row.adds} |
                        {h for row in RELEASES for move in row.moves for h in move.homes}))


def has(key: str, version: Version) -> bool:
    """Whether the chart `version` reads `key`, as far as this table says."""
    since = added_in(key)
    return since is None or version >= since


def pin_problems(version: Version, airflow_version: Version, label: str) -> list[str]:
    """A chart version outside the table, or an Airflow version the pinned chart does not run."""
    row = release(version)
    if row is None and version > CURRENT.version:
        return [f"{label}: version: chart {version} is newer than the releases gen knows ({known()}); upgrade gen, "
                f"or keep {CURRENT.version}"]
    if row is None:
        return [f"{label}: version: chart {version} is not one gen knows; gen knows {known()} (gen upgrade "
                f"--chart-version {CURRENT.version} moves a project to the newest)"]
    if not row.airflow_min <= airflow_version < row.airflow_below:
        return [f"{label}: airflowVersion: {airflow_version} is not supported by chart {version}, which runs Airflow "
                f"{row.airflow_min} up to (not including) {row.airflow_below}; use a version such as "
                f"{suggested(version)}"]
    return []


def suggested(version: Version) -> Version:
    """The Airflow version gen suggests for a chart version: gen's own for the newest, else its default."""
    row = release(version)
    if row is None or row is CURRENT:
        return CURRENT_AIRFLOW
    return row.default_airflow



def with_moves(values: Mapping[str, Any], version: Version) -> tuple[dict[str, Any], list[str]]:
    """A copy of `values` with every key the releases up to `version` deprecated moved to its homes (a copy in
    each), and one line per key moved; a key whose home is already set stays where it is."""
    moved: dict[str, Any] = copy.deepcopy(dict(values))
    lines = []
    for move in moves_until(version):
        found = _lookup(moved, move.old)
        if found is None or any(_lookup(moved, home) is not None for home in move.homes):
            continue
        parent, key = found
        value = parent.pop(key)
        _prune(moved, move.old)  # a parent the move emptied (webserver: {}) is no value of the user's
        for home in move.homes:
            _place(moved, home, copy.deepcopy(value))
        lines.append(f"{move.old} -> {' and '.join(move.homes)} (deprecated in chart {move.since})")
    return moved, lines


def _lookup(values: dict[str, Any], dotted: str) -> tuple[dict[str, Any], str] | None:
    *parents, last = dotted.split(".")
    node: Any = values
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    return (node, last) if isinstance(node, dict) and last in node else None


def _prune(values: dict[str, Any], dotted: str) -> None:
    """Drop the parents of `dotted` that are left empty, innermost first."""
    parents = dotted.split(".")[:-1]
    while parents:
        found = _lookup(values, ".".join(parents))
        if found is None:
            return
        parent, key = found
        if parent[key] != {}:
            return
        del parent[key]
        parents.pop()


def _place(values: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = values
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
