"""Flux wiring for one cluster: clusters/<name>/airflow.yaml points the cluster at dist/<overlay>.

A cluster bootstrapped with `flux bootstrap --path clusters/<name>` applies every file under that
directory, so this one file is all it takes for Flux to follow the project. The file lives beside
the user's own (flux-system/ among them), so gen owns exactly this file and nothing else there.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import urlsplit

from generator.knowledge import database
from generator.model import Config
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import GENERATED_MAX_BYTES, read_text

CLUSTERS = "clusters"
SYNC_FILE = "airflow.yaml"
FLUX_NAMESPACE = "flux-system"


def file_path(config: Config) -> str | None:
    """The wiring file, relative to the project directory; None without `flux.cluster`."""
    cluster = config.flux.cluster
    return f"{CLUSTERS}/{cluster.name}/{SYNC_FILE}" if cluster else None


def object_name(config: Config) -> str:
    """GitRepository and Kustomization name in flux-system, unique per deployment."""
    return f"{config.namespace}-{config.release}"


def overlay_path(config: Config) -> str:
    """The Kustomization's path: the hydrated overlay, relative to the repository root, as Flux writes it."""
    assert config.flux.cluster is not None
    return repository_path(config, "dist", config.flux.cluster.overlay)


def repository_path(config: Config, *parts: str) -> str:
    """A project directory as a Kustomization's path: relative to the repository root, as Flux writes it."""
    assert config.flux.cluster is not None
    return f"./{posixpath.normpath(posixpath.join(config.flux.cluster.path, *parts))}"


def separate_database(config: Config) -> bool:
    """CloudNativePG: the Cluster has a Kustomization of its own, which the overlay's depends on."""
    return config.database.type == database.CLOUDNATIVEPG


def database_object_name(config: Config) -> str:
    return f"{object_name(config)}-database"


def database_path(config: Config) -> str:
    return repository_path(config, "dist", "database")


# Healthy once CloudNativePG reports the Cluster's condition Ready as True (its instances run and the
# primary accepts connections). Before the operator writes that condition Flux keeps waiting, up to the
# Kustomization's timeout.
CLUSTER_HEALTH = {
    "apiVersion": database.CNPG_API_VERSION,
    "kind": database.CNPG_KIND,
    "current": "has(status.conditions) && status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
}


def owned_files(project_dir: Path, header: str) -> list[str]:
    """clusters/*/airflow.yaml files that start with `header` (the config's own): those it generated earlier.

    Read only as regular files inside the project: a link (clusters/ itself, say) is never followed."""
    owned = []
    for path in sorted((project_dir / CLUSTERS).glob(f"*/{SYNC_FILE}")):
        relative = path.relative_to(project_dir).as_posix()
        try:
            text = read_text(Path(relative), relative, max_bytes=GENERATED_MAX_BYTES, within=project_dir)
        except ConfigError:
            continue
        if text.startswith(header):
            owned.append(relative)
    return owned


def repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def url_credential_problem(url: str) -> str | None:
    """Why `url` would carry a credential into a committed file, or None.

    An http(s) URL may have no user part at all (a token is often written as the user alone); an ssh URL
    may name the user Git servers expect (ssh://git@host/...), never a password.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # the schema has already said what is wrong with it
    if parts.scheme in ("http", "https") and "@" in parts.netloc:
        return "has a user part (user:token@); a credential there would be committed to Git"
    if parts.password is not None or ":" in parts.netloc.rpartition("@")[0]:
        return "has a password in its user part; a credential there would be committed to Git"
    return None


def problems(config: Config) -> list[str]:
    """flux.cluster.url carries no credential; flux.cluster.path names where the project really sits in its Git
    repository, when it is in one."""
    cluster = config.flux.cluster
    if cluster is None:
        return []
    found = []
    why = url_credential_problem(cluster.url)
    if why:
        found.append(f"{config.source.label}: flux.cluster.url: {why}; write the URL without it and put the Git "
                     f"credentials in a Secret in {FLUX_NAMESPACE} named by flux.cluster.secretName")
    project = config.source.project_dir.resolve()
    root = repository_root(project)
    if root is None:
        return found
    actual = project.relative_to(root).as_posix()
    if posixpath.normpath(cluster.path) != actual:
        found.append(f"{config.source.label}: flux.cluster.path: is {cluster.path!r} but this project is at "
                     f"{actual!r} in its Git repository ({root}); write path: {actual}")
    return found
