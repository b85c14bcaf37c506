"""gen import: a hand-made install (a Helm values file, kubectl-applied manifests) becomes a gen project.

The importer reads the values file and the manifests strictly (yamlio), maps what gen owns onto
gen.yaml settings (executor -> overlay, IngressRoute -> ingress, PersistentVolumes and claims ->
storage, *SecretName values -> secrets), passes every other value through to
charts/airflow/values.yaml, and takes every credential out: the credentials come back only as the
Secret manifests the new release reads, for standard output, with the values the running release
uses so its database keeps working. The adoption plan says how Flux takes the release over without
reinstalling it, what changes, and what does not carry over.

Facts: AIRFLOW-CHART.md §2, §3, §5, §6 (chart names, Secret keys, hooks); GITOPS.md §1.2 (HelmRelease).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import config as config_module
from generator import schema
from generator.knowledge import airflow, charts, credentials, sync
from generator.model import ChartPin, Version
from generator.onboarding import scaffold
from generator.onboarding.importing import (
    findings,
    ingresses,
    installed,
    passthrough,
    plan,
    provider,
    read,
    secrets,
    volumes,
)
from generator.plumbing.errors import ConfigError
from generator.plumbing.output import refuse_existing
from generator.plumbing.yamlio import dump_documents, load_generated

PIN_AIRFLOW = charts.CURRENT_AIRFLOW  # what a new project runs when the values name no Airflow version

EXECUTOR_OVERLAYS = {
    airflow.CELERY: airflow.CELERY_EXECUTOR,
    airflow.KUBERNETES: airflow.KUBERNETES_EXECUTOR,
    airflow.MULTI: airflow.CELERY_KUBERNETES_EXECUTOR,
    "KubernetesExecutor,CeleryExecutor": airflow.CELERY_KUBERNETES_EXECUTOR,
    airflow.HYBRID: airflow.CELERY_KUBERNETES_EXECUTOR,
}

# --- assembling -----------------------------------------------------------------------------------

# An image tag names the Airflow it runs only when it starts with an Airflow version: a company build's
# calendar tag (2025.07.1, 25.07) starts with a year.
_VERSION_TAG = re.compile(rf"^(([0-{charts.CURRENT.airflow_below.major}])\.\d+\.\d+)(?![\d.])")
TAG_KEYS = ("defaultAirflowTag", "images.airflow.tag")


def _airflow_version(values: Mapping[str, Any]) -> tuple[str | None, str]:
    version = values.get("airflowVersion")
    if isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version):
        return version, "airflowVersion"
    for key in TAG_KEYS:
        match = _VERSION_TAG.match(str(findings.get(values, key) or ""))
        if match:
            return match[1], key
    return None, ""


def _namespace(objects: list[tuple[str, dict]], given: str | None, found: findings.Found) -> str:
    seen = sorted({d["metadata"]["namespace"] for _, d in objects if isinstance(d["metadata"].get("namespace"), str)})
    if given is not None:
        for where, doc in objects:
            theirs = doc["metadata"].get("namespace")
            if isinstance(theirs, str) and theirs != given:
                found.problems.append(f"{where}: metadata.namespace: is {theirs!r} but --namespace is {given!r}; the "
                                      f"release, its claims and its route live in one namespace")
        return given
    if len(seen) > 1:
        found.problems.append(f"--manifests: objects sit in several namespaces ({', '.join(seen)}); pass the "
                              f"release's with --namespace")
    return seen[0] if seen else "airflow"


def _pinned() -> ChartPin:
    """The chart pin gen writes (scaffold.CHART_PIN), as the model has it."""
    pin = load_generated(scaffold.CHART_PIN)[0]
    return ChartPin(pin["repository"], pin["name"], Version.parse(str(pin["version"])),
                    Version.parse(str(pin["airflowVersion"])))


def _overlay(values: Mapping[str, Any], values_label: str, found: findings.Found) -> tuple[str, Any]:
    """The overlay the install's executor maps to, and that executor."""
    executor = values.get("executor", airflow.CELERY)
    overlay = EXECUTOR_OVERLAYS.get(executor) if isinstance(executor, str) else None
    if overlay is None:
        found.problems.append(f"{values_label}: executor: {schema.show(executor)} has no gen overlay; gen deploys "
                              f"{airflow.CELERY}, {airflow.KUBERNETES} or both ({airflow.MULTI}): set executor to one "
                              f"of them and import again")
        overlay = airflow.CELERY_EXECUTOR
    if "executor" not in values:
        found.notes.append(f"{values_label} sets no executor: the chart's default, {airflow.CELERY}, ran; gen.yaml "
                           f"deploys the {overlay} overlay")
    return overlay, executor


def _version(values: Mapping[str, Any], values_label: str, chart: installed.Installed,
             found: findings.Found) -> str | None:
    """The Airflow the install runs: the values' version, else the installed chart's default (its appVersion)."""
    version_text, version_key = _airflow_version(values)
    if version_text:
        found.origins["airflow.version"] = f"{values_label}: {version_key}"
        return version_text
    if chart.pin is not None:
        found.origins["airflow.version"] = f"chart {chart.pin.name} {chart.pin.version}: appVersion"
        found.notes.append(f"{values_label} names no Airflow version: the installed chart {chart.pin.version}'s "
                           f"default, Airflow {chart.pin.airflow_version}, runs, and gen.yaml keeps it "
                           f"(airflow.version)")
        return str(chart.pin.airflow_version)
    if tags := [key for key in TAG_KEYS if findings.get(values, key) not in (None, "")]:
        shown = schema.show(findings.get(values, tags[0]))
        found.problems.append(f"{values_label}: {tags[0]}: {shown} does not say which Airflow the image runs; add "
                              f"airflowVersion (the Airflow it is built on) to the values file, or give "
                              f"--installed-chart or --installed-version, and import again")
    return None


def _airflow(values: Mapping[str, Any], version_text: str | None, found: findings.Found,
             values_label: str) -> dict[str, Any]:
    """gen.yaml `airflow`: the version the install runs and the image the values name."""
    section: dict[str, Any] = {}
    if version_text:
        section["version"] = version_text
    # A tag that is the version itself is gen's default (defaultAirflowTag follows airflow.version): no setting.
    image = {"repository": values.get("defaultAirflowRepository"),
             "tag": None if str(values.get("defaultAirflowTag")) == version_text else values.get("defaultAirflowTag")}
    image = {k: str(v) for k, v in image.items() if v not in (None, "")}
    if image:
        section["image"] = image
        found.origins.update({f"airflow.image.{k}": f"{values_label}: defaultAirflow{k.title()}" for k in image})
    return section


def _stripped_prefix(ingress: dict[str, Any], major: int, found: findings.Found) -> None:
    """A stripPrefix Middleware: kept on Airflow 2 (prefixMode strip), replaced by a kept prefix on Airflow 3."""
    prefix = ingress.get("pathPrefix")
    if major == 2:
        ingress["prefixMode"] = "strip"
        found.cannot.append(
            f"The route strips {prefix} with a stripPrefix Middleware: Airflow 2's legacy mode, where base_url has "
            f"no path. gen.yaml keeps it (ingress.prefixMode: strip); the supported way on Airflow 2 and 3 is "
            f"prefixMode keep, with base_url https://{ingress.get('host')}{prefix}: set it when you can.")
    else:
        found.cannot.append(
            f"The route strips {prefix} with a stripPrefix Middleware, which Airflow {major} does not "
            f"support (its UI, login pages and execution API need the prefix). gen keeps the prefix (prefixMode "
            f"keep) and sets config.api.base_url to https://{ingress.get('host')}{prefix}; the address users open "
            f"stays the same, and the Middleware is no longer used (delete it after the switch).")


def _executor_settings(values: Mapping[str, Any], overlay: str, executor: Any, major: int,
                       found: findings.Found) -> dict[str, Any]:
    """gen.yaml `overlays` (the hybrid executor on Airflow 2) and `workers` (the Celery replicas)."""
    data: dict[str, Any] = {}
    if overlay == airflow.CELERY_KUBERNETES_EXECUTOR and executor == airflow.HYBRID:
        if major == 2:
            data["overlays"] = {overlay: {"executor": airflow.HYBRID}}
        else:
            found.cannot.append(f"executor {airflow.HYBRID} raises at start-up on Airflow 3: the overlay runs "
                                f"{airflow.MULTI} instead; tasks pick their executor with executor=")
    celery: dict[str, Any] = {}
    if workers := (findings.get(values, "workers.celery.replicas") if findings.has(values, "workers.celery.replicas")
                   else findings.get(values, "workers.replicas")):
        celery["replicas"] = workers
    if overlay != airflow.KUBERNETES_EXECUTOR and _external_broker(values, found):
        celery["broker"] = credentials.EXTERNAL_BROKER
    if celery:
        data["workers"] = {"celery": celery}
    return data


def _external_broker(values: Mapping[str, Any], found: findings.Found) -> bool:
    """redis.enabled false with data.brokerUrl or data.brokerUrlSecretName: Celery talks to a broker of the user's."""
    given = [key for key in ("data.brokerUrl", "data.brokerUrlSecretName") if findings.get(values, key)]
    if findings.get(values, "redis.enabled") is not False or not given:
        return False
    found.notes.append(f"redis.enabled false with {given[0]}: the broker is external, so gen.yaml gets "
                       f"workers.celery.broker external and the chart starts no Redis")
    return True


def _flux(project_dir: Path, overlay: str, flux_cluster: str, flux_url: str | None) -> dict[str, Any]:
    wiring: dict[str, Any] = {"name": flux_cluster, "overlay": overlay, "url": flux_url}
    root = sync.repository_root(project_dir.resolve())
    if root is not None:
        wiring["path"] = project_dir.resolve().relative_to(root).as_posix() or "."
    return {"cluster": wiring}


def _secret_names(values: Mapping[str, Any], release: str) -> dict[str, str]:
    """gen.yaml `secrets`: the user's own Secret names, and new names for the Secrets the release owns."""
    names: dict[str, str] = {}
    for chart_key, setting in secrets.SECRET_NAME_KEYS.items():
        if isinstance(findings.get(values, chart_key), str):
            names[setting] = findings.get(values, chart_key)
        elif setting in secrets.RELEASE_OWNED:
            names[setting] = f"{release}-{credentials.spec(setting).suffix}-{secrets.RENAMED_SUFFIX}"
    return names


def _distribution(objects: list[tuple[str, dict]], given: str | None, found: findings.Found) -> str:
    """--distribution, else what the manifests show (a local-path class applied by hand: kubeadm), else k3s, said
    aloud: the distribution decides the trusted proxies and Traefik's namespace."""
    if given is not None:
        return given
    if "rancher.io/local-path" in {d.get("provisioner") for _, d in objects if d["kind"] == "StorageClass"}:
        return "kubeadm"
    found.cannot.append("Neither --distribution nor the manifests say which Kubernetes distribution runs the release: "
                        "gen.yaml gets gen's default, cluster.distribution k3s, which trusts forwarded headers from "
                        "k3s's pod network (10.42.0.0/16) and looks for Traefik in kube-system. Way through: import "
                        "again with --distribution (k3s, kubeadm, kind or minikube), or set cluster.distribution "
                        "and ingress.trustedProxies before the first reconcile.")
    return "k3s"


def _database(values: Mapping[str, Any], values_label: str, found: findings.Found) -> dict[str, Any]:
    """gen.yaml `database`: external when the chart's PostgreSQL is off and the values name another server."""
    if findings.get(values, "postgresql.enabled") is not False:
        return {}
    connection = findings.get(values, "data.metadataConnection")
    host = connection.get("host") if isinstance(connection, Mapping) else None
    if not host:
        if not findings.get(values, "data.metadataSecretName"):
            found.problems.append(f"{values_label}: postgresql.enabled: is false but the values name no database "
                                  f"(data.metadataConnection or data.metadataSecretName); name the one Airflow uses")
            return {}
        found.problems.append(f"{values_label}: data.metadataSecretName: the external database's connection is only "
                              f"in that Secret, and gen.yaml needs its server: add data.metadataConnection.host (and "
                              f"port) to the values file and import again")
        return {}
    external: dict[str, Any] = {"host": str(host)}
    for key in ("port", "sslmode"):
        if connection.get(key) is not None:
            external[key] = connection[key]
    found.origins["database.external"] = f"{values_label}: data.metadataConnection"
    found.notes.append("postgresql.enabled false with data.metadataConnection: the database is external, so gen.yaml "
                       "gets database.type external and starts no PostgreSQL of the chart's")
    names = {key: connection.get(source) for key, source in (("name", "db"), ("user", "user"))}
    return {"type": "external", **{k: v for k, v in names.items() if isinstance(v, str) and v != "postgres"},
            "external": external}


def _installed_postgresql(values: dict[str, Any], chart: installed.Installed, found: findings.Found) -> dict[str, Any]:
    """The values as they ran: an installed chart that pins its bundled PostgreSQL's image (PostgreSQL 11 up to
    chart 1.11) gets that pin written out, so the adopted release keeps the major its data files are in."""
    tag = charts.bundled_postgresql_tag(chart.version) if chart.version else None
    if (tag is None or findings.get(values, "postgresql.enabled") is False
            or findings.get(values, "postgresql.image.tag") is not None):
        return values
    found.notes.append(f"the values pin no postgresql.image.tag: chart {chart.version} runs its bundled PostgreSQL "
                       f"from image tag {tag!r}, so charts/airflow/values.yaml pins postgresql.image.tag {tag!r}")
    postgresql = dict(values.get("postgresql") or {})
    postgresql["image"] = {**dict(postgresql.get("image") or {}), "tag": tag}
    return {**values, "postgresql": postgresql}


@dataclass(frozen=True)
class _Mapped:
    """gen.yaml's settings as read from the inputs, before the values are split."""

    data: dict[str, Any]
    overlay: str
    executor: Any
    used: frozenset[str]
    version_text: str | None
    chart_route: bool  # the route came from the chart's ingress.* values, which gen's Ingress replaces


def _map(values: dict[str, Any], objects: list[tuple[str, dict]], found: findings.Found, *, values_label: str,
         project_dir: Path, release: str | None, namespace: str | None, distribution: str | None,
         flux_cluster: str | None, flux_url: str | None, chart: installed.Installed) -> _Mapped:
    """The gen.yaml settings the inputs give, section by section."""
    namespace = _namespace(objects, namespace, found)
    route = ingresses.route(objects, values, release, found)
    ingress, stripped = route.settings, route.stripped
    release = release or route.implied_release or "airflow"
    overlay, executor = _overlay(values, values_label, found)
    version_text = _version(values, values_label, chart, found)
    major = (Version.parse(version_text) if version_text else PIN_AIRFLOW).major
    data: dict[str, Any] = {"namespace": namespace, "release": release}
    found.origins["namespace"] = "--namespace or the manifests' metadata.namespace"
    found.origins["release"] = "--release or the route's service"
    data["cluster"] = {"distribution": _distribution(objects, distribution, found)}
    if database := _database(values, values_label, found):
        data["database"] = database
    if section := _airflow(values, version_text, found, values_label):
        data["airflow"] = section
    storage, storage_used = volumes.storage(objects, values, release, namespace, found)
    if storage:
        data["storage"] = storage
    if stripped:
        _stripped_prefix(ingress, major, found)
    # An unreadable route is already one problem; `false` keeps the schema from saying it a second time.
    data["ingress"] = ingress if ingress != {} else False
    data.update(_executor_settings(values, overlay, executor, major, found))
    if flux_cluster is not None:
        data["flux"] = _flux(project_dir, overlay, flux_cluster, flux_url)
    data["secrets"] = _secret_names(values, release)
    return _Mapped(data, overlay, executor, frozenset(route.used + tuple(storage_used)), version_text,
                   route.chart_values)


def _files(mapped: _Mapped, values_label: str, base: Mapping[str, Any]) -> dict[str, str]:
    return {
        scaffold.GEN_YAML: _gen_yaml(mapped.data, values_label, mapped.overlay, mapped.executor),
        # the newest release that runs the imported Airflow version
        str(config_module.CHART_PIN): scaffold.chart_pin(Version.parse(mapped.version_text)
                                                         if mapped.version_text else None),
        str(config_module.BASE_VALUES): scaffold.VALUES_HEADER + (dump_documents([dict(base)]) if base else ""),
    }


def _with_overlay_values(data: dict[str, Any], overlay: str, kept: Mapping[str, Any]) -> dict[str, Any]:
    """gen.yaml with the installed values another overlay generates, kept for the imported overlay only."""
    if not kept:
        return data
    overlays = dict(data.get("overlays") or {})
    overlays[overlay] = {**overlays.get(overlay, {}), "values": dict(kept)}
    return {**data, "overlays": overlays}


def build(values: dict[str, Any], objects: list[tuple[str, dict]], *, values_label: str, project_dir: Path,
          release: str | None = None, namespace: str | None = None, distribution: str | None = None,
          flux_cluster: str | None = None, flux_url: str | None = None, chart_path: Path | None = None,
          installed_chart: Path | None = None, installed_version: str | None = None,
          secrets_settings: Mapping[str, Any] | None = None) -> findings.Imported:
    """Map the inputs onto a gen project; raise ConfigError with every problem at once.

    `secrets_settings` are gen.yaml's `secrets.provider` and its settings (provider.settings)."""
    found = findings.Found()
    chart = installed.find(installed_chart, installed_version, _pinned())
    values = _installed_postgresql(values, chart, found)
    mapped = _map(values, objects, found, values_label=values_label, project_dir=project_dir, release=release,
                  namespace=namespace, distribution=distribution, flux_cluster=flux_cluster, flux_url=flux_url,
                  chart=chart)
    if secrets_settings:
        mapped.data["secrets"] = {**secrets_settings, **mapped.data["secrets"]}
        found.origins.update(provider.origins(str(secrets_settings["provider"])))
    problems = _schema_problems(mapped.data, found)
    if found.problems or problems:
        raise ConfigError(found.problems + problems)
    # The keys gen owns depend on the settings (git-sync, remote logs, the database): load the project once
    # without the installed values to learn them, then again with the values that pass through.
    settings_only = scaffold.check(project_dir, _files(mapped, values_label, {}))
    # Keys the pinned release deprecated go to their homes there, as gen upgrade would move them.
    current, moves = charts.with_moves(values, settings_only.chart.version)
    found.notes.extend(f"moved {line}" for line in moves)
    split = passthrough.split_values(current, settings_only, mapped.overlay, found,
                                     {"ingress": "ingress (gen's Ingress)"} if mapped.chart_route else None)
    mapped = dataclasses.replace(mapped, data=_with_overlay_values(mapped.data, mapped.overlay, split.overlay))
    files = _files(mapped, values_label, split.base)
    config = scaffold.check(project_dir, files)
    secrets_out = tuple(secrets.secret_manifests(values, config, mapped.overlay))
    rendered = plan.rendered_change(config, mapped.overlay, values, chart_path, chart)
    plan_lines = plan.plan(plan.PlanInput(config, mapped.overlay, values, tuple(objects), mapped.used, split, found,
                                          secrets_out, mapped.version_text, rendered))
    return findings.Imported(files=files, secrets=[s for s, _ in secrets_out], plan=plan_lines,
                             overlay=mapped.overlay, config=config)


def _schema_problems(data: dict[str, Any], found: findings.Found) -> list[str]:
    """The schema's verdict on the assembled gen.yaml, each line naming the input the value came from."""
    lines = []
    for line in schema.problems(schema.load("config"), data, "gen.yaml"):
        path, _, message = line.removeprefix("gen.yaml: ").partition(": ")
        origin = next((found.origins[k] for k in sorted(found.origins, key=len, reverse=True)
                       if path == k or path.startswith(k + ".") or path.startswith(k + "[")), None)
        lines.append(f"{origin}: becomes gen.yaml {path}: {message}" if origin else f"gen.yaml: {path}: {message}")
    return lines


SECTION_ORDER = ("namespace", "release", "cluster", "airflow", "storage", "ingress", "database", "flux", "workers",
                 "overlays", "secrets")


def _gen_yaml(data: dict[str, Any], values_label: str, overlay: str, executor: Any) -> str:
    head = scaffold.modeline() + (
        f"# gen.yaml: imported by `gen import` from {scaffold.comment_text(values_label)} and the manifests applied by "
        f"hand.\n# Unset settings take their defaults: see docs/configuration.md, or `gen schema`.\n"
        f"# The release ran executor {scaffold.comment_text(str(executor))}: deploy the {overlay} overlay "
        f"(gen synth --overlay {overlay}).\n")
    body = "".join("\n" + dump_documents([{key: data[key]}]) for key in SECTION_ORDER if key in data and data[key] != {})
    return head + body


def write(project_dir: Path, imported: findings.Imported) -> list[Path]:
    return scaffold.write_project(project_dir, imported.files)


@dataclass(frozen=True)
class Result:
    imported: findings.Imported
    written: list[Path]  # the project's files
    secret_lines: list[str]  # secrets.provider sops: what was encrypted, kept and left, for standard error


def run(values_path: Path, manifest_paths: Sequence[Path], project_dir: Path, *, release: str | None = None,
        namespace: str | None = None, distribution: str | None = None, flux_cluster: str | None = None,
        flux_url: str | None = None, chart_path: Path | None = None, installed_chart: Path | None = None,
        installed_version: str | None = None, secrets_settings: Mapping[str, Any] | None = None) -> Result:
    """gen import end to end: read, map, check, then write the project and its Secret files (all or nothing)."""
    refuse_existing(project_dir, [scaffold.GEN_YAML, str(config_module.CHART_PIN), str(config_module.BASE_VALUES)])
    values, objects = read.read(values_path, manifest_paths)
    imported = build(values, objects, values_label=str(values_path), project_dir=project_dir, release=release,
                     namespace=namespace, distribution=distribution, flux_cluster=flux_cluster, flux_url=flux_url,
                     chart_path=chart_path, installed_chart=installed_chart, installed_version=installed_version,
                     secrets_settings=secrets_settings)
    provider.check_tools(imported.config.secrets.provider)
    written = write(project_dir, imported)
    try:
        lines = provider.write(project_dir, imported, str(values_path))
    except BaseException:
        # The Secret files could not be made (or Ctrl-C): the project files this run created go too, so a rerun
        # starts from the same directory. secret_files.write has removed its own.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return Result(imported, written, lines)
