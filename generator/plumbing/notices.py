"""One-line notices from the plumbing (a cache entry dropped, an interrupted swap finished), which the
command line prints on stderr as `gen: ...` when the command ends, however it ends."""

from __future__ import annotations

_pending: list[str] = []


def note(line: str) -> None:
    _pending.append(line)


def drain() -> list[str]:
    """Every notice since the last call, once each, in order; the list is emptied."""
    found = list(dict.fromkeys(_pending))
    _pending.clear()
    return found
