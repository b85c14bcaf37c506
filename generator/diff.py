"""gen diff: what a change to the config does to each overlay, object by object.

Both sides are generated afresh by this gen: the config files at a Git revision (read with
`git show`, so the user's checkout and index are never touched) and the files in the working tree.
Comparing generated output rather than committed output shows the effect of the config change
alone, even when dist/ is stale.
"""

from __future__ import annotations

import difflib
import json
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import config as config_module, pipeline, values
from .changes import WIRING, Finding, classify
from .config import BASE_VALUES, CHART_PIN
from .errors import GenError
from .model import Config
from .yamlio import dump_documents

DATABASE = "database"  # the section for dist/database (the CloudNativePG Cluster)
ObjectKey = tuple[str, str, str]  # kind, namespace, name


class GitError(GenError):
    """The Git revision or repository cannot be read."""


@dataclass(frozen=True)
class ObjectChange:
    key: ObjectKey
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def status(self) -> str:
        return "added" if self.before is None else "removed" if self.after is None else "changed"

    @property
    def title(self) -> str:
        kind, namespace, name = self.key
        return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"

    def yaml_diff(self, base_label: str) -> str:
        def lines(obj: dict[str, Any] | None) -> list[str]:
            return dump_documents([obj]).splitlines(keepends=True) if obj is not None else []

        name = "/".join(part for part in self.key if part)
        return "".join(difflib.unified_diff(lines(self.before), lines(self.after),
                                            f"a/{name} ({base_label})", f"b/{name} (working tree)"))

    def value_changes(self) -> list[str]:
        """HelmRelease (or HelmChart) values that differ, as `values.a.b: old -> new`."""
        before, after = _values_of(self.before), _values_of(self.after)
        if before is None and after is None:
            return []
        old, new = dict(values.leaves(before or {})), dict(values.leaves(after or {}))
        return [f"values.{'.'.join(path)}: {_show(old, path)} -> {_show(new, path)}"
                for path in sorted(old.keys() | new.keys()) if old.get(path, _UNSET) != new.get(path, _UNSET)]


@dataclass(frozen=True)
class SectionDiff:
    """One overlay (or the cluster wiring): its object changes, sorted by kind, namespace, name."""

    name: str
    changes: list[ObjectChange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what the cluster refuses or what loses data

    def count(self, status: str) -> int:
        return sum(1 for change in self.changes if change.status == status)


_UNSET = object()


def _show(leaves: dict[tuple[str, ...], Any], path: tuple[str, ...]) -> str:
    value = leaves.get(path, _UNSET)
    return "(unset)" if value is _UNSET else json.dumps(value, sort_keys=True)


def _values_of(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    spec = obj.get("spec") or {}
    if obj.get("kind") == "HelmRelease":
        return spec.get("values") or {}
    if obj.get("kind") == "HelmChart":  # k3s: structured `values`, or the older `valuesContent` string
        content = spec.get("valuesContent")
        parsed = yaml.safe_load(content) if isinstance(content, str) else None
        return values.deep_merge(parsed if isinstance(parsed, dict) else {}, spec.get("values") or {})
    return None


def _objects(text: str | None) -> dict[ObjectKey, dict[str, Any]]:
    found = {}
    for doc in yaml.safe_load_all(text or ""):
        if isinstance(doc, dict):
            meta = doc.get("metadata") or {}
            found[(str(doc.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))] = doc
    return found


def compare(name: str, before: str | None, after: str | None, old_config: Config | None = None,
            new_config: Config | None = None) -> SectionDiff:
    old, new = _objects(before), _objects(after)
    changed = [ObjectChange(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
               if old.get(key) != new.get(key)]
    found = classify(name, list(old.values()), list(new.values()), old_config, new_config)
    return SectionDiff(name, changed, found)


# --- the two sides -------------------------------------------------------------------------------

def _git(project_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git: not found; gen diff reads the base revision with git") from None


def _show_file(project_dir: Path, ref: str, relative: str) -> bytes | None:
    """The file at `ref`, relative to the project directory; None when it does not exist there."""
    run = _git(project_dir, "show", f"{ref}:./{relative}")
    return run.stdout if run.returncode == 0 else None


def _checked_ref(project_dir: Path, ref: str) -> str:
    if ref.startswith("-"):
        raise GitError(f"--base: {ref!r} is not a revision; give a branch, tag or commit such as HEAD or origin/main")
    inside = _git(project_dir, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0:
        raise GitError(f"{project_dir}: is not inside a Git working tree; gen diff compares with a Git revision")
    run = _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if run.returncode != 0:
        raise GitError(f"--base: {ref!r} is not a commit in this repository; give a branch, tag or commit "
                       f"such as HEAD or origin/main")
    return run.stdout.decode().strip()


def _project_at(config: Config, ref: str, scratch: Path) -> Path | None:
    """A copy of the project's input files at `ref` in `scratch`; None when the config did not exist there."""
    project_dir = config.source.project_dir
    text = _show_file(project_dir, ref, config.source.path.name)
    if text is None:
        return None
    for relative, content in ((config.source.path.name, text), (str(CHART_PIN), _show_file(project_dir, ref, str(CHART_PIN))),
                              (str(BASE_VALUES), _show_file(project_dir, ref, str(BASE_VALUES)))):
        if content is not None:
            target = scratch / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
    return scratch / config.source.path.name


def _sections(files: dict[str, str] | None, selected: Sequence[str]) -> dict[str, str | None]:
    files = files or {}
    sections: dict[str, str | None] = {
        name: files.get(f"dist/{name}/{pipeline.HYDRATED_FILE}") for name in selected}
    sections[DATABASE] = "".join(text for path, text in sorted(files.items())
                                 if path.startswith("dist/database/") and not path.endswith("/kustomization.yaml")) or None
    sections[WIRING] = "".join(text for path, text in sorted(files.items()) if path.startswith("clusters/")) or None
    return sections


def diff(config_path: Path, ref: str, selected: Sequence[str], label: str | None = None) -> list[SectionDiff]:
    """Per selected overlay (and the CloudNativePG database and the cluster wiring, where there are any), the objects
    that differ between `ref` and the working tree."""
    config = config_module.load(config_path, label)
    commit = _checked_ref(config.source.project_dir, ref)
    with tempfile.TemporaryDirectory(prefix="gen-diff-") as scratch:
        root = Path(scratch)
        old_path = _project_at(config, commit, root / "base")
        old = config_module.load(old_path, f"{ref}:{config.source.label}") if old_path else None
        jobs = [(config, root / "new")] + ([(old, root / "old")] if old else [])
        rendered = pipeline.generate_many(jobs, selected)
        after = {**rendered[0], **pipeline.render_sync(config)}
        before = {**rendered[1], **pipeline.render_sync(old)} if old else None
    previous, current = _sections(before, selected), _sections(after, selected)
    return [compare(name, previous[name], current[name], old, config) for name in current
            if name not in (WIRING, DATABASE) or previous[name] or current[name]]


# --- reports -------------------------------------------------------------------------------------

def has_changes(sections: Sequence[SectionDiff]) -> bool:
    return any(section.changes for section in sections)


def findings(sections: Sequence[SectionDiff]) -> list[Finding]:
    """Every change that needs care before merging, in section order."""
    return [finding for section in sections for finding in section.findings]


def _counts(section: SectionDiff) -> str:
    return ", ".join(f"{section.count(s)} {s}" for s in ("added", "removed", "changed"))


def text(sections: Sequence[SectionDiff], base_label: str) -> str:
    """A terminal report: per section the objects, their value changes, then their YAML diffs."""
    out = [finding.line for finding in findings(sections)]  # before anything else
    for section in sections:
        out.append(f"== {section.name}: " + (_counts(section) if section.changes else "no change"))
        for change in section.changes:
            out.append(f"{change.status}: {change.title}")
            out.extend(f"  {line}" for line in change.value_changes())
        for change in section.changes:
            out.append(change.yaml_diff(base_label).rstrip("\n"))
    return "\n".join(out) + "\n"


def _fence(body: str) -> str:
    longest = max((len(run) for run in body.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}diff\n{body.rstrip()}\n{ticks}"


def markdown(sections: Sequence[SectionDiff], base_label: str) -> str:
    """A pull-request comment: a summary table, then one collapsible block per changed object."""
    out = [f"### gen diff: `{base_label}` → working tree", ""]
    if not has_changes(sections):
        return "\n".join(out + ["No change to the generated manifests."]) + "\n"
    dangers = findings(sections)
    if dangers:
        out += ["#### Needs care before merging", ""]
        out += [f"- `{finding.line.replace('`', chr(39))}`" for finding in dangers]
        out += [""]
    out += ["| overlay | added | removed | changed |", "|---|---:|---:|---:|"]
    out += [f"| {s.name} | {s.count('added')} | {s.count('removed')} | {s.count('changed')} |" for s in sections]
    for section in sections:
        if not section.changes:
            continue
        out += ["", f"#### {section.name}", ""]
        for change in section.changes:
            out += ["<details>", f"<summary>{change.status}: {_escape(change.title)}</summary>", ""]
            value_lines = [f"- `{line.replace('`', chr(39))}`" for line in change.value_changes()]
            out += [*value_lines, ""] if value_lines else []
            out += [_fence(change.yaml_diff(base_label)), "", "</details>"]
    return "\n".join(out) + "\n"


def _escape(line: str) -> str:
    """Text for HTML (the <summary> line): object names never contain markup, but the config is user input."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
