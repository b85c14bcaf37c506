"""What the inputs say, gathered while they are read, and the lookups every step of gen import shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.model import Config


@dataclass
class Found:
    """What the inputs say, gathered before gen.yaml is assembled."""

    problems: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # gen.yaml dotted key -> where its value came from
    plan_volumes: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)  # what cannot carry over, each with the way through
    left_out: list[str] = field(default_factory=list)  # values and objects not mapped, each with why
    notes: list[str] = field(default_factory=list)
    route_service: str | None = None  # the Service the hand-made route sent requests to


@dataclass(frozen=True)
class Imported:
    """The result of an import: files to write, Secrets for standard output, and the adoption plan."""

    files: dict[str, str]  # relative path -> text
    secrets: list[dict[str, Any]]
    plan: list[str]
    overlay: str
    config: Config


_ABSENT = object()


def _node(tree: Any, dotted: str) -> Any:
    """The value at a dotted key path, or _ABSENT where the path does not exist."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def get(tree: Any, dotted: str) -> Any:
    node = _node(tree, dotted)
    return None if node is _ABSENT else node


def has(tree: Any, dotted: str) -> bool:
    return _node(tree, dotted) is not _ABSENT


def under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def describe(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    where = f"{meta['namespace']}/" if isinstance(meta, Mapping) and meta.get("namespace") else ""
    return f"{doc.get('kind')} {where}{meta.get('name') if isinstance(meta, Mapping) else None}"
