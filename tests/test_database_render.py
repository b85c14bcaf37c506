"""The real chart the example pins (1.22.0), rendered with each overlay's HelmRelease values, makes no Secret
and no PostgreSQL StatefulSet it should not.

What it asserts, for one fixture of each combination of the settings that decide the Secrets (the three
database types among them) and every executor overlay:
- the chart renders no Secret at all: every credential comes from a Secret gen names (before the
  Kubernetes-executor overlay named `data.brokerUrlSecretName`, the chart made a pre-install hook Secret
  <release>-broker-url whose `connection` was the text `%!s(<nil>)`);
- a PostgreSQL StatefulSet (<release>-postgresql) exists exactly when database.type is bundled;
- with an external or CloudNativePG database, every metadata connection the pods read comes from the
  Secret that `data.metadataSecretName` names.

Rendered in-process by gen's own renderer (Helm's Go SDK), as `gen render` renders.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from support import CHART_ARCHIVE, CONFIGS, documents, make_project

from generator.config import load
from generator.knowledge import airflow
from generator.review import render, renders

_CHARTS: dict = {}


def _chart(config):
    """The archive loaded once for the whole module (every fixture pins the same chart)."""
    pin = (config.chart.name, str(config.chart.version))
    if pin not in _CHARTS:
        _CHARTS[pin] = render.load_chart(config, CHART_ARCHIVE)
    return _CHARTS[pin]


def _rendered(root, overlay):
    config = load(root / "gen.yaml")
    manifests = (root / "dist" / overlay / "manifests.yaml").read_text()
    release = next(o for o in documents(manifests) if o["kind"] in ("HelmRelease", "HelmChart"))
    (result,) = renders.render_overlays(_chart(config), {overlay: manifests}, config).values()
    return release["spec"]["values"], result.chart_objects


def _deciding(name: str) -> tuple:
    """What decides which Secrets the chart makes or reads: the database, Airflow's major version (its web
    secrets), the engine that installs the chart, and the volumes' backends (remote logging, git-sync)."""
    config = load(make_project(Path(tempfile.mkdtemp(prefix="gen-deciding-")), fixture=name))
    return (config.database.type, config.airflow_version.major, config.gitops.engine, config.secrets.provider,
            config.storage.logs.type, config.storage.dags.type)


# One fixture for each combination of what decides (7 of the 14 fixtures): the others differ only in routing and
# cluster settings, which no chart value that makes or reads a Secret depends on.
def _one_per_combination() -> tuple[str, ...]:
    first: dict[tuple, str] = {}
    for name in CONFIGS:
        first.setdefault(_deciding(name), name)
    return tuple(first.values())


DECIDING = _one_per_combination()


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
@pytest.mark.parametrize("name", DECIDING)
def test_the_chart_renders_no_secret_and_postgresql_only_when_bundled(synthesized, name, overlay):
    root = synthesized[name]
    config = load(root / "gen.yaml")
    values, objects = _rendered(root, overlay)
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Secret"] == []
    postgresql = [o["metadata"]["name"] for o in objects
                  if o["kind"] == "StatefulSet" and o["metadata"]["name"] == f"{config.release}-postgresql"]
    assert bool(postgresql) is (config.database.type == "bundled")
    if config.database.type != "bundled":
        secret = values["data"]["metadataSecretName"]
        for obj in objects:
            for ref in _secret_refs(obj):
                if ref["key"] == "connection" and ref["name"].endswith("-metadata"):
                    assert ref["name"] == secret


def _secret_refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("secretKeyRef"), dict):
            yield node["secretKeyRef"]
        for value in node.values():
            yield from _secret_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _secret_refs(value)
