"""The chart archive as a render reads it: the chart's files that no template can read are left out.

Helm hands every template the chart's files (`.Files`: its docs, release notes, Dockerfiles...), and
the Airflow chart deep-copies its whole context (`deepCopy .`) in each worker template. That copy
walks every byte of every file, one allocation each: about half of a render's CPU time (bench/run).
A template reads a file through `.Files.Get "path"` (or GetBytes, Lines). When every mention of
`Files` in the chart's templates and values is such a call with a literal path, the other files can
go and the render is the same, byte for byte. Any other mention (Glob, a path in a variable) keeps
every file, and so do values that mention `Files` (a string the chart passes through `tpl`).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

_MENTION = re.compile(r"\bFiles\b")
_READ = re.compile(r'Files\.(?:Get|GetBytes|Lines)\s+"([^"\\]*)"')
# What Helm's loader takes as the chart itself, never as one of its `.Files`.
_CHART_ITSELF = {"Chart.yaml", "Chart.lock", "values.yaml", "values.schema.json", "requirements.yaml",
                 "requirements.lock"}
_TREES = ("templates/", "charts/", "crds/")  # crds/ are also read as `.Files`: kept whole


def read_paths(texts: Iterable[str]) -> set[str] | None:
    """The paths these texts read with a literal `.Files` call; None when any mention of Files is another kind."""
    paths = set()
    for text in texts:
        for mention in _MENTION.finditer(text):
            read = _READ.match(text, mention.start())
            if read is None:
                return None
            paths.add(read.group(1))
    return paths


def mentions_files(values: Mapping[str, Any]) -> bool:
    """Whether a release's values could reach `.Files` (a template string the chart renders with `tpl`)."""
    return _MENTION.search(json.dumps(values)) is not None


def lean(path: Path) -> bytes | None:
    """The archive at `path` without the top-level chart's files that no template reads (gzip, as Helm loads
    it); None for a directory, an archive this cannot read (Helm then says why), or nothing to leave out."""
    if path.is_dir():
        return None
    try:
        with tarfile.open(path) as source:
            files = [member for member in source.getmembers() if member.isfile() and "/" in member.name]
            contents = {member.name: source.extractfile(member).read() for member in files}  # type: ignore[union-attr]
    except (OSError, EOFError, tarfile.TarError):
        return None
    top = {member.name.split("/", 1)[0] for member in files}
    if len(top) != 1:
        return None
    (root,) = top

    def own(member: tarfile.TarInfo) -> str:
        return member.name.split("/", 1)[1]

    texts = [contents[m.name].decode("utf-8", "replace") for m in files
             if own(m).startswith("templates/") or own(m) == "values.yaml"]
    readable = read_paths(texts)
    if readable is None:
        return None
    kept = [m for m in files if own(m) in _CHART_ITSELF or own(m).startswith(_TREES) or own(m) in readable]
    if len(kept) == len(files) or not any(m.name == f"{root}/Chart.yaml" for m in kept):
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as target:
        for member in kept:
            target.addfile(member, io.BytesIO(contents[member.name]))
    return buffer.getvalue()
