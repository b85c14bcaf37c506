"""gen diff: what a change to the config does to each overlay, object by object.

Both sides are generated afresh by this gen: the config files at a Git revision (read with
`git show`, so the user's checkout and index are never touched) and the files in the working tree.
Comparing generated output rather than committed output shows the effect of the config change
alone, even when dist/ is stale.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import config as config_module
from generator.config import BASE_VALUES, CHART_PIN
from generator.knowledge.changes import WIRING, Finding, classify
from generator.model import Config
from generator.plumbing import cache
from generator.plumbing.errors import GenError
from generator.plumbing.objects import ObjectKey, object_key
from generator.plumbing.yamlio import generated_objects
from generator.review import render, rendered_diff
from generator.review.changeset import Change, Section
from generator.review.chart_source import ChartUnavailable
from generator.synth import freshness, pipeline

DATABASE = "database"  # the section for dist/database (the CloudNativePG Cluster)


class GitError(GenError):
    """The Git revision or repository cannot be read."""




def _objects(text: str | None) -> dict[ObjectKey, dict[str, Any]]:
    return {object_key(doc): doc for doc in generated_objects(text)}


def compare(name: str, before: str | None, after: str | None, old_config: Config | None = None,
            new_config: Config | None = None) -> Section:
    old, new = _objects(before), _objects(after)
    changed = [Change(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
               if old.get(key) != new.get(key)]
    found = classify(name, list(old.values()), list(new.values()), old_config, new_config)
    return Section(name, changed, found)


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


@dataclass(frozen=True)
class Sides:
    """Both sides of a review, generated afresh: the config at the base revision (None: it did not exist) and now."""

    old: Config | None
    new: Config
    before: dict[str, str] | None  # relative path -> generated text
    after: dict[str, str]


def _inputs_key(config: Config, selected: Sequence[str]) -> str:
    """The digest of everything a config's generated files come from: the bytes its load parsed."""
    return cache.key("generated-1", freshness.generator_digest(), config.source.name, list(selected),
                     config.source.digests)


def _generated(configs: Sequence[Config], root: Path, selected: Sequence[str]) -> list[dict[str, str]]:
    """Every config's generated files and cluster wiring; taken from the cache when nothing they depend on changed.

    A review compares the same base revision again and again: with the cache warm it starts no Node.js.
    """
    keys = [_inputs_key(config, selected) for config in configs]
    found: list[dict[str, str] | None] = []
    for key in keys:
        text = cache.read("generated", key)
        try:
            found.append(json.loads(text) if text else None)
        except ValueError:
            found.append(None)
    missing = [index for index, files in enumerate(found) if not isinstance(files, dict)]
    if missing:
        jobs = [(configs[index], root / f"side-{index}") for index in missing]
        for index, files in zip(missing, pipeline.generate_many(jobs, selected), strict=True):
            found[index] = {**files, **pipeline.render_sync(configs[index])}
            cache.write("generated", keys[index], json.dumps(found[index], sort_keys=True))
    return [files for files in found if isinstance(files, dict)]


def _configs(config_path: Path, ref: str, label: str | None, scratch: Path) -> tuple[Config, Config | None]:
    """The working tree's config, and the config at `ref` (its files copied into `scratch`; None: none there)."""
    config = config_module.load(config_path, label)
    commit = _checked_ref(config.source.project_dir, ref)
    old_path = _project_at(config, commit, scratch / "base")
    return config, config_module.load(old_path, f"{ref}:{config.source.label}") if old_path else None



def _compare_sides(both: Sides, selected: Sequence[str]) -> list[Section]:
    previous, current = _sections(both.before, selected), _sections(both.after, selected)
    return [compare(name, previous[name], current[name], both.old, both.new) for name in current
            if name not in (WIRING, DATABASE) or previous[name] or current[name]]



@dataclass(frozen=True)
class Review:
    """gen's objects per overlay, and, when the chart could be had, the chart's rendered objects too."""

    sections: list[Section]
    rendered: list[Section] | None
    note: str  # one line: the chart that rendered both sides, or why nothing was rendered


def _hydrated(files: dict[str, str] | None, selected: Sequence[str]) -> dict[str, str]:
    return {name: text for name in selected
            if (text := (files or {}).get(f"dist/{name}/{pipeline.HYDRATED_FILE}")) is not None}


def _chart_for(config: Config, given: render.Chart | None) -> render.Chart:
    if given is not None and (given.name, given.version) == (config.chart.name, str(config.chart.version)):
        return given
    return render.load_chart(config)


def review(config_path: Path, ref: str, selected: Sequence[str], label: str | None = None, *,
           rendered: bool = True, chart_path: Path | None = None,
           kube_version: str = render.DEFAULT_KUBE_VERSION) -> Review:
    """Per selected overlay (and the cluster wiring), the objects that differ between `ref` and the working tree,
    and the chart's objects of both sides rendered and compared (unless `rendered` is False).

    A chart given with --chart that is not the working tree's pin raises ChartError; a chart that
    cannot be had (not given, not cached, repository out of reach) gives a values-only review. Each
    side's renders start as soon as that side is generated, so they overlap the other side's generation.
    """
    with tempfile.TemporaryDirectory(prefix="gen-diff-") as scratch:
        root = Path(scratch)
        config, old = _configs(config_path, ref, label, root)
        note = "chart objects not rendered (--no-render)"
        charts: tuple[render.Chart, render.Chart | None] | None = None
        if rendered:
            given = render.load_chart(config, chart_path) if chart_path is not None else None
            try:
                new_chart = _chart_for(config, given)
                charts = new_chart, (_chart_for(old, new_chart) if old else None)
            except ChartUnavailable as exc:
                note = f"chart not rendered: {exc.problems[0]}; showing the values diff only (give --chart PATH)"
        if charts is None:
            generated = _generated([config] + ([old] if old else []), root, selected)
            both = Sides(old, config, generated[1] if old else None, generated[0])
            return Review(_compare_sides(both, selected), None, note)
        new_chart, old_chart = charts
        with ThreadPoolExecutor(max_workers=render.workers()) as pool:
            renders = render.Renders(pool, kube_version)
            after = _generated([config], root / "new", selected)[0]
            pending_new = renders.submit(new_chart, _hydrated(after, selected), config)
            before = _generated([old], root / "old", selected)[0] if old else None
            pending_old = renders.submit(old_chart, _hydrated(before, selected), old) if old and old_chart else None
            rendered_new = renders.result(pending_new)
            rendered_old = renders.result(pending_old) if pending_old else None
    sections = _with_chart_findings(_compare_sides(Sides(old, config, before, after), selected), rendered_old,
                                    rendered_new, old, config)
    titles = sorted({chart.title for chart in charts if chart})
    note = (f"chart objects rendered with {' and '.join(titles)}, Kubernetes {kube_version}, "
            f"{render.helm_version()}")
    return Review(sections, rendered_diff.compare_all(selected, rendered_old, rendered_new), note)


def _placed(render_of: render.OverlayRender | None) -> list[dict[str, Any]]:
    """The chart's objects of one overlay, each with the namespace Helm applies it in."""
    placed = []
    for obj in render_of.objects if render_of else ():
        if obj.source == render.GEN:
            continue
        body = obj.body
        if obj.namespace and not (body.get("metadata") or {}).get("namespace"):
            body = {**body, "metadata": {**(body.get("metadata") or {}), "namespace": obj.namespace}}
        placed.append(body)
    return placed


def _with_chart_findings(sections: list[Section], rendered_old: dict[str, render.OverlayRender] | None,
                         rendered_new: dict[str, render.OverlayRender], old: Config | None,
                         new: Config) -> list[Section]:
    """The chart's objects go through the same classifier as gen's: its StatefulSets, Jobs and Services too."""
    if rendered_old is None:
        return sections
    out = []
    for section in sections:
        if section.name not in rendered_new:
            out.append(section)
            continue
        extra = classify(section.name, _placed(rendered_old.get(section.name)),
                         _placed(rendered_new.get(section.name)), old, new)
        known = {finding.line for finding in section.findings}
        merged = list(section.findings) + [finding for finding in extra if finding.line not in known]
        out.append(dataclasses.replace(section, findings=sorted(set(merged))))
    return out


# --- reports -------------------------------------------------------------------------------------

def has_changes(sections: Sequence[Section]) -> bool:
    return any(section.changes for section in sections)


def findings(sections: Sequence[Section]) -> list[Finding]:
    """Every change that needs care before merging, in section order."""
    return [finding for section in sections for finding in section.findings]


def _rendered_header(section: Section) -> str:
    return f"== {section.name}, chart objects: " + (section.counts() if section.changes else "no change")


def text(sections: Sequence[Section], base_label: str, rendered: Sequence[Section] | None = None) -> str:
    """A terminal report: per section the objects, their value changes, then their YAML diffs; then the
    chart's rendered objects per overlay (field summary, rolls, then YAML diffs) when they were rendered."""
    out = [finding.line for finding in findings(sections)]  # before anything else
    for section in sections:
        out.append(f"== {section.name}: " + (section.counts() if section.changes else "no change"))
        for change in section.changes:
            out.append(f"{change.status}: {change.title}")
            out.extend(f"  {line}" for line in change.value_changes())
        for change in section.changes:
            out.append(change.yaml_diff(base_label).rstrip("\n"))
    for chart_section in rendered or ():
        out.append(_rendered_header(chart_section))
        out.extend(rendered_diff.summary_lines(chart_section))
        for chart_change in chart_section.changes:
            out.append(chart_change.yaml_diff(base_label).rstrip("\n"))
    return "\n".join(out) + "\n"


def _fence(body: str) -> str:
    longest = max((len(run) for run in body.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}diff\n{body.rstrip()}\n{ticks}"


COMMENT_LIMIT = 65_536  # characters in one GitHub comment
_RESERVE = 1_000  # kept for the closing line


class _Budget:
    """Blocks of a comment in order, until the next would pass the limit; counts what was cut."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size, self.limit, self.cut, self.full = 0, limit, 0, False

    def add(self, block: str) -> bool:
        if self.full or self.size + len(block) + 1 > self.limit:
            self.full = True
            self.cut += 1
            return False
        self.parts.append(block)
        self.size += len(block) + 1
        return True


def _md_code(line: str) -> str:
    return f"- `{line.replace('`', chr(39))}`"


def _needs_care(dangers: Sequence[Finding], limit: int) -> list[str]:
    """The "Needs care before merging" section, first in the comment; past `limit` characters it says how many
    more lines `gen diff` prints."""
    if not dangers:
        return []
    lines, size = ["#### Needs care before merging", ""], 0
    for index, finding in enumerate(dangers):
        line = _md_code(finding.line)
        if size + len(line) > limit:
            lines.append(f"- … and {len(dangers) - index} more: run `gen diff` in a terminal to see them all")
            break
        lines.append(line)
        size += len(line) + 1
    return lines + [""]


def markdown(sections: Sequence[Section], base_label: str, rendered: Sequence[Section] | None = None,
             note: str | None = None, limit: int = COMMENT_LIMIT) -> str:
    """A pull-request comment under GitHub's size limit: the summary table first, then folded details.

    Details go in order (each overlay's chart field summary, then gen's objects, then the chart
    objects' YAML diffs) until the next would pass `limit`; the last line then says how much was
    cut and how to see everything.
    """
    head = [f"### gen diff: `{base_label}` → working tree", ""]
    if note:
        head += [f"_{_escape(note)}_", ""]
    if not has_changes(sections):
        return "\n".join(head + ["No change to the generated manifests."]) + "\n"
    head += _needs_care(findings(sections), limit // 2)
    by_name = {r.name: r for r in rendered or ()}
    if rendered is not None:
        head += ["| overlay | gen added | gen removed | gen changed | chart added | chart removed | chart changed "
                 "| workloads that roll |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for s in sections:
            r = by_name.get(s.name)
            chart = (f"{r.count('added')} | {r.count('removed')} | {r.count('changed')} | {len(r.rolls)}"
                     if r else "– | – | – | –")
            head.append(f"| {s.name} | {s.count('added')} | {s.count('removed')} | {s.count('changed')} | {chart} |")
    else:
        head += ["| overlay | added | removed | changed |", "|---|---:|---:|---:|"]
        head += [f"| {s.name} | {s.count('added')} | {s.count('removed')} | {s.count('changed')} |" for s in sections]
    budget = _Budget(limit - _RESERVE)
    budget.parts.append("\n".join(head))  # the summary always goes in
    budget.size = len(budget.parts[0]) + 1
    for section in rendered or ():
        lines = rendered_diff.summary_lines(section)
        if not lines:
            continue
        if not budget.add(f"\n#### {section.name}: chart objects\n\n<details open>\n"
                          f"<summary>{_rendered_header(section).removeprefix('== ')}</summary>\n"):
            continue
        for index, line in enumerate(lines):
            if not budget.add(_md_code(line)):
                budget.cut += len(lines) - index - 1
                break
        budget.parts.append("\n</details>")
        budget.size += len("\n</details>") + 1
    for section in sections:
        if not section.changes:
            continue
        budget.add(f"\n#### {section.name}: gen objects\n")
        for change in section.changes:
            value_lines = [_md_code(line) for line in change.value_changes()]
            block = ["<details>", f"<summary>{change.status}: {_escape(change.title)}</summary>", ""]
            block += [*value_lines, ""] if value_lines else []
            block += [_fence(change.yaml_diff(base_label)), "", "</details>"]
            budget.add("\n".join(block))
    for section in rendered or ():
        if not section.changes:
            continue
        budget.add(f"\n#### {section.name}: chart objects, YAML\n")
        for chart_change in section.changes:
            budget.add("\n".join(["<details>", f"<summary>{chart_change.status}: {_escape(chart_change.title)}"
                                   f"</summary>", "", _fence(chart_change.yaml_diff(base_label)), "", "</details>"]))
    out = "\n".join(budget.parts)
    if budget.cut:
        out += (f"\n\n_Cut: {budget.cut} more block(s) and line(s) left out to stay under GitHub's "
                f"{COMMENT_LIMIT:,}-character comment limit; run `gen diff` in a terminal to see it all._")
    return out + "\n"


def _escape(line: str) -> str:
    """Text for HTML (the <summary> line): object names never contain markup, but the config is user input."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
