"""gen import, the adoption plan: how Flux takes the release over, what changes, what cannot carry over.

Facts: GITOPS.md §1.2 (HelmRelease).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import schema
from generator.knowledge import airflow, changes, chart_values, charts, cluster, credentials, database, names
from generator.model import Config
from generator.onboarding.importing import findings, installed, passthrough, provider, secrets
from generator.plumbing.errors import ConfigError
from generator.plumbing.objects import UNSET, changed_leaves
from generator.review import render, rendered_diff, renders
from generator.review.chart_source import ChartUnavailable


@dataclass(frozen=True)
class PlanInput:
    """Everything the adoption plan reports on; the plan reads it and changes none of it."""

    config: Config
    overlay: str
    values: Mapping[str, Any]  # the installed values
    objects: tuple[tuple[str, dict], ...]  # the manifests' objects, each with where it came from
    used: frozenset[str]  # the objects mapped onto gen.yaml
    split: passthrough.Split
    found: findings.Found
    secrets_out: tuple[tuple[dict[str, Any], str], ...]  # the Secrets for standard output, with their source
    version_text: str | None  # the Airflow version the values name, if any
    rendered: Rendered  # the rendered change and the danger rules' findings on it


def _moved_to(key: str, moves: Sequence[charts.Move]) -> tuple[str, ...]:
    """The new homes of a dotted key that a chart release moved (workers.persistence.size under 1.19), else ()."""
    for move in moves:
        if key == move.old or key.startswith(move.old + "."):
            return tuple(home + key[len(move.old):] for home in move.homes)
    return ()


def _values_diff(old: Mapping[str, Any], new: Mapping[str, Any], owned: Mapping[str, str],
                 moves: Sequence[charts.Move]) -> list[str]:
    """Leaf by leaf; a key gen now generates says what generates it (why it changed), and a key a chart release
    moved, whose value its new home keeps, is one move line instead of a removal and an addition."""
    changed = list(changed_leaves(old, new, leaves=True))
    added = {".".join(path): now for path, was, now in changed if was is UNSET}
    moved: dict[str, tuple[str, ...]] = {}
    for path, was, now in changed:
        homes = _moved_to(".".join(path), moves) if now is UNSET else ()
        if homes and all(home in added and added[home] == was for home in homes):
            moved[".".join(path)] = homes
    taken = {home for homes in moved.values() for home in homes}
    lines = []
    for path, was, now in changed:
        key = ".".join(path)
        why = f" (gen generates it, from {owned[key]})" if key in owned else ""
        if key in moved:
            lines.append(f"  moved: {key} -> {' and '.join(moved[key])}")
        elif key in taken:
            continue
        elif now is UNSET:
            lines.append(f"  - {key}: {secrets.show_value(key, was)} (removed){why}")
        elif was is UNSET:
            lines.append(f"  + {key}: {secrets.show_value(key, now)}")
        else:
            lines.append(f"  ~ {key}: {secrets.show_value(key, was)} -> {secrets.show_value(key, now)}{why}")
    return lines


@dataclass(frozen=True)
class Rendered:
    """The rendered change as plan lines, and the danger rules' findings on it."""

    lines: tuple[str, ...]
    dangers: tuple[str, ...] | None  # None: not checked (the chart's objects were not rendered)


def rendered_change(config: Config, overlay: str, values: Mapping[str, Any], chart_path: Path | None,
                    installed_chart: installed.Installed) -> Rendered:
    """The chart's objects as installed (the values file, rendered by the installed chart) against what the new
    release renders, field by field, and what gen diff's danger rules say about that change."""
    try:
        chart = render.load_chart(config, chart_path)
    except ChartUnavailable as exc:
        return Rendered((f"  The chart's objects were not rendered ({exc.problems[0]}); give --chart PATH (the "
                         f"chart's .tgz) to see which objects change, or run `gen diff` / `gen render` later.",), None)
    old_chart = installed_chart.chart or chart
    release = render.Release(config.release, config.namespace, dict(values))
    try:
        before = renders.OverlayRender(overlay, [
            renders.RenderedObject(overlay, source, obj, config.namespace)
            for source, obj in old_chart.objects(release, render.DEFAULT_KUBE_VERSION, cached=False)], release)
    except render.RenderError as exc:
        return Rendered((f"  The installed values do not render with chart {old_chart.version}: "
                         f"{exc.problems[0]}",), None)
    try:
        after = renders.config_renders(config, [overlay], chart)[overlay]
    except render.RenderError as exc:  # a project that cannot deploy is no import: nothing is written
        raise ConfigError([f"the imported values do not render with the pinned chart {config.chart.version}, so "
                           f"nothing is written; fix the values file and import again: {secrets.masked(problem, values)}"
                           for problem in exc.problems]) from None
    section = rendered_diff.compare(overlay, before, after)
    # Without the installed chart the pinned one stands in for it: every finding says so, never hides it.
    stand_in = "" if installed_chart.chart else (f" [stand-in: {installed_chart.missing}; the installed values "
                                                 f"rendered by the pinned chart {config.chart.version}]")
    title = (f"  The chart's objects, rendered from the installed values by chart {old_chart.version} and from the "
             f"new by chart {config.chart.version}{stand_in}:")
    summary = [f"    {secrets.masked(line, values)}" for line in rendered_diff.summary_lines(section)]
    dangers = [f"  - {secrets.masked(finding.line, values)}{stand_in}"
               for finding in changes.classify(overlay, before.chart_objects, after.chart_objects, None, config)]
    return Rendered(tuple([title] + (summary or ["    (no object changes)"])), tuple(dangers))


def _dangers(given: PlanInput) -> list[str]:
    """gen diff's danger rules on the rendered change, first: what the API server refuses, what risks data."""
    lines = ["0. Danger: changes the API server refuses or that risk data (gen diff's rules on the rendered change)"]
    if given.rendered.dangers is None:
        return lines + ["  (not checked: the chart's objects were not rendered; give --chart PATH)"]
    return lines + (list(given.rendered.dangers) or ["  (none)"])


def _takeover(config: Config, overlay: str) -> list[str]:
    ns, release = config.namespace, config.release
    dist = f"dist/{overlay}"
    wiring = (f" (gen synth writes it: clusters/{config.flux.cluster.name}/airflow.yaml)." if config.flux.cluster
              else " (set flux.cluster in gen.yaml and gen synth writes it).")
    return [
        "1. Flux takes the release over without reinstalling it",
        f"  - {dist} holds a Flux HelmRelease {ns}/{names.helm_release(release)} with spec.releaseName {release}; "
        f"Helm's release records stay in namespace {ns} (storageNamespace defaults to the HelmRelease's namespace, "
        f"where `helm install -n {ns}` put them). helm-controller finds release {release} there and upgrades it "
        f"instead of installing a new one: same release, same objects, same claims.",
        f"  - Before the first reconcile: `helm status {release} -n {ns}` must say deployed (fix a failed or pending "
        f"release with `helm rollback {release} -n {ns}` first), and `helm upgrade` by hand stops for good.",
        f"  - Flux needs its controllers in the cluster (flux install or flux bootstrap), the chart repository "
        f"{config.chart.repository} reachable, {provider.plan_phrases(config)[1]}, and a "
        f"Kustomization that applies {dist}" + wiring,
        "  - The first reconcile is a Helm upgrade of the running release to the values under 3 (RetryOnFailure: "
        "never a rollback of the database).",
    ]


def _classes(config: Config, objects: tuple[tuple[str, dict], ...]) -> tuple[list[str], set[str]]:
    """Plan lines for the StorageClasses (and the release's Namespace) gen takes over, and the objects it used."""
    lines, used = [], set()
    for where, doc in objects:
        if doc["kind"] == "StorageClass" and doc["metadata"]["name"] == config.storage.class_name:
            lines.append(f"  - {findings.describe(doc)}: gen writes its own class of that name "
                         f"(kubernetes.io/no-provisioner, reclaimPolicy {config.storage.reclaim_policy}) with Flux's "
                         f"force annotation: Flux recreates it where the fields differ; volumes already bound keep "
                         f"their data.")
        elif doc["kind"] == "StorageClass" and doc.get("provisioner") == "rancher.io/local-path":
            if cluster.profile(config).gen_installs_provisioner:
                lines.append(f"  - {findings.describe(doc)}: cluster.distribution {config.cluster.distribution}: gen "
                             f"installs local-path-provisioner through Flux, with this class; it takes over the copy "
                             f"you applied by hand.")
            else:
                lines.append(f"  - {findings.describe(doc)}: {config.cluster.distribution} ships local-path itself; "
                             f"gen leaves this class alone.")
        elif not (doc["kind"] == "Namespace" and doc["metadata"]["name"] == config.namespace):
            continue
        used.add(where)
    return lines, used


def _volumes(given: PlanInput, class_lines: list[str]) -> list[str]:
    config = given.config
    lines = ["2. The volumes keep their data"] + [f"  - {line}" for line in given.found.plan_volumes]
    if database.uses_bundled(config):
        lines.append(f"  - The bundled PostgreSQL keeps its claim {config.namespace}/data-{config.release}-postgresql-0: "
                     f"the release name is the same, so the StatefulSet and its claim are the same objects.")
    return lines + class_lines


def _changes(given: PlanInput) -> list[str]:
    config, found = given.config, given.found
    lines = ["3. What changes on the running release (its values, as dotted keys; <credential> marks a value "
             "that now comes from a Secret)"]
    service = airflow.ui_service(config.release, config.airflow_version)
    if found.route_service and found.route_service != service:
        lines.append(f"  - The route now sends requests to Service {service} (it sent them to "
                     f"{found.route_service}): on Airflow {config.airflow_version.major} the chart serves the UI "
                     f"from it.")
    new = chart_values.release_values(config, given.overlay)
    moves = charts.moves_until(config.chart.version)
    return lines + (_values_diff(given.values, new, given.split.owned, moves) or ["  (no value changes)"]) + \
        list(given.rendered.lines)


def _postgresql_pin(given: PlanInput) -> list[str]:
    tag = findings.get(given.values, "postgresql.image.tag")
    major = re.match(r"^(\d+)", str(tag)) if tag is not None else None
    if major is None or int(major[1]) >= 16:
        return []
    image = findings.get(given.values, "postgresql.image.repository") or "bitnamilegacy/postgresql"
    return [f"postgresql.image.tag {schema.show(tag)}: the database files are PostgreSQL {major[1]}; chart "
            f"{given.config.chart.version} bundles PostgreSQL 16, which cannot open them. gen keeps the pin in "
            f"charts/airflow/values.yaml so the adopted release runs the same major on the same files (check that the "
            f"image {image}:{tag} can be pulled). Way through to 16: pg_dumpall from the running pod, then restore "
            f"into a fresh PostgreSQL 16 volume, then remove the pin."]


def _cannot(given: PlanInput) -> list[str]:
    config = given.config
    cannot = []
    if given.version_text is None:
        cannot.append(f"The values name no Airflow version and the installed chart is not at hand "
                      f"(--installed-chart PATH or --installed-version X), so gen cannot be certain which Airflow "
                      f"runs: the default of the chart you installed (`helm list -n {config.namespace}` shows it as "
                      f"APP VERSION); gen pins chart "
                      f"{config.chart.version}, whose default is Airflow {config.chart.airflow_version}. Adopting as "
                      f"written may upgrade Airflow, migrating the database with no way back. Way through: to keep your "
                      f"version, set airflow.version in gen.yaml to that APP VERSION (chart {config.chart.version} "
                      f"renders Airflow 2 and 3); to upgrade, back the database up first.")
    cannot += list(given.found.cannot) + _postgresql_pin(given)
    return ["4. What cannot carry over, and the way through"] + ([f"  - {line}" for line in cannot] or ["  (nothing)"])


def _hook_secrets(given: PlanInput) -> list[str]:
    config = given.config
    required = {s.setting for s, _ in credentials.required(config, [given.overlay])}
    printed = {secret["metadata"]["name"] for secret, _ in given.secrets_out}
    lines = []
    for setting in secrets.HOOK_OWNED:
        spec = credentials.spec(setting)
        name = credentials.name(config, spec)
        if setting in required and name not in printed and not (spec.chart_key and
                                                                  findings.get(given.values, spec.chart_key)):
            lines.append(f"  - Secret {config.namespace}/{name}: the chart made it once at install (a Helm hook, which "
                         f"upgrades never delete) and the new release reads it under the same name: keep it, never "
                         f"replace it" + (" (it encrypts the connections and variables in the database)"
                                          if setting == "fernetKey" else "") + provider.plan_phrases(config)[2])
    return lines


def _credentials(given: PlanInput) -> list[str]:
    config = given.config
    lines = [f"5. Credentials ({provider.plan_phrases(config)[0]})"]
    for secret, source in given.secrets_out:
        lines.append(f"  - Secret {secret['metadata']['namespace']}/{secret['metadata']['name']} "
                     f"({', '.join(sorted(secret['stringData']))}): from {source}")
    lines += _hook_secrets(given)
    if given.split.credentials:
        lines.append(f"  - left out of every written file: {', '.join(given.split.credentials)}")
    renamed = [f"{config.namespace}/{name}" for spec, name in credentials.required(config, [given.overlay])
               if spec.setting in secrets.RELEASE_OWNED and name.endswith(f"-{secrets.RENAMED_SUFFIX}")]
    if renamed:
        lines.append(f"  - New names ({', '.join(renamed)}): the chart's own Secrets of the default names belong to "
                     f"the release, and Helm deletes them in the upgrade once gen names Secrets instead.")
    return lines + ["  - Rotate these credentials once the release runs under Flux: they were in plain text."]


def _not_mapped(given: PlanInput, used: set[str]) -> list[str]:
    split, found = given.split, given.found
    lines = ["6. Not mapped"]
    if split.passed:
        lines.append(f"  - passed through unchanged to charts/airflow/values.yaml: {', '.join(split.passed)}")
    if split.moved:
        lines.append(f"  - kept for the {given.overlay} overlay only (overlays.{given.overlay}.values in gen.yaml), "
                     f"since another overlay generates them: {', '.join(split.moved)}")
    if split.owned:
        lines.append(f"  - values gen generates itself, read for their meaning and left out: {', '.join(split.owned)}")
    lines += [f"  - {line}" for line in found.left_out]
    lines += [f"  - {where}: not mapped; gen writes no object of this kind, keep applying it by hand"
              for where, _doc in given.objects if where not in used]
    return lines + [f"  - note: {line}" for line in found.notes]


def plan(given: PlanInput) -> list[str]:
    """The adoption plan, section by section."""
    config = given.config
    class_lines, class_used = _classes(config, given.objects)
    head = [f"gen: adoption plan for Helm release {config.release} in namespace {config.namespace}: overlay "
            f"{given.overlay}, chart {config.chart.name} {config.chart.version}"]
    sections = [_dangers(given), _takeover(config, given.overlay), _volumes(given, class_lines), _changes(given), _cannot(given),
                _credentials(given), _not_mapped(given, set(given.used) | class_used)]
    return head + [line for section in sections for line in ["", *section]]
