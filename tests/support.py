"""Test helpers: fixture projects, and the real validators (kubernetes-validate, CRDs, chart schema)."""

from __future__ import annotations

import copy
import json
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("GEN_SHARED_DIR", REPO.parent / "shared"))
CRDS = SHARED / "crds"
CHART_REFERENCE = SHARED / "reference" / "airflow-chart-1.19.0"

# The checked-in example and the fixture configs every output test runs over.
CONFIGS = ("example", "airflow2-strip", "tls-secret", "kubeadm-legacy", "k3s-helmchart", "kind-workers",
           "minikube-remote-logs")
KUBE_VERSIONS = ("1.30.0", "1.37.0")


def make_project(root: Path, config: str | None = None, *, fixture: str = "example",
                 values: str | None = None) -> Path:
    """A project directory like a user's: gen.yaml plus charts/airflow/. Returns the gen.yaml path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "charts" / "airflow").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "charts" / "airflow" / "chart.yaml", root / "charts" / "airflow" / "chart.yaml")
    source = REPO if fixture == "example" else FIXTURES / fixture
    if config is None:
        config = (source / "gen.yaml").read_text()
    if values is None:
        values_file = source / ("charts/airflow/values.yaml" if fixture == "example" else "values.yaml")
        values = values_file.read_text() if values_file.exists() else ""
    (root / "charts" / "airflow" / "values.yaml").write_text(values)
    path = root / "gen.yaml"
    path.write_text(config)
    return path


def tree(root: Path, *tops: str) -> dict[str, bytes]:
    """Every file under root/<top> as relative path -> bytes."""
    files = {}
    for top in tops:
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


# --- custom resources against the real CRDs ------------------------------------------------------

def _strict(schema: Any) -> Any:
    """OpenAPI v3 -> JSON Schema: nullable as a type, and unknown fields refused where the CRD lists fields."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict schema, from every CRD file in shared/crds."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def crd_problems(obj: dict[str, Any]) -> list[str]:
    schema = crd_schemas().get((obj["apiVersion"], obj["kind"]))
    if schema is None:
        return [f"no CRD for {obj['apiVersion']} {obj['kind']}"]
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]


# --- Helm values against the chart's own schema --------------------------------------------------

@cache
def _chart_schema() -> jsonschema.Draft7Validator:
    schema = json.loads((CHART_REFERENCE / "values.schema.json").read_text())
    return jsonschema.Draft7Validator(schema)


@cache
def _chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((CHART_REFERENCE / "values.yaml").read_text())


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def chart_values_problems(values: dict[str, Any]) -> list[str]:
    """Validate values merged over the chart defaults, as Helm does at install time."""
    merged = merge(_chart_defaults(), values)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in _chart_schema().iter_errors(merged)]


# --- one verdict per object ----------------------------------------------------------------------

def object_problems(obj: dict[str, Any], kube_version: str) -> list[str]:
    """Core kinds: kubernetes-validate strict; custom resources: their CRD; HelmRelease/HelmChart values: the chart."""
    name = f"{obj['kind']}/{obj['metadata'].get('name')}"
    try:
        kubernetes_validate.validate(obj, kube_version, strict=True)
        problems = []
    except kubernetes_validate.SchemaNotFoundError:
        problems = crd_problems(obj)
        if obj["kind"] in ("HelmRelease", "HelmChart"):
            problems += [f"values.{p}" for p in chart_values_problems(obj["spec"].get("values", {}))]
    except kubernetes_validate.ValidationError as exc:
        problems = [str(exc).splitlines()[0]]
    return [f"{name}: {p}" for p in problems]
