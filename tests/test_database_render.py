"""The real chart 1.19.0, rendered with each overlay's HelmRelease values, makes no Secret and no PostgreSQL
StatefulSet it should not.

What it asserts, for every fixture (all three database types) and every executor overlay:
- the chart renders no Secret at all: every credential comes from a Secret gen names (before the
  Kubernetes-executor overlay named `data.brokerUrlSecretName`, the chart made a pre-install hook Secret
  <release>-broker-url whose `connection` was the text `%!s(<nil>)`);
- a PostgreSQL StatefulSet (<release>-postgresql) exists exactly when database.type is bundled;
- with an external or CloudNativePG database, every metadata connection the pods read comes from the
  Secret that `data.metadataSecretName` names.

It needs the in-process renderer (generator.render, which brings Helm's Go SDK); without it the test
is skipped.
"""

from __future__ import annotations

from functools import cache

import pytest
import yaml

from generator import airflow
from generator.config import load
from support import CHART_REFERENCE, CONFIGS, documents

pytest.importorskip("generator.render", reason="needs generator.render (the chart rendered in-process)")
helm = pytest.importorskip("helm_python", reason="needs Helm's Go SDK (helm-python-sdk), which generator.render uses")


@cache
def _chart():
    return helm.Chart.load(str(CHART_REFERENCE / "airflow-1.19.0.tgz"))


def _rendered(root, overlay):
    objects = documents((root / "dist" / overlay / "manifests.yaml").read_text())
    release = next(o for o in objects if o["kind"] in ("HelmRelease", "HelmChart"))
    if release["kind"] == "HelmRelease":
        values, name = release["spec"]["values"], release["spec"].get("releaseName", release["metadata"]["name"])
        namespace = release["metadata"]["namespace"]
    else:
        values, name = release["spec"]["values"], release["metadata"]["name"]
        namespace = release["spec"]["targetNamespace"]
    # valuesFrom adds only the admin password (createUserJob.defaultUser.password): no Secret depends on it.
    manifests = _chart().render(values, name=name, namespace=namespace, is_install=True)
    return values, [obj for path, text in sorted(manifests.items()) if path.endswith((".yaml", ".yml"))
                    for obj in yaml.safe_load_all(text) if obj]


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
@pytest.mark.parametrize("name", CONFIGS)
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
