"""Renders per overlay: gen's own objects, then the chart's, each distinct release rendered once on a pool of
threads (the Go library releases the GIL), started as soon as the release is expected or generated.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.model import Config
from generator.plumbing.objects import ObjectKey, object_key
from generator.plumbing.yamlio import dump_documents, generated_objects
from generator.review.render import DEFAULT_KUBE_VERSION, GEN, Chart, Release, expected_release, release
from generator.synth import pipeline


@dataclass(frozen=True)
class RenderedObject:
    """One object Flux ends up applying for an overlay: gen's own, or one the chart renders."""

    overlay: str
    source: str  # GEN, or the chart template path such as airflow/templates/scheduler/scheduler-deployment.yaml
    body: dict[str, Any]

    namespace: str = ""  # where Helm applies a namespaced object that names none: the release namespace

    @property
    def key(self) -> ObjectKey:
        """kind, namespace, name; a namespaced object without a namespace is where Helm applies it: the release's."""
        return object_key(self.body, self.namespace)


@dataclass(frozen=True)
class OverlayRender:
    overlay: str
    objects: list[RenderedObject]
    release: Release | None

    @property
    def chart_objects(self) -> list[dict[str, Any]]:
        return [o.body for o in self.objects if o.source != GEN]


@dataclass(frozen=True)
class Pending:
    """One job's overlays, their releases and the keys of their renders (running or done)."""

    own: dict[str, list[dict[str, Any]]]
    releases: dict[str, Release | None]
    keys: dict[str, str]


class Renders:
    """Renders on a worker pool: each distinct release once, started as soon as it is expected or generated."""

    def __init__(self, pool: ThreadPoolExecutor, kube: str = DEFAULT_KUBE_VERSION) -> None:
        self.pool, self.kube = pool, kube
        self._futures: dict[str, Future[list[tuple[str, dict[str, Any]]]]] = {}

    def _start(self, chart: Chart, rel: Release) -> str:
        key = chart._key(rel, self.kube)
        if key not in self._futures:
            self._futures[key] = self.pool.submit(chart.objects, rel, self.kube)
        return key

    def expect(self, chart: Chart, config: Config, overlays: Sequence[str]) -> None:
        """Start the renders of the releases the overlays are expected to hold, before they are generated."""
        for overlay in overlays:
            if (rel := expected_release(config, overlay)) is not None:
                self._start(chart, rel)

    def submit(self, chart: Chart, manifests: Mapping[str, str], config: Config | None) -> Pending:
        """Start rendering each overlay (name -> hydrated manifests.yaml text) of one side."""
        own = {name: generated_objects(text) for name, text in manifests.items()}
        releases = {name: release(objects, config) for name, objects in own.items()}
        keys = {name: self._start(chart, rel) for name, rel in releases.items() if rel is not None}
        return Pending(own, releases, keys)

    def result(self, pending: Pending) -> dict[str, OverlayRender]:
        """Per overlay: gen's objects, then the chart's, in a stable order."""
        result = {}
        for name, objects in pending.own.items():
            rel = pending.releases[name]
            rendered = [RenderedObject(name, GEN, obj) for obj in objects]
            if name in pending.keys:
                rendered += [RenderedObject(name, source, obj, rel.namespace if rel else "")
                             for source, obj in self._futures[pending.keys[name]].result()]
            result[name] = OverlayRender(name, rendered, rel)
        return result


def workers() -> int:
    return os.cpu_count() or 1


def render_overlays(chart: Chart, manifests: Mapping[str, str], config: Config | None = None,
                    kube: str = DEFAULT_KUBE_VERSION) -> dict[str, OverlayRender]:
    """Per overlay (name -> its hydrated manifests.yaml text): gen's objects, then the chart's, in a stable order."""
    with ThreadPoolExecutor(max_workers=workers()) as pool:
        on_pool = Renders(pool, kube)
        return on_pool.result(on_pool.submit(chart, manifests, config))


_SAFE_COMMENT = re.compile(r"[\r\n]")


def stream(renders: Sequence[OverlayRender], header: str) -> str:
    """One YAML stream; each object preceded by `# overlay: NAME` and `# source: gen|TEMPLATE`."""
    out = [f"# {_SAFE_COMMENT.sub(' ', header)}\n"]
    for render in renders:
        for note in render.release.notes if render.release else ():
            out.append(f"# {render.overlay}: {_SAFE_COMMENT.sub(' ', note)}\n")
        for obj in render.objects:
            out.append(f"---\n# overlay: {obj.overlay}\n# source: {obj.source}\n{dump_documents([obj.body])}")
    return "".join(out)


def config_renders(config: Config, selected: Sequence[str], chart: Chart,
                   kube: str = DEFAULT_KUBE_VERSION) -> dict[str, OverlayRender]:
    """Generate `config` (into a scratch directory: the project is not touched), then render each overlay."""
    with tempfile.TemporaryDirectory(prefix="gen-render-") as scratch:
        files = pipeline.generate(config, Path(scratch), selected)
    manifests = {name: files[f"dist/{name}/{pipeline.HYDRATED_FILE}"] for name in selected}
    return render_overlays(chart, manifests, config, kube)
