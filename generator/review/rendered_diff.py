"""The rendered review: what the chart's objects do between two sides of a change, field by field.

Per overlay: the chart's objects added, removed and changed, each change as field paths
(`StatefulSet airflow/airflow-worker: spec.replicas: 1 -> 3`), `airflow.cfg` as
`[section] key: old -> new`, and which workloads roll to which image. Lists of named things
(containers, env, volumes, ports, mounts) are matched by name, not by position. Checksum
annotations and chart labels change on every config change or chart bump; they are left out of
the field summary and counted in a line that says so.
"""

from __future__ import annotations

import configparser
import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.review.render import GEN, OverlayRender

ObjectKey = tuple[str, str, str]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet")
CHART_LABELS = {"chart", "helm.sh/chart"}
NOISE = "checksum annotations and chart labels"
_UNSET = object()
MAX_VALUE = 100  # characters of a value shown in a field line


def title(key: ObjectKey) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


# --- field paths -----------------------------------------------------------------------------------

def _segment(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _join(path: tuple[str, ...]) -> str:
    out = ""
    for part in path:
        if part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + _segment(part)
    return out


def _identity(*sides: list[Any]) -> str | None:
    """The field that names each item on both sides (name, or mountPath, ...); None: match by position."""
    if not any(sides) or not all(isinstance(item, Mapping) for side in sides for item in side):
        return None
    for candidate in ("name", "mountPath", "containerPort", "key", "ip"):
        if all(all(item.get(candidate) is not None for item in side)
               and len({str(item.get(candidate)) for item in side}) == len(side) for side in sides):
            return candidate
    return None


def _by_identity(items: list[Any], key: str) -> dict[str, Any]:
    return {str(item[key]): item for item in items}


def field_changes(before: Any, after: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any, Any]]:
    """Every leaf that differs as (path, old, new); _UNSET for a side that has nothing there."""
    if before == after:
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            found += field_changes(before.get(key, _UNSET), after.get(key, _UNSET), (*path, str(key)))
        return found
    if isinstance(before, list) and isinstance(after, list):
        key = _identity(before, after)
        if key is not None:
            old, new = _by_identity(before, key), _by_identity(after, key)
            found = []
            for name in [*old, *(n for n in new if n not in old)]:
                found += field_changes(old.get(name, _UNSET), new.get(name, _UNSET), (*path, f"[{name}]"))
            return found
        if len(before) == len(after) and any(isinstance(x, (Mapping, list)) for x in before + after):
            found = []
            for index, (old, new) in enumerate(zip(before, after, strict=True)):
                found += field_changes(old, new, (*path, f"[{index}]"))
            return found
    return [(path, before, after)]


def show(value: Any) -> str:
    if value is _UNSET:
        return "(unset)"
    if isinstance(value, str) and "\n" in value:
        return f"(text, {len(value.splitlines())} lines)"
    text = json.dumps(value, sort_keys=True, separators=(",", ":")) if not isinstance(value, str) else value
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 3] + "..."


def is_noise(path: tuple[str, ...]) -> bool:
    """A checksum annotation (anywhere: object or pod template) or a chart label."""
    if len(path) >= 2 and path[-2] == "annotations" and path[-1].startswith("checksum/"):
        return True
    return len(path) >= 2 and path[-2] == "labels" and path[-1] in CHART_LABELS


def _cfg(text: str) -> dict[tuple[str, str], str] | None:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {(section, key): value for section in parser.sections() for key, value in parser.items(section)}


def cfg_changes(before: str, after: str) -> list[str] | None:
    """`[section] key: old -> new` for each option that differs; None when a side is not INI."""
    old, new = _cfg(before), _cfg(after)
    if old is None or new is None:
        return None
    return [f"[{section}] {key}: {show(old.get((section, key), _UNSET))} -> {show(new.get((section, key), _UNSET))}"
            for section, key in sorted(old.keys() | new.keys()) if old.get((section, key)) != new.get((section, key))]


def _text_change(path: tuple[str, ...], before: Any, after: Any) -> list[str] | None:
    if not (isinstance(before, str) and isinstance(after, str) and ("\n" in before or "\n" in after)):
        return None
    if path and path[-1].endswith(".cfg"):
        lines = cfg_changes(before, after)
        if lines is not None:
            return lines
    plus = minus = 0
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return [f"{_join(path)}: text changed (+{plus} -{minus} lines)"]


# --- workloads -------------------------------------------------------------------------------------

def pod_template(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if obj is None or obj.get("kind") not in WORKLOADS:
        return None
    if obj.get("kind") == "Pod":
        return obj
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return spec.get("template") or {}


def images(obj: Mapping[str, Any] | None) -> list[str]:
    template = pod_template(obj) or {}
    spec = template.get("spec") or {}
    found = [str(c.get("image")) for group in ("initContainers", "containers") for c in spec.get(group) or []
             if isinstance(c, Mapping) and c.get("image")]
    return sorted(set(found))


# --- per overlay -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartChange:
    key: ObjectKey
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    lines: tuple[str, ...]  # field summary, noise left out
    noise: int  # fields left out

    @property
    def status(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    @property
    def title(self) -> str:
        return title(self.key)

    def yaml_diff(self, base_label: str) -> str:
        def lines(obj: dict[str, Any] | None) -> list[str]:
            if obj is None:
                return []
            text = yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                             width=1_000_000)
            return text.splitlines(keepends=True)

        name = "/".join(part for part in self.key if part)
        return "".join(difflib.unified_diff(lines(self.before), lines(self.after),
                                            f"a/{name} ({base_label})", f"b/{name} (working tree)"))


# The chart's objects are only shown, never written: libyaml's emitter, ten times faster than gen's.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class RenderedSection:
    """One overlay's chart objects between the two sides."""

    name: str
    changes: list[ChartChange] = field(default_factory=list)
    rolls: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for change in self.changes if change.status == status)

    @property
    def noise(self) -> int:
        return sum(change.noise for change in self.changes)

    @property
    def noise_only(self) -> int:
        return sum(1 for change in self.changes if change.status == "changed" and not change.lines)

    def noise_line(self) -> str | None:
        if not self.noise:
            return None
        only = f"; {self.noise_only} object(s) changed only there" if self.noise_only else ""
        return f"left out of the summary: {NOISE} ({self.noise} field(s){only})"


def _summary(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], int]:
    lines, noise = [], 0
    for path, old, new in field_changes(before, after):
        if is_noise(path):
            noise += 1
            continue
        text = _text_change(path, old, new)
        lines += text if text is not None else [f"{_join(path)}: {show(old)} -> {show(new)}"]
    return lines, noise


def _roll(key: ObjectKey, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    if pod_template(after) is None and pod_template(before) is None:
        return None
    old, new = images(before), images(after)
    if before is None:
        return f"starts: {title(key)} ({', '.join(new) or 'no image'})"
    if after is None:
        return f"stops: {title(key)} ({', '.join(old) or 'no image'})"
    if pod_template(before) == pod_template(after):
        return None
    if old != new:
        return f"rolls: {title(key)}: {', '.join(old)} -> {', '.join(new)}"
    return f"rolls: {title(key)} ({', '.join(new) or 'no image'})"


def chart_objects(render: OverlayRender | None) -> dict[ObjectKey, dict[str, Any]]:
    if render is None:
        return {}
    return {obj.key: obj.body for obj in render.objects if obj.source != GEN}


def compare(name: str, before: OverlayRender | None, after: OverlayRender | None) -> RenderedSection:
    old, new = chart_objects(before), chart_objects(after)
    changes, rolls = [], []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        lines, noise = _summary(a, b) if a is not None and b is not None else ([], 0)
        changes.append(ChartChange(key, a, b, tuple(lines), noise))
        roll = _roll(key, a, b)
        if roll:
            rolls.append(roll)
    return RenderedSection(name, changes, rolls)


def compare_all(selected: Sequence[str], before: Mapping[str, OverlayRender] | None,
                after: Mapping[str, OverlayRender]) -> list[RenderedSection]:
    return [compare(name, (before or {}).get(name), after.get(name)) for name in selected]


def summary_lines(section: RenderedSection) -> list[str]:
    """The field summary of one overlay: `Kind ns/name: path: old -> new`, added/removed, rolls, noise."""
    out = []
    for change in section.changes:
        if change.status != "changed":
            out.append(f"{change.status}: {change.title}")
        out += [f"{change.title}: {line}" for line in change.lines]
    out += section.rolls
    noise = section.noise_line()
    return out + ([noise] if noise else [])
