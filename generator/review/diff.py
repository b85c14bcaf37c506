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
from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.changes import WIRING, Finding, classify, classify_configs
from generator.model import Config
from generator.plumbing import cache
from generator.plumbing.errors import ConfigError, GenError
from generator.plumbing.objects import ObjectKey, object_key
from generator.plumbing.yamlio import generated_objects
from generator.review import render, rendered_diff, renders
from generator.review.changeset import Change, Section
from generator.review.chart_source import ChartUnavailable
from generator.synth import freshness, pipeline

DATABASE = "database"  # the section for dist/database (the CloudNativePG Cluster)


class GitError(GenError):
    """The Git revision or repository cannot be read."""




def _objects(text: str | None) -> dict[ObjectKey, dict[str, Any]]:
    return {object_key(doc): doc for doc in generated_objects(text)}


def compare(name: str, before: str | None, after: str | None, old_config: Config | None = None,
            new_config: Config | None = None, applied: tuple[str | None, str | None] = (None, None),
            overlays: tuple[str, str] | None = None) -> Section:
    """The objects of one section that differ; the findings over everything Flux applies with it.

    `applied` is the rest of what the cluster wiring applies beside the section on each side (the
    database tree): an object that moves into it is no deletion. `overlays` names the overlay of each
    side for the findings only the configs show (the Secrets); None for the cluster wiring."""
    old, new = _objects(before), _objects(after)
    changed = [Change(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
               if old.get(key) != new.get(key)]
    flux_old, flux_new = {**_objects(applied[0]), **old}, {**_objects(applied[1]), **new}
    found = classify(name, list(flux_old.values()), list(flux_new.values()), old_config, new_config)
    found += classify_configs(name, old_config, new_config, overlays)
    return Section(name, changed, sorted(set(found)))


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
    if run.returncode != 0 and _git(project_dir, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        raise GitError(f"{project_dir}: this repository has no commits yet, so there is nothing to compare with; "
                       f"commit the project first (git add -A && git commit), then gen diff shows what changes")
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
    """Per overlay its hydrated manifests, and the database tree and cluster wiring (None: not generated)."""
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


def _configs(config_path: Path, ref: str, label: str | None, scratch: Path,
             base: Path | None = None) -> tuple[Config, Config | None]:
    """The working tree's config, and the config at `ref` (its files copied into `scratch`; None: none there),
    or the config at `base` when given (gen upgrade: the project before the upgrade; None if it does not load)."""
    config = config_module.load(config_path, label)
    if base is not None:
        try:
            return config, config_module.load(base, f"before: {base}")
        except ConfigError:
            return config, None
    commit = _checked_ref(config.source.project_dir, ref)
    old_path = _project_at(config, commit, scratch / "base")
    return config, config_module.load(old_path, f"{ref}:{config.source.label}") if old_path else None


def _compare_sides(both: Sides, plan: Scope) -> list[Section]:
    previous = _sections(both.before, plan.side(1))
    current = _sections(both.after, plan.side(2))
    database = previous[DATABASE], current[DATABASE]
    sections = [compare(name, previous[a], current[b], both.old, both.new, database, (a, b))
                for name, a, b in plan.pairs]
    if previous[DATABASE] or current[DATABASE]:  # its findings are the overlays': Flux applies it beside each
        section = compare(DATABASE, previous[DATABASE], current[DATABASE])
        sections.append(dataclasses.replace(section, findings=[]))
    if previous[WIRING] or current[WIRING]:
        sections.append(compare(WIRING, previous[WIRING], current[WIRING], both.old, both.new))
    return sections


# --- what a review compares ----------------------------------------------------------------------

ALL = "all"  # --overlay all: every overlay, deployed or not


@dataclass(frozen=True)
class Scope:
    """The sections a review compares, each as (name, overlay on the old side, overlay on the new side)."""

    pairs: tuple[tuple[str, str, str], ...]
    line: str  # what is reviewed and why, the review's first line; "" for the overlays asked for

    def side(self, index: int) -> list[str]:
        """The overlays one side needs (1: old, 2: new), in their canonical order."""
        return sorted({pair[index] for pair in self.pairs}, key=OVERLAYS.index)

    @property
    def overlays(self) -> list[str]:
        """The overlays either side needs: both sides are generated with these, in one kustomize run."""
        return sorted({*self.side(1), *self.side(2)}, key=OVERLAYS.index)


_OTHERS = "--overlay NAME or --overlay all reviews the others"


def scope(new: Config, old: Config | None, requested: Sequence[str] | None) -> Scope:
    """The deployed overlay when `flux.cluster` names one and no overlay is requested, else the requested ones.

    A change of the deployed overlay is one section, old overlay against new, as the cluster sees it."""
    deployed = new.flux.cluster.overlay if new.flux.cluster else None
    before = old.flux.cluster.overlay if old is not None and old.flux.cluster else None
    switch = (f"{before} -> {deployed}", before, deployed) if before and deployed and before != deployed else None
    if requested is None and deployed:
        if switch:
            return Scope((switch,), f"reviewing the deployed overlay as the cluster will see it, {before} -> "
                                    f"{deployed} (flux.cluster.overlay); {_OTHERS}")
        return Scope(((deployed, deployed, deployed),),
                     f"reviewing {deployed}, the overlay flux.cluster deploys; {_OTHERS}")
    names = list(requested or [name for name in OVERLAYS if name in new.synth.overlays])
    pairs = [(name, name, name) for name in names]
    if switch and before in names and deployed in names:
        pairs.insert(0, switch)
    line = "" if requested else f"reviewing {', '.join(names)}: flux.cluster names no deployed overlay"
    return Scope(tuple(pairs), line)


@dataclass(frozen=True)
class Review:
    """gen's objects per section, and, when the chart could be had, the chart's rendered objects too."""

    sections: list[Section]
    rendered: list[Section] | None
    note: str  # one line: the chart that rendered both sides, or why nothing was rendered
    scope: str  # one line: which overlays are reviewed and why ("" for those asked for)


class RenderRequired(GenError):
    """--require-render, and the chart cannot be had."""


def _hydrated(files: dict[str, str] | None, selected: Sequence[str]) -> dict[str, str]:
    return {name: text for name in selected
            if (text := (files or {}).get(f"dist/{name}/{pipeline.HYDRATED_FILE}")) is not None}


def _chart_for(config: Config, given: render.Chart | None) -> render.Chart:
    if given is not None and (given.name, given.version) == (config.chart.name, str(config.chart.version)):
        return given
    return render.load_chart(config)


def _charts(config: Config, old: Config | None, chart_path: Path | None,
            require: bool) -> tuple[tuple[render.Chart, render.Chart | None] | None, str]:
    """Both sides' charts, or None and the one line that says why not (RenderRequired with --require-render)."""
    given = render.load_chart(config, chart_path) if chart_path is not None else None
    try:
        new_chart = _chart_for(config, given)
        return (new_chart, _chart_for(old, new_chart) if old else None), ""
    except ChartUnavailable as exc:
        if require:
            raise RenderRequired(f"chart not rendered: {exc.problems[0]}; --require-render refuses a review without "
                                 f"the chart's objects (give --chart PATH once: it is cached for later runs)") from None
        return None, f"chart not rendered: {exc.problems[0]}; showing the values diff only (give --chart PATH)"


def _both_generated(config: Config, old: Config | None, root: Path,
                    plan: Scope) -> tuple[dict[str, str], dict[str, str] | None]:
    """The working tree's files and the base's (None without a base), generated together."""
    after, *rest = _generated([config, *([old] if old else [])], root, plan.overlays)
    return after, rest[0] if rest else None


def review(config_path: Path, ref: str, requested: Sequence[str] | None, label: str | None = None, *,
           rendered: bool = True, chart_path: Path | None = None, require_render: bool = False,
           kube_version: str = render.DEFAULT_KUBE_VERSION, base: Path | None = None) -> Review:
    """Per selected overlay (and the cluster wiring), the objects that differ between `ref` (or the project at
    `base`: gen upgrade's before) and the working tree, and the chart's objects of both sides rendered and
    compared (unless `rendered` is False).

    `requested` None reviews the deployed overlay (see scope). A chart given with --chart that is not
    the working tree's pin raises ChartError; a chart that cannot be had (not given, not cached,
    repository out of reach) gives a values-only review, or RenderRequired. Both sides are generated
    together (one Node.js session, one kustomize run for both: bench/run), then every distinct release
    renders on the pool.
    """
    with tempfile.TemporaryDirectory(prefix="gen-diff-") as scratch:
        root = Path(scratch)
        config, old = _configs(config_path, ref, label, root, base)
        plan = scope(config, old, requested)
        old_side, new_side = plan.side(1), plan.side(2)
        charts, note = _charts(config, old, chart_path, require_render) if rendered else (
            None, "chart objects not rendered (--no-render)")
        if charts is None:
            after, before = _both_generated(config, old, root, plan)
            return Review(_compare_sides(Sides(old, config, before, after), plan), None, note, plan.line)
        new_chart, old_chart = charts
        with ThreadPoolExecutor(max_workers=renders.workers()) as pool:
            # The renders start from the expected releases, on the cores Node.js leaves idle while it generates.
            on_pool = renders.Renders(pool, kube_version)
            on_pool.expect(new_chart, config, new_side)
            if old and old_chart:
                on_pool.expect(old_chart, old, old_side)
            after, before = _both_generated(config, old, root, plan)
            pending_new = on_pool.submit(new_chart, _hydrated(after, new_side), config)
            pending_old = on_pool.submit(old_chart, _hydrated(before, old_side), old) if old and old_chart else None
            rendered_new = on_pool.result(pending_new)
            rendered_old = on_pool.result(pending_old) if pending_old else None
    sections = _with_chart_findings(_compare_sides(Sides(old, config, before, after), plan), plan, rendered_old,
                                    rendered_new, old, config)
    titles = sorted({chart.title for chart in charts if chart})
    note = (f"chart objects rendered with {' and '.join(titles)}, Kubernetes {kube_version}, "
            f"{render.helm_version()}")
    chart_sections = [rendered_diff.compare(name, (rendered_old or {}).get(a), rendered_new.get(b))
                      for name, a, b in plan.pairs]
    return Review(sections, chart_sections, note, plan.line)


def _placed(render_of: renders.OverlayRender | None) -> list[dict[str, Any]]:
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


def _seen_in_values(finding: Finding, known: Sequence[Finding]) -> bool:
    """A chart object's finding that a values finding already tells (the claim template, the clusterIP)."""
    if not finding.field.startswith(("spec.volumeClaimTemplates", "spec.clusterIP")):
        return False
    return any(other.field.startswith("values.") and f"{finding.kind} {finding.name}" in other.why
               for other in known)


def _with_chart_findings(sections: list[Section], plan: Scope,
                         rendered_old: dict[str, renders.OverlayRender] | None,
                         rendered_new: dict[str, renders.OverlayRender], old: Config | None,
                         new: Config) -> list[Section]:
    """The chart's objects go through the same classifier as gen's: its StatefulSets, Jobs and Services too."""
    if rendered_old is None:
        return sections
    sides = {name: (a, b) for name, a, b in plan.pairs}
    out = []
    for section in sections:
        if section.name not in sides:
            out.append(section)
            continue
        a, b = sides[section.name]
        extra = classify(section.name, _placed(rendered_old.get(a)), _placed(rendered_new.get(b)), old, new)
        known = {finding.line for finding in section.findings}
        merged = list(section.findings) + [finding for finding in extra if finding.line not in known
                                           and not _seen_in_values(finding, section.findings)]
        out.append(dataclasses.replace(section, findings=sorted(set(merged))))
    return out
