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
from typing import Any

from generator.plumbing.objects import UNSET as _UNSET
from generator.plumbing.objects import ObjectKey, by_position, changed_leaves, object_title
from generator.plumbing.yamlio import dump_for_display
from generator.review.changeset import Change, Section
from generator.review.render import GEN
from generator.review.renders import OverlayRender

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet")
CHART_LABELS = {"chart", "helm.sh/chart"}
NOISE = "checksum annotations and chart labels"
MAX_VALUE = 100  # characters of a value shown in a field line


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


def _pairs(before: list[Any], after: list[Any]) -> list[tuple[str, Any, Any]] | None:
    """Named items by their name (old order, then the new ones); lists of objects of one length by position;
    anything else compares whole."""
    key = _identity(before, after)
    if key is not None:
        old, new = _by_identity(before, key), _by_identity(after, key)
        return [(f"[{name}]", old.get(name, _UNSET), new.get(name, _UNSET))
                for name in [*old, *(n for n in new if n not in old)]]
    if any(isinstance(x, (Mapping, list)) for x in before + after):
        return by_position(before, after)
    return None


def field_changes(before: Any, after: Any) -> list[tuple[tuple[str, ...], Any, Any]]:
    """Every leaf that differs as (path, old, new); UNSET for a side that has nothing there."""
    return list(changed_leaves(before, after, pairs=_pairs))


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

def _noise_fields(section: Section) -> int:
    return sum(change.noise for change in section.changes)


def noise_line(section: Section) -> str | None:
    """How many fields the summary left out, and how many objects changed only there."""
    if not _noise_fields(section):
        return None
    noise_only = sum(1 for change in section.changes if change.status == "changed" and not change.lines)
    only = f"; {noise_only} object(s) changed only there" if noise_only else ""
    return f"left out of the summary: {NOISE} ({_noise_fields(section)} field(s){only})"


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
        return f"starts: {object_title(key)} ({', '.join(new) or 'no image'})"
    if after is None:
        return f"stops: {object_title(key)} ({', '.join(old) or 'no image'})"
    if pod_template(before) == pod_template(after):
        return None
    if old != new:
        return f"rolls: {object_title(key)}: {', '.join(old)} -> {', '.join(new)}"
    return f"rolls: {object_title(key)} ({', '.join(new) or 'no image'})"


def chart_objects(render: OverlayRender | None) -> dict[ObjectKey, dict[str, Any]]:
    if render is None:
        return {}
    return {obj.key: obj.body for obj in render.objects if obj.source != GEN}


def compare(name: str, before: OverlayRender | None, after: OverlayRender | None) -> Section:
    old, new = chart_objects(before), chart_objects(after)
    changes, rolls = [], []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        lines, noise = _summary(a, b) if a is not None and b is not None else ([], 0)
        changes.append(Change(key, a, b, tuple(lines), noise, dump=dump_for_display))
        roll = _roll(key, a, b)
        if roll:
            rolls.append(roll)
    return Section(name, changes, rolls=rolls)


def compare_all(selected: Sequence[str], before: Mapping[str, OverlayRender] | None,
                after: Mapping[str, OverlayRender]) -> list[Section]:
    return [compare(name, (before or {}).get(name), after.get(name)) for name in selected]


def summary_lines(section: Section) -> list[str]:
    """The field summary of one overlay: `Kind ns/name: path: old -> new`, added/removed, rolls, noise."""
    out = []
    for change in section.changes:
        if change.status != "changed":
            out.append(f"{change.status}: {change.title}")
        out += [f"{change.title}: {line}" for line in change.lines]
    out += section.rolls
    left_out = noise_line(section)
    return out + ([left_out] if left_out else [])
