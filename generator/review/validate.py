"""gen validate: the generated output checked by the real schemas, and the config rules run again.

What a cluster would accept is decided by three validators, each the real one:
- core kinds by kubernetes-validate in strict mode (unknown fields refused) for one Kubernetes version;
- custom resources by the CRDs the user passes (OpenAPI v3 turned into JSON Schema, unknown fields
  refused where the CRD lists its fields, as the API server prunes or rejects them);
- HelmRelease (and k3s HelmChart) values by the chart's own values.schema.json, merged over the chart's values.yaml.
A custom resource whose CRD was not given is reported as not checked, never counted as valid.

kubernetes-validate is imported only here, and only when validation runs, so `gen --help` stays fast.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from generator import config as config_module
from generator.knowledge import airflow, database, hardening, secret_providers, sync
from generator.model import Config
from generator.plumbing.errors import ConfigError, GenError
from generator.plumbing.objects import RELEASE_KINDS, object_key, object_slug
from generator.plumbing.values import deep_merge
from generator.plumbing.yamlio import MAX_BYTES, load_documents, parse_documents, read_text
from generator.review import render
from generator.review.chart_source import ChartUnavailable
from generator.review.render import Chart, chart_files
from generator.schema import dotted, show, with_ecma_patterns
from generator.synth import secret_files

if TYPE_CHECKING:
    import jsonschema

HYDRATED = Path("dist/{overlay}/manifests.yaml")
DATABASE = Path("dist/database/database.yaml")
EXTERNAL_SECRETS = Path(f"{secret_providers.SECRETS_TREE}/secrets.yaml")
MANIFESTS_MAX_BYTES = 16 * MAX_BYTES
CRD_SUFFIXES = (".yaml", ".yml", ".json")


# --- Kubernetes versions -------------------------------------------------------------------------

@cache
def kube_versions() -> tuple[str, ...]:
    """The Kubernetes versions (X.Y) kubernetes-validate has schemas for, oldest first."""
    from kubernetes_validate import utils

    found = {".".join(v.split(".")[:2]) for v in utils.all_versions()}
    return tuple(sorted(found, key=lambda v: tuple(int(p) for p in v.split("."))))


def kube_version(text: str | None) -> str:
    """`X.Y` (or `vX.Y`, `X.Y.Z`) -> X.Y; None means the newest known. Raises ValueError naming the choices."""
    known = kube_versions()
    if text is None:
        return known[-1]
    parts = text.removeprefix("v").split(".")
    wanted = ".".join(parts[:2])
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts) or wanted not in known:
        raise ValueError(f"{text!r} is not a Kubernetes version kubernetes-validate knows; use one of "
                         f"{known[0]} to {known[-1]}")
    return wanted


# --- custom resources against CRDs ---------------------------------------------------------------

def openapi_to_jsonschema(node: Any) -> Any:
    """A CRD's OpenAPI v3 schema as strict JSON Schema (draft 4 semantics, as Kubernetes uses).

    `nullable` becomes a null type; int-or-string gets its anyOf if the CRD left it out; an object
    that lists its properties refuses others unless it preserves unknown fields, since the API
    server would drop or reject them (a typo that silently vanishes is the bug this catches).
    """
    if isinstance(node, list):
        return [openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: openapi_to_jsonschema(value) for key, value in node.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if out.get("x-kubernetes-int-or-string") and "anyOf" not in out and "type" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def _crd_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in CRD_SUFFIXES)
    return [path]


CRD_MAX_BYTES = 64 * 1024 * 1024  # Flux's gotk-components.yaml is a few MiB


def _documents(path: Path) -> list[Any]:
    """Every YAML (or JSON) document in a CRD file, read as strictly as gen.yaml (no aliases, no tags, a
    size limit, regular files only); one line naming the file when it cannot be read."""
    try:
        return _parsed(read_text(path, str(path), max_bytes=CRD_MAX_BYTES), str(path))
    except ConfigError as exc:
        raise GenError(exc.problems) from None


# The same CRD files parsed once per process: the tests (and any caller of the Python API) validate many
# times in one process, and parsing shared/crds strictly takes 1.8 s of the 2 s a validation takes.
@lru_cache(maxsize=64)
def _parsed(text: str, label: str) -> list[Any]:
    return parse_documents(text, label)


def load_crds(paths: Iterable[Path]) -> dict[tuple[str, str], jsonschema.Draft4Validator]:
    """(apiVersion, kind) -> validator, from CRD files or directories of them.

    Other objects in the same files (a Flux gotk-components.yaml holds Deployments and Services
    too) are skipped; a path that holds no CRD at all is an error, since it is surely a mistake.
    """
    import jsonschema  # a quarter of gen's start-up: imported only when something is checked

    schemas: dict[tuple[str, str], jsonschema.Draft4Validator] = {}
    problems = []
    for given in paths:
        if not given.exists():
            problems.append(f"{given}: --crds: file or directory not found")
            continue
        found = 0
        for path in _crd_files(given):
            for doc in _documents(path):
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                found += 1
                spec = doc.get("spec") or {}
                for version in spec.get("versions") or []:
                    openapi = ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}
                    schema = openapi_to_jsonschema(openapi)
                    # The API server checks metadata itself; CRDs describe it only as `type: object`.
                    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                    key = (f"{spec.get('group')}/{version.get('name')}", (spec.get("names") or {}).get("kind"))
                    schemas[key] = with_ecma_patterns(jsonschema.Draft4Validator)(schema)
        if not found:
            problems.append(f"{given}: --crds: holds no CustomResourceDefinition")
    if problems:
        raise GenError(problems)
    return schemas


# --- Helm values against the chart's values.schema.json ------------------------------------------

def _without_required(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_required(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: _without_required(value) for key, value in node.items() if key != "required"}


@dataclass(frozen=True)
class ChartSchema:
    """A chart's values schema and, when found beside it, the chart's default values."""

    path: Path
    validator: jsonschema.protocols.Validator
    defaults: dict[str, Any] | None

    @classmethod
    def load(cls, path: Path) -> ChartSchema:
        """values.schema.json, plus values.yaml from the same directory (the chart's own layout).

        The schema's `required` lists are satisfied by the chart's defaults. Without a values.yaml
        beside the schema they cannot be, so `required` is not checked; every other rule is.
        """
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise GenError(f"{path}: --chart-schema: cannot read: {exc.strerror}") from None
        defaults_path = path.parent / "values.yaml"
        defaults = None
        if defaults_path.is_file():
            docs = [d for d in _documents(defaults_path) if d is not None]
            defaults = docs[0] if docs and isinstance(docs[0], dict) else {}
        return cls.build(path, text, defaults, f"{path}: --chart-schema")

    @classmethod
    def from_chart(cls, chart: Chart) -> ChartSchema:
        """The pinned chart's own values.schema.json and values.yaml, read from its archive or directory."""
        schema_text, defaults_text = chart_files(chart.archive.path, ("values.schema.json", "values.yaml"))
        where = f"chart {chart.title}"
        if schema_text is None:
            raise GenError(f"{where}: has no values.schema.json; give --chart-schema PATH")
        loaded = yaml.safe_load(defaults_text) if defaults_text is not None else None
        return cls.build(chart.archive.path, schema_text, loaded if isinstance(loaded, dict) else None, where)

    @classmethod
    def build(cls, path: Path, text: bytes, defaults: dict[str, Any] | None, where: str) -> ChartSchema:
        try:
            schema = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise GenError(f"{where}: not a JSON schema: {exc}") from None
        if not isinstance(schema, dict):
            raise GenError(f"{where}: not a JSON schema: the top level must be an object")
        if defaults is None:
            schema = _without_required(schema)
        import jsonschema  # a quarter of gen's start-up: imported only when something is checked

        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        return cls(path=path, validator=with_ecma_patterns(validator_class)(schema), defaults=defaults)

    def problems(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """(path below spec.values, message) for each violation of the values merged over the defaults."""
        merged = deep_merge(self.defaults, values) if self.defaults is not None else values
        found = {(dotted(["spec", "values", *e.absolute_path]), _message(e)) for e in self.validator.iter_errors(merged)}
        # The chart's schema leaves its top level open, so Helm would silently ignore a misspelt section.
        known = self.validator.schema.get("properties")
        unknown = sorted(str(key) for key in values if isinstance(known, dict) and key not in known)
        if unknown:
            found.add(("spec.values", f"unknown key(s) {', '.join(unknown)}; the chart has no such values and "
                                      "Helm would ignore them silently"))
        return sorted(found)


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, short: a long instance is cut, unknown keys are named with what is allowed."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted((error.schema or {}).get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        listed = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        return f"unknown key(s) {', '.join(unknown)}; allowed: {listed or 'none'}"
    if error.validator == "pattern":
        return f"{show(error.instance)} does not match {error.validator_value}"
    return error.message if len(error.message) <= 200 else error.message[:197] + "..."


# --- one object ----------------------------------------------------------------------------------

VALID, INVALID, UNCHECKED = "valid", "invalid", "not checked"
_NO_CRD = "not checked: no CRD for "


@dataclass(frozen=True)
class Validators:
    """Everything one run validates against."""

    kube_version: str
    crds: dict[tuple[str, str], jsonschema.Draft4Validator] = field(default_factory=dict)
    chart: ChartSchema | None = None


def _is_custom(api_version: str) -> bool:
    """A group with a dot outside *.k8s.io is never built in (kubernetes-validate would guess by prefix)."""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def _schema_dir(version: str) -> str:
    """kubernetes-validate's strict schema folder for Kubernetes X.Y."""
    from kubernetes_validate import utils

    full = next(v for v in utils.all_versions() if ".".join(v.split(".")[:2]) == version)
    return f"kubernetes-json-schema/v{full}-local-strict"


@cache
def _definitions(version: str) -> Any:
    from kubernetes_validate import utils

    return utils.schema_contents(f"{_schema_dir(version)}/_definitions.json", version)


@cache
def _core_validator(version: str, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    """kubernetes-validate's strict schema for one kind, built once per run rather than once per object
    (its `validate` re-reads the multi-megabyte definitions file on every call). None: not a core kind."""
    import jsonschema  # a quarter of gen's start-up: imported only when something is checked
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    # As kubernetes-validate names its files: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{_schema_dir(version)}/{kind.lower()}-{group_version}.json", version)
    except FileNotFoundError:
        return None
    registry = Resource.from_contents(schema) @ Registry()
    registry = Resource.from_contents(_definitions(version)) @ registry
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _core_problems(obj: dict[str, Any], version: str) -> tuple[str, list[tuple[str, str]]]:
    validator = _core_validator(version, obj["apiVersion"], obj["kind"])
    if validator is None:
        return UNCHECKED, [("apiVersion", f"not checked: Kubernetes {version} has no {obj.get('apiVersion')} "
                                          f"{obj.get('kind')}; pass its CRD with --crds")]
    found = sorted({(dotted(list(e.absolute_path)), _message(e)) for e in validator.iter_errors(obj)})
    return (INVALID if found else VALID), found


def check_object(obj: Any, validators: Validators) -> tuple[str, list[tuple[str, str]]]:
    """(verdict, [(path, message)]) for one object: valid, invalid, or not checked."""
    if not isinstance(obj, dict) or not isinstance(obj.get("apiVersion"), str) or not isinstance(obj.get("kind"), str):
        return INVALID, [("(object)", "not a Kubernetes object: apiVersion and kind are required")]
    key = (obj["apiVersion"], obj["kind"])
    verdict = VALID
    if key in validators.crds:
        found = sorted({(dotted(list(e.absolute_path)), _message(e)) for e in validators.crds[key].iter_errors(obj)})
    elif _is_custom(obj["apiVersion"]):
        verdict, found = UNCHECKED, [("apiVersion", f"{_NO_CRD}{key[0]} {key[1]} was given; pass "
                                                    "it with --crds")]
    else:
        verdict, found = _core_problems(obj, validators.kube_version)
    if obj["kind"] in RELEASE_KINDS and validators.chart is not None:
        # The values are checked even when the object itself is not: the chart schema is enough.
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        release_values = spec.get("values") if isinstance(spec.get("values"), dict) else {}
        value_problems = validators.chart.problems(release_values)
        if value_problems:
            return INVALID, [p for p in found if verdict != UNCHECKED] + value_problems
    if verdict == UNCHECKED:
        return verdict, found
    return (INVALID if found else VALID), found


def object_name(obj: Any) -> str:
    """Kind/namespace/name, or Kind/name for a cluster-scoped object."""
    if not isinstance(obj, dict):
        return "(not an object)"
    return object_slug(object_key(obj))


# --- a whole run ---------------------------------------------------------------------------------

@dataclass
class Report:
    """What one `gen validate` run found. `lines` holds problems and not-checked notes in order."""

    overlays: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    objects: int = 0
    valid: int = 0
    unchecked: int = 0
    problems: int = 0
    without_crd: dict[str, int] = field(default_factory=dict)  # "apiVersion Kind" -> objects not checked

    def add(self, lines: Sequence[str], *, problem: bool) -> None:
        self.lines.extend(lines)
        if problem:
            self.problems += len(lines)

    def summary(self) -> str:
        overlays = f"{len(self.overlays)} overlay{'s' if len(self.overlays) != 1 else ''}"
        return (f"gen validate: {self.objects} objects in {overlays} "
                f"({', '.join(self.overlays)}): {self.valid} valid, {self.unchecked} not checked, "
                f"{self.problems} problems")


def _overlay(report: Report, project_dir: Path, overlay: str, validators: Validators) -> None:
    _check_file(report, project_dir, overlay, HYDRATED.as_posix().format(overlay=overlay), validators)


def _check_file(report: Report, project_dir: Path, overlay: str, relative: str, validators: Validators) -> None:
    """Every object of one generated file; `overlay` starts each line (the overlay, or the wiring file)."""
    if not os.path.lexists(project_dir / relative):
        report.add([f"{overlay}: {relative}: missing; run `gen synth` first"], problem=True)
        return
    try:
        # Strictly, like gen.yaml: dist/ may come from a pull request, and an alias bomb must not hang CI;
        # `within`: a link planted there is reported, never followed out of the project.
        docs = load_documents(Path(relative), relative, max_bytes=MANIFESTS_MAX_BYTES, within=project_dir)
    except GenError as exc:
        report.add([f"{overlay}: {line}" for line in exc.problems], problem=True)
        return
    for obj in docs:
        report.objects += 1
        verdict, found = check_object(obj, validators)
        lines = [f"{overlay} {object_name(obj)}: {where}: {what}" for where, what in found]
        if verdict == UNCHECKED and found and found[0][1].startswith(_NO_CRD):
            report.unchecked += 1  # one line for all of them at the end: they are no problem, only unchecked
            kind = f"{obj.get('apiVersion')} {obj.get('kind')}"
            report.without_crd[kind] = report.without_crd.get(kind, 0) + 1
        elif verdict == UNCHECKED:
            report.unchecked += 1
            report.add(lines, problem=False)
        elif verdict == VALID:
            report.valid += 1
        else:
            report.add(lines, problem=True)


def _with_pinned_schema(report: Report, config: Config, validators: Validators, chart_path: Path | None) -> Validators:
    """The pinned chart's own values schema (--chart, the cache, or the repository); without it the values
    go unchecked, said in one line."""
    try:
        chart = render.load_chart(config, chart_path)
    except ChartUnavailable as exc:
        report.add([f"not checked: HelmRelease values: {exc}; give --chart PATH or --chart-schema PATH"],
                   problem=False)
        return validators
    return replace(validators, chart=ChartSchema.from_chart(chart))


def run(config_path: Path, overlays: Sequence[str], validators: Validators, label: str | None = None,
        chart_path: Path | None = None) -> Report:
    """Run the config rules, then validate dist/<overlay>/manifests.yaml for each overlay, dist/database (with a
    CloudNativePG database) and the cluster wiring."""
    report = Report(overlays=tuple(overlays))
    config = None
    try:
        config = config_module.load(config_path, label)
    except ConfigError as exc:
        report.add(exc.problems, problem=True)
    if validators.chart is None and config is not None:
        validators = _with_pinned_schema(report, config, validators, chart_path)
    for overlay in overlays:
        _overlay(report, config_path.parent, overlay, validators)
    if config is not None and sync.separate_database(config):  # dist/database: the CloudNativePG Cluster
        _check_file(report, config_path.parent, "database", DATABASE.as_posix(), validators)
    if config is not None and secret_providers.provider(config) == secret_providers.EXTERNAL_SECRETS:
        _check_file(report, config_path.parent, "secrets", EXTERNAL_SECRETS.as_posix(), validators)
    if config is not None:  # secrets.provider sops: every Secret the release reads, encrypted
        found = secret_files.problems(config, secret_providers.tree_overlays(config))
        report.add([f"secrets: {line}" for line in found], problem=True)
    if config is not None:
        report.add([f"warning: {line}" for line in database.warnings(config) + hardening.warnings(config)
                    + airflow.warnings(config)],
                   problem=False)
    wiring = sync.file_path(config) if config is not None else None
    if wiring:  # clusters/<name>/airflow.yaml: the GitRepository and Kustomization Flux applies first
        _check_file(report, config_path.parent, wiring, wiring, validators)
    if report.without_crd:
        kinds = ", ".join(f"{kind} ({count})" for kind, count in sorted(report.without_crd.items()))
        report.add([f"not checked, no CRD given: {kinds}; pass the CRDs with --crds (Flux's gotk-components.yaml, "
                    f"Traefik's CRDs) to check them too"], problem=False)
    return report
