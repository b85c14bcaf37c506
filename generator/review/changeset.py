"""One object between the two sides of a review, and one section (an overlay, the cluster wiring) of them.

gen diff's own objects and the chart's rendered objects are both shown this way; the chart's carry
a field summary (`lines`, `noise`) and rolls, gen's carry the danger findings.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.knowledge.changes import Finding
from generator.plumbing.objects import (
    RELEASE_KINDS,
    UNSET,
    ObjectKey,
    changed_leaves,
    helm_values,
    object_slug,
    object_title,
)
from generator.plumbing.yamlio import dump_documents

STATUSES = ("added", "removed", "changed")


def _gen_yaml(obj: dict[str, Any]) -> str:
    return dump_documents([obj])


@dataclass(frozen=True)
class Change:
    """An object added, removed or changed; `dump` shows one side as YAML for the diff."""

    key: ObjectKey
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    lines: tuple[str, ...] = ()  # the field summary, noise left out (the chart's objects)
    noise: int = 0  # fields left out of the summary
    dump: Callable[[dict[str, Any]], str] = field(default=_gen_yaml, compare=False, repr=False)

    @property
    def status(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    @property
    def title(self) -> str:
        return object_title(self.key)

    def yaml_diff(self, base_label: str) -> str:
        def lines(obj: dict[str, Any] | None) -> list[str]:
            return self.dump(obj).splitlines(keepends=True) if obj is not None else []

        name = object_slug(self.key)
        return "".join(difflib.unified_diff(lines(self.before), lines(self.after),
                                            f"a/{name} ({base_label})", f"b/{name} (working tree)"))

    def value_changes(self) -> list[str]:
        """HelmRelease (or HelmChart) values that differ, as `values.a.b: old -> new`."""
        before, after = _values_of(self.before), _values_of(self.after)
        if before is None and after is None:
            return []
        return [f"values.{'.'.join(path)}: {_show(old)} -> {_show(new)}"
                for path, old, new in changed_leaves(before or {}, after or {}, leaves=True)]


def _values_of(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None or obj.get("kind") not in RELEASE_KINDS:
        return None
    return helm_values(obj)


def _show(value: Any) -> str:
    return "(unset)" if value is UNSET else json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Section:
    """One overlay (or the cluster wiring): its changes sorted by kind, namespace, name; what needs care
    before merging (gen's objects); the workloads that roll (the chart's)."""

    name: str
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what the cluster refuses or what loses data
    rolls: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for change in self.changes if change.status == status)

    def counts(self) -> str:
        """`1 added, 0 removed, 2 changed`."""
        return ", ".join(f"{self.count(status)} {status}" for status in STATUSES)
