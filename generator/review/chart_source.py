"""Where the pinned chart comes from: a path given with --chart, the cache, or the chart repository.

Flux's source-controller reads the repository's `index.yaml`, downloads the archive the entry for
the pinned version names, and checks it against the entry's digest. gen does the same, once: the
checked archive is kept in the cache outside the project (see cache.py), so later runs work
offline. A chart whose name or version differs from `charts/airflow/chart.yaml` is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
import urllib.parse
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.model import ChartPin
from generator.plumbing import cache, notices, paths
from generator.plumbing.errors import GenError

NETWORK_TIMEOUT = 20  # seconds for each download
OFFLINE = "GEN_OFFLINE"  # set to 1 to never ask the chart repository


class ChartError(GenError):
    """The chart given with --chart is unreadable or is not the pinned chart."""


class ChartUnavailable(GenError):
    """The pinned chart is neither given, nor cached, nor reachable: the caller may do without it."""


@dataclass(frozen=True)
class ChartArchive:
    """A chart on disk (a .tgz or a directory) and the digest of its content, for cache keys."""

    path: Path
    digest: str  # sha256 of the archive bytes, or of a directory's files
    origin: str  # where it came from, for messages: the path, or `cache` / the archive URL
    chart_yaml: bytes | None = None  # the archive's Chart.yaml, read when its members were checked


MAX_ARCHIVE_BYTES = 64 * 1024 * 1024  # the Airflow chart is about 0.1 MiB


def _read_archive(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_ARCHIVE_BYTES: never a FIFO (a hang) or a device."""
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ChartError(f"--chart: {path} is not a regular file or a directory; give the chart's .tgz archive "
                             f"or its directory")
        data = stream.read(MAX_ARCHIVE_BYTES + 1)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ChartError(f"--chart: {path} is over {MAX_ARCHIVE_BYTES} bytes, which no chart archive is")
    return data


def top_level_files(archive: tarfile.TarFile, names: Sequence[str]) -> tuple[bytes | None, ...]:
    """Files directly below the archive's one top directory (`airflow/Chart.yaml`), as Helm reads them: the
    last of two entries with one name wins. None for a file the archive lacks."""
    members = {m.name.split("/", 1)[1]: m for m in archive.getmembers() if m.isfile() and m.name.count("/") == 1}
    handles = [archive.extractfile(members[name]) if name in members else None for name in names]
    return tuple(handle.read() if handle else None for handle in handles)


def _checked_chart_yaml(data: bytes) -> tuple[bytes | None, str | None]:
    """The Chart.yaml of archive `data` (None: it has none), read in the one pass that checks every member;
    and why `data` is not a whole chart archive (truncated, not gzip, not tar), or None."""
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as archive:
            (chart_yaml,) = top_level_files(archive, ("Chart.yaml",))
    except (EOFError, OSError, zlib.error, tarfile.TarError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return None, f"is not a complete chart archive ({reason[:200]}; truncated or damaged)"
    return chart_yaml, None


def _directory_problems(root: Path) -> list[str]:
    """Links that leave the chart directory (a template could print any file they reach), and files that
    are not regular (a FIFO would hang Helm): Helm would read both."""
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()  # the lines in the same order on every file system
        for name in sorted([*subdirectories, *files]):
            path = Path(directory) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                if not paths.inside(path, root):
                    found.append(f"--chart: {path} is a symbolic link to {os.readlink(path)}, outside the chart "
                                 f"directory; a chart's templates may read only the chart's own files: replace "
                                 f"the link with the file")
                elif not (path.is_file() or path.is_dir()):
                    found.append(f"--chart: {path} leads to something that is not a regular file; remove it")
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(f"--chart: {path} is not a regular file (a pipe, socket or device); remove it")
    return found


def _digest(directory: Path) -> str:
    sha = hashlib.sha256()
    for item in sorted(p for p in directory.rglob("*") if p.is_file()):
        sha.update(item.relative_to(directory).as_posix().encode() + b"\0")
        sha.update(item.read_bytes() + b"\0")
    return sha.hexdigest()


def given(path: Path) -> ChartArchive:
    """The chart at --chart PATH (not yet loaded: render.py loads it and checks name and version)."""
    if not path.exists():
        raise ChartError(f"--chart: {path} does not exist; give the chart's .tgz archive or its directory")
    try:
        if path.is_dir():
            problems = _directory_problems(path)
            if problems:
                raise ChartError(problems)
            return ChartArchive(path, _digest(path), str(path))
        data = _read_archive(path)
        chart_yaml, problem = _checked_chart_yaml(data)
        if problem:
            raise ChartError(f"--chart: {path} {problem}; give the chart's .tgz archive as its repository serves it")
        return ChartArchive(path, hashlib.sha256(data).hexdigest(), str(path), chart_yaml)
    except OSError as exc:
        raise ChartError(f"--chart: {path} cannot be read ({exc.strerror or exc})") from None


def _cached(pin: ChartPin) -> Path | None:
    root = cache.directory()
    return None if root is None else root / "charts" / f"{pin.name}-{pin.version}.tgz"


def _download(url: str) -> bytes:
    import urllib.request  # with http.client, a fifth of gen's start-up: imported only to download

    request = urllib.request.Request(url, headers={"User-Agent": "gen"})
    with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310 (https from the pin)
        return response.read()


def _archive_url(pin: ChartPin, index_text: bytes) -> tuple[str, str]:
    """The pinned version's archive URL (absolute) and sha256 digest, from the repository's index.yaml."""
    index_url = pin.repository.rstrip("/") + "/index.yaml"
    try:
        index = yaml.safe_load(index_text)
    except yaml.YAMLError:
        raise ChartUnavailable(f"{index_url}: is not a Helm repository index (not YAML)") from None
    entries = (index or {}).get("entries", {}).get(pin.name) if isinstance(index, dict) else None
    for entry in entries or []:
        if isinstance(entry, dict) and str(entry.get("version")) == str(pin.version) and entry.get("urls"):
            url = urllib.parse.urljoin(pin.repository.rstrip("/") + "/", str(entry["urls"][0]))
            return url, str(entry.get("digest") or "")
    raise ChartUnavailable(f"{index_url}: has no {pin.name} {pin.version}; check charts/airflow/chart.yaml")


def _write_bytes(target: Path, data: bytes) -> None:
    """Atomically, through a temporary file beside `target`: a reader sees the whole archive or none."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise


def _from_cache(target: Path) -> ChartArchive | None:
    """The cached archive when it is whole; a broken one (truncated, damaged, not a file) is dropped and noted."""
    if not os.path.lexists(target):
        return None
    chart_yaml = None
    try:
        data = _read_archive(target) if not target.is_symlink() else None
        chart_yaml, problem = (None, "is a symbolic link") if data is None else _checked_chart_yaml(data)
    except (OSError, ChartError):
        data, problem = None, "is not a regular file"
    if problem is None and data is not None:
        return ChartArchive(target, hashlib.sha256(data).hexdigest(), f"cache ({target})", chart_yaml)
    try:
        target.unlink()
        done = "dropped it; gen downloads it again when it can"
    except OSError as exc:
        done = f"could not remove it ({exc.strerror}); delete it"
    notices.note(f"cached chart {target}: {problem}; {done}")
    return None


def cached(pin: ChartPin) -> ChartArchive | None:
    """The pinned chart from the cache, or None: never asks the repository."""
    target = _cached(pin)
    return _from_cache(target) if target is not None else None


def fetch(pin: ChartPin) -> ChartArchive:
    """The pinned chart from the cache, else downloaded from the pinned repository and cached."""
    found = cached(pin)
    if found is not None:
        return found
    target = _cached(pin)
    if os.environ.get(OFFLINE, "").strip() not in ("", "0"):
        raise ChartUnavailable(f"chart {pin.name} {pin.version} is not cached and GEN_OFFLINE is set")
    if target is None:
        raise ChartUnavailable(f"chart {pin.name} {pin.version}: the cache is off (GEN_CACHE_DIR), so a "
                               f"downloaded chart could not be kept; give --chart PATH")
    index_url = pin.repository.rstrip("/") + "/index.yaml"
    try:
        url, expected = _archive_url(pin, _download(index_url))
        data = _download(url)
    except (OSError, ValueError) as exc:  # urllib's URLError is an OSError
        reason = getattr(exc, "reason", None) or exc
        raise ChartUnavailable(f"chart {pin.name} {pin.version}: {index_url} cannot be reached ({reason})") from None
    actual = hashlib.sha256(data).hexdigest()
    if expected and actual != expected.removeprefix("sha256:"):
        raise ChartUnavailable(f"{url}: sha256 {actual} differs from the index's digest {expected}; not used")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_bytes(target, data)
    except OSError as exc:
        raise ChartUnavailable(f"chart {pin.name} {pin.version}: cannot be cached at {target} ({exc})") from None
    return ChartArchive(target, actual, url)


def remember(archive: ChartArchive, pin: ChartPin) -> None:
    """Keep a chart given with --chart (a .tgz, already checked to be the pinned one) in the cache, so that
    later runs find it offline. A chart already cached stays; a cache that cannot be written is no error."""
    target = _cached(pin)
    if target is None or target.exists() or archive.path.is_dir() or archive.path.resolve() == target.resolve():
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_bytes(target, archive.path.read_bytes())
    except OSError:
        return  # the run goes on with the given chart; the next one needs --chart again


def find(pin: ChartPin, path: Path | None) -> ChartArchive:
    """--chart PATH when given (errors are ChartError), else the cache or the repository (ChartUnavailable)."""
    return given(path) if path is not None else fetch(pin)
