"""The one check that a path stays inside a directory: by its words (a plain relative path) and, for paths
on disk, by where its links lead."""

from __future__ import annotations

from pathlib import Path


def plain_relative(relative: str) -> bool:
    """A relative POSIX path with no empty, `.` or `..` part: it cannot name anything outside by its words."""
    return not relative.startswith("/") and not any(part in ("", ".", "..") for part in relative.split("/"))


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, with every link on the way followed, is `root` or lies below it (`root` resolved too)."""
    try:
        resolved, top = path.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a link loop leads nowhere inside
        return False
    return resolved == top or top in resolved.parents
