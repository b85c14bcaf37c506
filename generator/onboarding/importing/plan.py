"""gen import, the adoption plan: how Flux takes the release over, what changes, what cannot carry over.

Facts: GITOPS.md §1.2 (HelmRelease).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import schema
from generator.knowledge import airflow, chart_values, cluster, credentials, names
from generator.model import Config
from generator.onboarding.importing import findings, secrets
from generator.plumbing import values as helm_values
from generator.review import render, rendered_diff
from generator.review.chart_source import ChartUnavailable
from generator.synth import overlays


def _values_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    old_leaves = {".".join(p): v for p, v in helm_values.leaves(old)}
    new_leaves = {".".join(p): v for p, v in helm_values.leaves(new)}
    lines = []
    for key in sorted(set(old_leaves) | set(new_leaves)):
        if key not in new_leaves:
            lines.append(f"  - {key}: {secrets.show_value(key, old_leaves[key])} (removed)")
        elif key not in old_leaves:
            lines.append(f"  + {key}: {secrets.show_value(key, new_leaves[key])}")
        elif old_leaves[key] != new_leaves[key]:
            lines.append(f"  ~ {key}: {secrets.show_value(key, old_leaves[key])} -> {secrets.show_value(key, new_leaves[key])}")
    return lines


def release_values(config: Config, overlay: str) -> dict[str, Any]:
    """The values the overlay's HelmRelease gives the chart: base values, gen's, then the overlay's delta."""
    generated = {key: value for key, (value, _origin) in chart_values.base_values(config).items()}
    base = helm_values.deep_merge(config.base_values, helm_values.unflatten(generated))
    return helm_values.deep_merge(base, overlays.patch_values(overlay, config))


def rendered_change(config: Config, overlay: str, values: Mapping[str, Any], chart_path: Path | None) -> list[str]:
    """The chart's objects as installed (the values file) against what the new release renders, field by field."""
    try:
        chart = render.load_chart(config, chart_path)
    except ChartUnavailable as exc:
        return [f"  The chart's objects were not rendered ({exc.problems[0]}); give --chart PATH (the chart's "
                f".tgz) to see which objects change, or run `gen diff` / `gen render` later."]
    installed = render.Release(config.release, config.namespace, dict(values))
    try:
        before = render.OverlayRender(overlay, [
            render.RenderedObject(overlay, source, obj, config.namespace)
            for source, obj in chart.objects(installed, render.DEFAULT_KUBE_VERSION, cached=False)], installed)
    except render.RenderError as exc:
        return [f"  The installed values do not render with chart {config.chart.version}: {exc.problems[0]}"]
    after = render.config_renders(config, [overlay], chart)[overlay]
    section = rendered_diff.compare(overlay, before, after)
    title = f"  The chart's objects, rendered by chart {config.chart.version} from the installed values and from the new:"
    summary = [f"    {secrets.masked(line, values)}" for line in rendered_diff.summary_lines(section)]
    return [title] + (summary or ["    (no object changes)"])


def plan(config: Config, overlay: str, values: Mapping[str, Any], objects: list[tuple[str, dict]], used: list[str],
          passed: list[str], left_credentials: list[str], mapped: list[str], found: findings.Found,
          secrets_out: list[tuple[dict[str, Any], str]], version_text: str | None, values_label: str,
          rendered: list[str]) -> list[str]:
    ns, release = config.namespace, config.release
    dist = f"dist/{overlay}"
    lines = [f"gen: adoption plan for Helm release {release} in namespace {ns}: overlay {overlay}, chart "
             f"{config.chart.name} {config.chart.version}", ""]
    lines += [
        "1. Flux takes the release over without reinstalling it",
        f"  - {dist} holds a Flux HelmRelease {ns}/{names.helm_release(release)} with spec.releaseName {release}; "
        f"Helm's release records stay in namespace {ns} (storageNamespace defaults to the HelmRelease's namespace, "
        f"where `helm install -n {ns}` put them). helm-controller finds release {release} there and upgrades it "
        f"instead of installing a new one: same release, same objects, same claims.",
        f"  - Before the first reconcile: `helm status {release} -n {ns}` must say deployed (fix a failed or pending "
        f"release with `helm rollback {release} -n {ns}` first), and `helm upgrade` by hand stops for good.",
        f"  - Flux needs its controllers in the cluster (flux install or flux bootstrap), the chart repository "
        f"{config.chart.repository} reachable, the Secrets printed on standard output applied in {ns}, and a "
        f"Kustomization that applies {dist}" + (f" (gen synth writes it: clusters/{config.flux.cluster.name}/airflow.yaml)."
                                                if config.flux.cluster else " (set flux.cluster in gen.yaml and gen synth writes it)."),
        "  - The first reconcile is a Helm upgrade of the running release to the values under 3 (RetryOnFailure: "
        "never a rollback of the database).",
        "",
        "2. The volumes keep their data",
    ]
    lines += [f"  - {line}" for line in found.plan_volumes]
    postgres_claim = f"data-{release}-postgresql-0"
    lines.append(f"  - The bundled PostgreSQL keeps its claim {ns}/{postgres_claim}: the release name is the same, so "
                 f"the StatefulSet and its claim are the same objects.")
    for where, doc in objects:
        if doc["kind"] == "StorageClass" and doc["metadata"]["name"] == config.storage.class_name:
            used.append(where)
            lines.append(f"  - {findings.describe(doc)}: gen writes its own class of that name (kubernetes.io/no-provisioner, "
                         f"reclaimPolicy {config.storage.reclaim_policy}) with Flux's force annotation: Flux recreates "
                         f"it where the fields differ; volumes already bound keep their data.")
        elif doc["kind"] == "StorageClass" and doc.get("provisioner") == "rancher.io/local-path":
            used.append(where)
            if cluster.profile(config).gen_installs_provisioner:
                lines.append(f"  - {findings.describe(doc)}: cluster.distribution {config.cluster.distribution}: gen installs "
                             f"local-path-provisioner through Flux, with this class; it takes over the copy you "
                             f"applied by hand.")
            else:
                lines.append(f"  - {findings.describe(doc)}: {config.cluster.distribution} ships local-path itself; gen "
                             f"leaves this class alone.")
        elif doc["kind"] == "Namespace" and doc["metadata"]["name"] == ns:
            used.append(where)
    lines += ["", "3. What changes on the running release (its values, as dotted keys; <credential> marks a value "
                  "that now comes from a Secret)"]
    service = airflow.ui_service(release, config.airflow_version)
    if found.route_service and found.route_service != service:
        lines.append(f"  - The route now sends requests to Service {service} (it sent them to "
                     f"{found.route_service}): on Airflow {config.airflow_version.major} the chart serves the UI "
                     f"from it.")
    new = release_values(config, overlay)
    lines += _values_diff(values, new) or ["  (no value changes)"]
    lines += rendered
    lines += ["", "4. What cannot carry over, and the way through"]
    cannot = list(found.cannot)
    if version_text is None:
        cannot.insert(0, f"The values name no Airflow version, so the running one is the default of the chart you "
                         f"installed (chart 1.10.0: Airflow 2.6.2); gen pins chart {config.chart.version}, whose "
                         f"default is Airflow {config.chart.airflow_version}. Adopting as written upgrades Airflow, "
                         f"migrating the database with no way back. Way through: to keep your version, set "
                         f"airflow.version in gen.yaml to the APP VERSION `helm list -n {ns}` shows (chart "
                         f"{config.chart.version} renders Airflow 2 and 3); to upgrade, back the database up first.")
    tag = findings.get(values, "postgresql.image.tag")
    if tag is not None and re.match(r"^(\d+)", str(tag)) and int(re.match(r"^(\d+)", str(tag))[1]) < 16:
        major = re.match(r"^(\d+)", str(tag))[1]
        cannot.append(f"postgresql.image.tag {schema.show(tag)}: the database files are PostgreSQL {major}; chart "
                      f"{config.chart.version} bundles PostgreSQL 16, which cannot open them. gen keeps the pin in "
                      f"charts/airflow/values.yaml so the adopted release runs the same major on the same files (check "
                      f"that the image {findings.get(values, 'postgresql.image.repository') or 'bitnamilegacy/postgresql'}:"
                      f"{tag} can be pulled). Way through to 16: pg_dumpall from the running pod, then restore into a "
                      f"fresh PostgreSQL 16 volume, then remove the pin.")
    lines += [f"  - {line}" for line in cannot] or ["  (nothing)"]
    lines += ["", "5. Credentials (printed on standard output as Secrets, in no written file)"]
    for secret, source in secrets_out:
        lines.append(f"  - Secret {secret['metadata']['namespace']}/{secret['metadata']['name']} "
                     f"({', '.join(sorted(secret['stringData']))}): from {source}")
    for setting in secrets.HOOK_OWNED:
        spec = credentials.spec(setting)
        name = credentials.name(config, spec)
        if any(s.setting == setting for s, _ in credentials.required(config, [overlay])) and \
                not any(secret["metadata"]["name"] == name for secret, _ in secrets_out) and \
                not (spec.chart_key and findings.get(values, spec.chart_key)):
            lines.append(f"  - Secret {ns}/{name}: the chart made it once at install (a Helm hook, which upgrades "
                         f"never delete) and the new release reads it under the same name: keep it, never replace it"
                         + (" (it encrypts the connections and variables in the database)"
                            if setting == "fernetKey" else ""))
    if left_credentials:
        lines.append(f"  - left out of every written file: {', '.join(left_credentials)}")
    renamed = [f"{ns}/{name}" for spec, name in credentials.required(config, [overlay])
               if spec.setting in secrets.RELEASE_OWNED and name.endswith(f"-{secrets.RENAMED_SUFFIX}")]
    if renamed:
        lines.append(f"  - New names ({', '.join(renamed)}): the chart's own Secrets of the default names belong to "
                     f"the release, and Helm deletes them in the upgrade once gen names Secrets instead.")
    lines.append("  - Rotate these credentials once the release runs under Flux: they were in plain text.")
    lines += ["", "6. Not mapped"]
    if passed:
        lines.append(f"  - passed through unchanged to charts/airflow/values.yaml: {', '.join(passed)}")
    if mapped:
        lines.append(f"  - values gen generates itself, read for their meaning and left out: {', '.join(mapped)}")
    lines += [f"  - {line}" for line in found.left_out]
    for where, doc in objects:
        if where not in used:
            lines.append(f"  - {where}: not mapped; gen writes no object of this kind, keep applying it by hand")
    lines += [f"  - note: {line}" for line in found.notes]
    return lines
