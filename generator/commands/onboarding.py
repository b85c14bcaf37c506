"""`gen init`, `gen import`, `gen upgrade`, `gen kind-config` and `gen schema`: start, adopt and move a project."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator import config as config_module
from generator.commands.group import chart_option, config_option
from generator.knowledge import charts
from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.cluster import PROFILES
from generator.model import Version
from generator.onboarding import kindconfig, scaffold
from generator.onboarding import upgrade as upgrade_module
from generator.onboarding.importing import assembly as importing
from generator.onboarding.importing import provider as import_provider
from generator.review import report


def _stdin_is_terminal() -> bool:
    """False too when standard input is closed (`0<&-`): then there is no one to ask."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # a closed stream
        return False


def _ask(value: str | None, option: str, question: str, interactive: bool) -> str:
    """An option's value: as given, asked for on a terminal, or a usage error naming the option."""
    if value is not None:
        return value
    if not interactive:
        raise click.UsageError(f"missing option {option}: {question}")
    return click.prompt(question)


@click.command()
@click.argument("directory", required=False, default=".", metavar="[DIR]", type=click.Path(path_type=Path))
@click.option("--host", metavar="HOST", help="Public host name; Airflow is served at https://HOST/airflow.")
@click.option("--cert-resolver", metavar="NAME", help="ACME certificate resolver of Traefik's static configuration.")
@click.option("--tls-secret", metavar="NAME", help="A kubernetes.io/tls Secret in the release namespace instead.")
@click.option("--distribution", type=click.Choice(sorted(PROFILES)), metavar="D",
              help=f"The Kubernetes distribution: {', '.join(sorted(PROFILES))}. Default: k3s.")
@click.option("--overlay", type=click.Choice(OVERLAYS), metavar="NAME",
              help=f"The executor overlay this deployment runs ({', '.join(OVERLAYS)}); written to gen.yaml as "
                   f"synth.overlays, so gen synth builds only it.")
def init(directory: Path, host: str | None, cert_resolver: str | None, tls_secret: str | None,
         distribution: str | None, overlay: str | None) -> None:
    """Start a project in DIR (default: here): gen.yaml, charts/airflow/chart.yaml and values.yaml.

    Every setting but the host and TLS keeps its default. On a terminal, gen asks for what is missing.
    Nothing is ever overwritten: if any of the files exists, gen names it and writes nothing.
    """
    if cert_resolver is not None and tls_secret is not None:
        raise click.UsageError("--cert-resolver and --tls-secret exclude each other: Traefik gets the certificate "
                               "one way; give one")
    interactive = _stdin_is_terminal()
    host = _ask(host, "--host HOST", "the public host name Airflow is served at (https://HOST/airflow)",
                interactive)
    if cert_resolver is None and tls_secret is None:
        if not interactive:
            raise click.UsageError("missing option --cert-resolver NAME or --tls-secret NAME: how Traefik gets the "
                                   "certificate (an ACME resolver, or a kubernetes.io/tls Secret)")
        cert_resolver = click.prompt("Traefik certificate resolver (empty: use a TLS Secret instead)", default="",
                                     show_default=False) or None
        if cert_resolver is None:
            tls_secret = click.prompt("kubernetes.io/tls Secret in the release namespace")
    written = scaffold.init(directory, host, cert_resolver=cert_resolver, tls_secret=tls_secret,
                            distribution=distribution, overlay=overlay)
    for path in written:
        click.echo(f"gen: wrote {path}")
    command = "gen synth" if directory == Path(".") else f"gen synth --config {directory / 'gen.yaml'}"
    click.echo(f"gen: next: {command}, then commit the result")


@click.command("import")
@click.option("--values", "values_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="The Helm values file the release was installed with (helm install -f FILE).")
@click.option("--manifests", "manifest_paths", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE", help="Manifests applied by hand (repeatable): PersistentVolumes and claims, "
                                   "StorageClasses, the route (a Traefik IngressRoute and Middlewares, an "
                                   "Ingress or an HTTPRoute).")
@click.option("--release", metavar="NAME", help="The Helm release name. Default: from the route's service, "
                                                "else airflow.")
@click.option("--namespace", metavar="NS", help="The release namespace. Default: the manifests' namespace, "
                                                "else airflow.")
@click.option("--distribution", type=click.Choice(sorted(PROFILES)), metavar="D",
              help="The Kubernetes distribution. Default: kubeadm when the manifests install local-path, else k3s.")
@click.option("--flux-cluster", metavar="NAME", help="Also write flux.cluster for this cluster name, with the "
                                                     "imported overlay (needs --flux-url).")
@click.option("--flux-url", metavar="URL", help="The Git URL Flux clones this project from (with --flux-cluster).")
@chart_option
@click.option("--installed-chart", "installed_chart", type=click.Path(path_type=Path), metavar="PATH",
              help="The chart the release runs now (.tgz or directory): the plan renders the installed values with "
                   "it, and its appVersion is the Airflow version when the values name none.")
@click.option("--installed-version", "installed_version", metavar="X",
              help="The chart version the release runs now (CHART in `helm list`), taken from the cache or the chart "
                   "repository. Without either, the pinned chart stands in and the plan says so.")
@click.option("--secrets-provider", type=click.Choice(import_provider.PROVIDERS), default="manual", show_default=True,
              help="secrets.provider of the new project: sops writes the install's credentials encrypted to "
                   "secrets/; external-secrets prints the values to load into the store.")
@click.option("--age-recipient", "age_recipients", multiple=True, metavar="AGE",
              help="With --secrets-provider sops: an age public key to encrypt for (repeatable).")
@click.option("--secret-store", metavar="[KIND/]NAME",
              help="With --secrets-provider external-secrets: the store, a ClusterSecretStore unless SecretStore/NAME.")
@click.argument("directory", required=False, default=".", metavar="[DIR]", type=click.Path(path_type=Path))
def import_(values_path: Path, manifest_paths: tuple[Path, ...], release: str | None, namespace: str | None,
            distribution: str | None, flux_cluster: str | None, flux_url: str | None, chart_path: Path | None,
            installed_chart: Path | None, installed_version: str | None, secrets_provider: str,
            age_recipients: tuple[str, ...], secret_store: str | None, directory: Path) -> None:
    """Turn a hand-made install into a gen project in DIR (default: here) that deploys the same Airflow.

    Writes gen.yaml and charts/airflow/ (never overwriting), prints the Secrets the new release reads on
    standard output (with the credentials the values file held, so the running database keeps working;
    never in a file), and prints the adoption plan on standard error: how Flux takes the release over
    without reinstalling, what changes, and what does not carry over. With --secrets-provider sops the
    credentials are written encrypted to secrets/ instead; with external-secrets, standard output has the
    values to load into the store.
    """
    if (flux_cluster is None) != (flux_url is None):
        raise click.UsageError("--flux-cluster and --flux-url go together: the cluster's name and the Git URL Flux "
                               "clones this project from")
    secrets_settings, problems = import_provider.settings(secrets_provider, age_recipients, secret_store)
    if problems:
        raise click.UsageError("; ".join(problems))
    done = importing.run(values_path, list(manifest_paths), directory, release=release, namespace=namespace,
                         distribution=distribution, flux_cluster=flux_cluster, flux_url=flux_url,
                         chart_path=chart_path, installed_chart=installed_chart, installed_version=installed_version,
                         secrets_settings=secrets_settings)
    imported = done.imported
    click.echo(import_provider.stdout_text(imported, str(values_path)), nl=False)
    for line in [f"gen: wrote {path}" for path in done.written] + done.secret_lines:
        click.echo(line, err=True)
    for line in imported.plan:
        click.echo(line, err=True)
    command = "gen synth" if directory == Path(".") else f"gen synth --config {directory / 'gen.yaml'}"
    click.echo(f"gen: next: {command} --overlay {imported.overlay}, review, commit", err=True)


def _version(_ctx, _param, value: str | None) -> Version | None:
    try:
        return Version.parse(value) if value is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@config_option
@click.option("--chart-version", callback=_version, metavar="X.Y.Z",
              help=f"The chart release to move to. Default: the newest gen knows ({charts.CURRENT.version}).")
@click.option("--airflow-version", callback=_version, metavar="X.Y.Z",
              help="The Airflow version to move to. Default: the project's, when the target chart runs it.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@chart_option
@click.option("--no-render", is_flag=True, help="Review gen's objects and the HelmRelease values only; render no "
              "chart.")
def upgrade(config_path: Path, chart_version: Version | None, airflow_version: Version | None, dry_run: bool,
            chart_path: Path | None, no_render: bool) -> None:
    """Move the project to another chart release (and Airflow version), all or nothing.

    Rewrites the pin in charts/airflow/chart.yaml (and airflow.version in gen.yaml when set), moves
    the values the target release deprecated to their new homes (charts/airflow/values.yaml and each
    overlay's values), and on Airflow 3 rewrites the config: options Airflow 3 renamed or removed.
    Downgrades are refused: database migrations only go forward. Prints the file changes, then the
    review and the danger: lines as gen diff shows them. Run gen synth afterwards.
    """
    plan = upgrade_module.plan(config_path, chart_version, airflow_version)
    click.echo(upgrade_module.changes_text(plan), nl=False)
    note, review = upgrade_module.review(config_path, plan, chart_path, rendered=not no_render)
    for line in note:
        click.echo(f"gen: {line}", err=True)
    click.echo(report.text(review.sections, "the project before the upgrade", review.rendered), nl=False)
    (old_chart, new_chart), (old_airflow, new_airflow) = plan.chart, plan.airflow
    done = "would move" if dry_run else "moved"
    if not dry_run and plan.files:
        upgrade_module.write(config_path.parent, plan)
    click.echo(f"gen: {done} chart {old_chart} -> {new_chart}, Airflow {old_airflow} -> {new_airflow} "
               f"({len(plan.files)} files{', nothing written' if dry_run else ''}); "
               f"{'run without --dry-run, then ' if dry_run else ''}run gen synth and review gen diff", err=True)


@click.command()
def schema() -> None:
    """Print gen.yaml's JSON Schema (the file gen ships), for editors and other tools."""
    click.echo(scaffold.schema_text(), nl=False)



@click.command("kind-config")
@config_option
@click.option("--output", "output_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the kind config to this file (replaced atomically) instead of standard output.")
def kind_config(config_path: Path, output_path: Path | None) -> None:
    """Print the kind cluster for a config with cluster.distribution kind.

    A control plane and cluster.nodes workers labelled node=worker_<i>, each mounting
    <cluster.kind.dataDir>/dags and /logs where the hostPath volumes expect them. Use it with
    `kind create cluster --config FILE`.
    """
    text = kindconfig.render(config_module.load(config_path, str(config_path)))
    if output_path is None:
        click.echo(text, nl=False)
    else:
        kindconfig.write(text, output_path)
        click.echo(f"gen: wrote {output_path}")
