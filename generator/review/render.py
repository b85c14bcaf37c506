"""The pinned chart rendered in-process with Helm's own Go SDK, as Flux's helm-controller renders it.

helm-controller 1.5+ runs Helm v4. It installs the HelmRelease's chart with the release name
`spec.releaseName` (default `[targetNamespace-]name`), in `spec.targetNamespace` (default the
HelmRelease's namespace), as an install (`IsInstall`), with the cluster's Kubernetes version in
`.Capabilities.KubeVersion`, and with values composed from `valuesFrom` (in order) and then the
inline `values` on top. gen does the same through `helm-python-sdk` (Helm's Go SDK over a C ABI,
loaded with ctypes: no helm binary and no network). A value Flux would read from a Secret gets a
fixed placeholder naming the Secret and key, so no secret value can ever reach the output.

The chart archive is found and checked once per process, and Helm loads it afresh for every render
(rendering changes the loaded chart), without the files no template reads (lean_chart.py); renders.py
runs the renders on every core; each render's output is cached outside the
project under a digest of chart, values, options and Helm version (see cache.py), so a repeated
review renders nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.knowledge import airflow, chart_values, credentials, names
from generator.model import ChartPin, Config, Version
from generator.plumbing import cache, values
from generator.plumbing.objects import object_key, object_title
from generator.plumbing.yamlio import generated_objects, load_one
from generator.review import chart_source, helm, lean_chart
from generator.review.chart_source import ChartArchive, ChartError
from generator.review.helm import RenderError, helm_version

DEFAULT_KUBE_VERSION = "1.37"  # a current Kubernetes release; Flux passes the cluster's own
GEN = "gen"  # the source of gen's own objects
CACHE_FORMAT = "render-2"


def kube_version(text: str | None) -> str:
    """`X.Y` (or `vX.Y`, `X.Y.Z`) -> X.Y; None means DEFAULT_KUBE_VERSION. Raises ValueError."""
    if text is None:
        return DEFAULT_KUBE_VERSION
    parts = text.removeprefix("v").split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts) or parts[0] != "1":
        raise ValueError(f"{text!r} is not a Kubernetes version; give X.Y such as {DEFAULT_KUBE_VERSION}")
    return f"{int(parts[0])}.{int(parts[1])}"


# --- what Flux passes to Helm ----------------------------------------------------------------------

@dataclass(frozen=True)
class Release:
    """One overlay's release as Flux (or k3s) installs it: the values are complete and secret-free."""

    name: str
    namespace: str
    values: dict[str, Any]
    notes: tuple[str, ...] = ()  # values Flux reads that gen cannot know (a whole values file from a Secret)


def placeholder(kind: str, namespace: str, name: str, key: str) -> str:
    """The fixed stand-in for a value Flux reads from a Secret at reconcile time."""
    return f"<{object_title((kind, namespace, name))} key {key}>"


_PLAIN_PATH = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def _set_at(target_path: str, value: str, literal: bool) -> dict[str, Any]:
    """`targetPath=value` as Flux parses it: Helm's strvals (`--set`, or `--set-literal` with `literal`).

    A plain dotted path with a placeholder (a string, whichever parser) nests without asking Helm.
    """
    if _PLAIN_PATH.fullmatch(target_path) and (literal or value.startswith("<")):
        return values.unflatten({target_path: value})
    helm_python = helm.library()
    expression = f"{target_path}={value}"
    try:
        return helm_python.parse_set_literal(expression) if literal else helm_python.parse_set_string(expression)
    except helm_python.HelmError as exc:
        raise RenderError(f"valuesFrom targetPath {target_path!r}: Helm cannot parse it ({exc})") from None


def _config_maps(objects: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(str((o.get("metadata") or {}).get("namespace") or ""), str((o.get("metadata") or {}).get("name"))): o
            for o in objects if o.get("kind") == "ConfigMap" and o.get("apiVersion") == "v1"}


def _helm_release(obj: dict[str, Any], objects: Sequence[dict[str, Any]]) -> Release:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    own_namespace = str(meta.get("namespace") or "default")
    target = spec.get("targetNamespace")
    name = spec.get("releaseName") or (f"{target}-{meta.get('name')}" if target else str(meta.get("name")))
    if len(name) > 53:  # helm-controller shortens long default names with a hash
        name = f"{name[:40]}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"
    composed: dict[str, Any] = {}
    notes = []
    config_maps = _config_maps(objects)
    for ref in spec.get("valuesFrom") or []:
        kind, ref_name = str(ref.get("kind")), str(ref.get("name"))
        key = str(ref.get("valuesKey") or "values.yaml")
        found = config_maps.get((own_namespace, ref_name)) if kind == "ConfigMap" else None
        if found is not None and key in (found.get("data") or {}):
            text = str(found["data"][key])
        elif kind == "ConfigMap" and ref.get("optional"):
            continue
        else:
            text = placeholder(kind, own_namespace, ref_name, key)
            if not ref.get("targetPath"):
                notes.append(f"values file {object_title((kind, own_namespace, ref_name))} key {key} is read by Flux at "
                             f"reconcile time and not rendered here")
                continue
        if ref.get("targetPath"):
            composed = values.deep_merge(composed, _set_at(str(ref["targetPath"]), text, bool(ref.get("literal"))))
        else:
            loaded = yaml.safe_load(text)
            composed = values.deep_merge(composed, loaded if isinstance(loaded, dict) else {})
    composed = values.deep_merge(composed, spec.get("values") or {})
    return Release(name, str(target or own_namespace), composed, tuple(notes))


def _helm_chart(obj: dict[str, Any], config: Config | None) -> Release:
    """k3s: `valuesContent` (and the structured `values`), then each valuesSecrets file."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    namespace = str(meta.get("namespace") or "kube-system")
    composed = values.helm_chart_values(spec)
    notes = []
    admin = credentials.name(config, credentials.spec("adminPassword")) if config else None
    for secret in spec.get("valuesSecrets") or []:
        for key in secret.get("keys") or []:
            if config is not None and secret.get("name") == admin and key == credentials.K3S_VALUES_KEY:
                path = airflow.chart_key(credentials.ADMIN_PASSWORD_PATH, config.chart.version)
                composed = values.deep_merge(composed, _set_at(path, placeholder("Secret", namespace, admin, key), True))
            else:
                notes.append(f"values file {object_title(('Secret', namespace, str(secret.get('name'))))} key {key} "
                             f"is read by k3s at "
                             f"install time and not rendered here")
    return Release(str(meta.get("name")), str(spec.get("targetNamespace") or namespace), composed, tuple(notes))


def release(objects: Sequence[dict[str, Any]], config: Config | None = None) -> Release | None:
    """The chart release among an overlay's objects (its HelmRelease, or its k3s HelmChart); None if none."""
    for obj in objects:
        if obj.get("kind") == "HelmRelease" and str(obj.get("apiVersion", "")).startswith("helm.toolkit.fluxcd.io/"):
            return _helm_release(obj, objects)
        if obj.get("kind") == "HelmChart" and str(obj.get("apiVersion", "")).startswith("helm.cattle.io/"):
            return _helm_chart(obj, config)
    return None


def expected_release(config: Config, overlay: str) -> Release | None:
    """The release the overlay's HelmRelease will hold, from the config alone, so that its render can start while
    cdk8s and kustomize run. A guess: Renders uses that render only for the same release (None under k3s)."""
    if credentials.k3s_engine(config):
        return None
    helm_release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                    "metadata": {"name": names.helm_release(config.release), "namespace": config.namespace},
                    "spec": {"releaseName": config.release, "values": chart_values.release_values(config, overlay),
                             "valuesFrom": credentials.values_from(config)}}
    return _helm_release(helm_release, [])


# --- the chart ------------------------------------------------------------------------------------


def chart_files(path: Path, names: Sequence[str]) -> tuple[bytes | None, ...]:
    """Top-level files of a chart directory or .tgz (Chart.yaml, values.yaml, ...), read without Helm;
    None for a file the chart lacks."""
    try:
        if path.is_dir():
            return tuple((path / name).read_bytes() if (path / name).is_file() else None for name in names)
        with tarfile.open(path) as archive:
            return chart_source.top_level_files(archive, names)
    except (OSError, EOFError, tarfile.TarError) as exc:  # EOFError: a truncated archive
        raise ChartError(f"chart {path}: Helm cannot load it ({helm.first_line(exc) or 'truncated'})") from None


def _chart_yaml(path: Path, text: bytes | None = None) -> dict[str, Any]:
    """Chart.yaml of a chart directory or .tgz (`text`: as the archive's check read it), read without Helm (a
    cached review never loads Helm)."""
    if text is None:
        (text,) = chart_files(path, ("Chart.yaml",))
    if text is None:
        raise ChartError(f"chart {path}: Helm cannot load it (no Chart.yaml in the archive)")
    try:
        loaded = load_one(text)
    except yaml.YAMLError as exc:
        raise ChartError(f"chart {path}: Helm cannot load it ({helm.first_line(exc)})") from None
    if not isinstance(loaded, dict):
        raise ChartError(f"chart {path}: Helm cannot load it (Chart.yaml is not a mapping)")
    return loaded


@dataclass
class Chart:
    """The pinned chart, checked once against the pin; every render goes through the cache."""

    archive: ChartArchive
    name: str
    version: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _lean_archive: list[bytes | None] = field(default_factory=list, repr=False, compare=False)  # once read

    @classmethod
    def load(cls, archive: ChartArchive, pin: ChartPin) -> Chart:
        """Refuse a chart that is not the pinned name and version."""
        meta = _chart_yaml(archive.path, archive.chart_yaml)
        name, version = str(meta.get("name")), str(meta.get("version"))
        if (name, version) != (pin.name, str(pin.version)):
            raise ChartError(f"chart {archive.origin}: is {name} {version}, but charts/airflow/chart.yaml pins "
                             f"{pin.name} {pin.version}; give the pinned chart")
        return cls(archive, name, version)

    def _lean(self) -> bytes | None:
        with self._lock:  # the first renders start together: the archive is read once
            if not self._lean_archive:
                self._lean_archive.append(lean_chart.lean(self.archive.path))
            return self._lean_archive[0]

    def fresh_handle(self, values: Mapping[str, Any]) -> Any:
        """The chart as Helm loaded it, new for every render: rendering removes the subcharts that the values
        disable (PostgreSQL with an external database) from the loaded chart, so a handle used twice would
        render the second release without them. Loading takes about 20 ms against about 1 s to render.

        The lean archive, unless the release's `values` could reach `.Files` (lean_chart.py)."""
        helm_python = helm.library()
        lean = None if lean_chart.mentions_files(values) else self._lean()
        try:
            if lean is not None:
                return helm_python.Chart.load_archive(lean)
            return helm_python.Chart.load(self.archive.path)
        except helm_python.HelmError as exc:
            raise ChartError(f"chart {self.archive.origin}: Helm cannot load it ({helm.first_line(exc)})") from None

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    def _key(self, rel: Release, kube: str) -> str:
        return cache.key(CACHE_FORMAT, helm_version(), self.archive.digest, rel.name, rel.namespace, kube, rel.values)

    def _render(self, rel: Release, kube: str) -> dict[str, str]:
        helm_python = helm.library()
        handle = self.fresh_handle(rel.values)
        # Chart.render has no kube_version keyword; the library's render options take it (like
        # `helm template --kube-version`), so the call goes one level down with the same options.
        options = {"name": rel.name, "namespace": rel.namespace, "is_install": True, "kube_version": f"v{kube}.0"}
        try:
            text = helm.within_deadline(lambda: helm_python._native.call_string(
                "helm_render", handle._raw(), json.dumps(rel.values), json.dumps(options)), f"{self.title} {rel.name}")
        except helm_python.HelmError as exc:
            raise RenderError(f"chart {self.title}: Helm cannot render release {rel.name} ({helm.one_line(exc)})") from None
        manifests: dict[str, str] = json.loads(text)
        return manifests

    def notes(self, rel: Release, kube: str) -> str:
        """NOTES.txt as Helm prints it after an install: where the chart prints its deprecation warnings."""
        return "".join(text for path, text in sorted(self._render(rel, kube).items()) if path.endswith("NOTES.txt"))

    def objects(self, rel: Release, kube: str, cached: bool = True) -> list[tuple[str, dict[str, Any]]]:
        """(template path, object) of one release, from the cache when this exact render was done before.

        `cached=False` for values that may hold credentials (a hand-made install's): never stored.
        """
        if not cached:
            return split(self._render(rel, kube))
        key = self._key(rel, kube)
        found = _cache_get(key)
        if found is not None:
            return found
        rendered = split(self._render(rel, kube))
        _cache_put(key, rendered)
        return rendered


def split(manifests: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Rendered templates as (template path, object), as `helm template` prints them: no NOTES, no empty documents."""
    found = []
    for path in sorted(manifests):
        if path.endswith("NOTES.txt"):
            continue
        found += [(path, doc) for doc in generated_objects(manifests[path])]
    return sorted(found, key=lambda item: (*object_key(item[1]), item[0]))


# --- the cache -------------------------------------------------------------------------------------

def _cache_get(key: str) -> list[tuple[str, dict[str, Any]]] | None:
    """The objects of a render done before, stored as JSON (faster to read back than Helm's YAML)."""
    text = cache.read("render", key)
    try:
        loaded = json.loads(text) if text is not None else None
    except ValueError:
        return None
    if not isinstance(loaded, list) or not all(isinstance(i, list) and len(i) == 2 for i in loaded):
        return None
    return [(str(path), obj) for path, obj in loaded]


def _cache_put(key: str, objects: list[tuple[str, dict[str, Any]]]) -> None:
    cache.write("render", key, json.dumps(objects, sort_keys=True))


def chart_pin(path: Path, repository: str) -> ChartPin:
    """The pin that the chart at `path` is (its Chart.yaml name, version and appVersion): a chart other than the
    pinned one, such as the one an install runs."""
    meta = _chart_yaml(path)
    try:
        return ChartPin(repository, str(meta.get("name")), Version.parse(str(meta.get("version"))),
                        Version.parse(str(meta.get("appVersion"))))
    except ValueError:
        raise ChartError(f"chart {path}: Chart.yaml names no version X.Y.Z and appVersion X.Y.Z") from None


def load_chart(config: Config, chart_path: Path | None = None) -> Chart:
    """The pinned chart: --chart PATH (an archive is kept in the cache), else the cache, else the pinned
    repository (ChartUnavailable)."""
    chart = Chart.load(chart_source.find(config.chart, chart_path), config.chart)
    if chart_path is not None:
        chart_source.remember(chart.archive, config.chart)
    return chart

