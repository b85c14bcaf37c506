"""The `gen` command line: thin commands that parse options, call the library and report.

cdk8s, which starts Node.js, is imported only when a command builds objects (see app.py), so
`gen --help`, `gen --version` and config errors never start it.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from generator import __version__
from generator import config as config_module
from generator.knowledge import (
    airflow,
    charts,
    cluster,
    database,
    hardening,
    operations,
    secret_providers,
)
from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.cluster import PROFILES
from generator.model import Version
from generator.onboarding import kindconfig, scaffold
from generator.onboarding import upgrade as upgrade_module
from generator.onboarding.importing import assembly as importing
from generator.onboarding.importing import provider as import_provider
from generator.plumbing import notices, output
from generator.plumbing.errors import GenError
from generator.review import chart_source, report, values_check
from generator.review import diff as diff_module
from generator.review import render as render_module
from generator.review import validate as checks
from generator.synth import pipeline, secret_files

DEFAULT_CONFIG = "gen.yaml"


class Failure(click.ClickException):
    """Every problem on its own `error:` line on stderr; exit 1 (or the command's code in ERROR_EXIT)."""

    def __init__(self, problems: list[str], exit_code: int = 1) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.exit_code = exit_code

    def show(self, file=None) -> None:  # type: ignore[override]
        for line in self.problems:  # a file name with a line break in it stays on its one line
            click.echo(f"error: {output.printable(line)}", err=True)


def _config_option(func):
    return click.option(
        "--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True,
        help="The deployment description. dist/, overlays/ and charts/ are read and written beside it.",
    )(func)


def _selected(overlays: tuple[str, ...]) -> list[str]:
    """The named overlays without repeats, in their canonical order; none named means all."""
    return sorted(set(overlays), key=OVERLAYS.index) or list(OVERLAYS)


def _overlay_option(func):
    return click.option(
        "--overlay", "overlays", multiple=True, type=click.Choice(OVERLAYS), metavar="NAME",
        help=f"Build only this overlay (repeatable): {', '.join(OVERLAYS)}. Default: the config's synth.overlays "
             f"(all three unless it says otherwise).",
    )(func)


def _render_kube_version(_ctx, _param, value: str | None) -> str:
    try:
        return render_module.kube_version(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _chart_option(func):
    return click.option(
        "--chart", "chart_path", type=click.Path(path_type=Path), metavar="PATH",
        help="The pinned chart as a .tgz archive or a chart directory (offline). Default: the cached chart, "
             "else downloaded from the pinned repository, checked against its index digest, and cached.",
    )(func)


# A command's exit code for gen's errors where it is not 1: gen diff keeps 1 and 3 for what it found.
ERROR_EXIT = {"diff": 2}


class _Gen(click.Group):
    """The one place gen's errors become their lines and exit code, for every command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GenError as exc:
            raise Failure(exc.problems, ERROR_EXIT.get(ctx.invoked_subcommand or "", 1)) from None
        finally:
            show_notices()


@click.group(cls=_Gen, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="gen")
def cli() -> None:
    """Generate GitOps-ready Kubernetes manifests for Apache Airflow from one config file.

    gen.yaml describes the deployment; `gen synth` writes dist/ and overlays/ beside it, ready to
    commit for Flux to apply.
    """


@cli.command()
@click.option(
    "--config", "config_paths", type=click.Path(path_type=Path), multiple=True, metavar="PATH",
    help=f"A deployment description (repeatable: all are regenerated in one run, each beside its own "
         f"config). Default: {DEFAULT_CONFIG}.",
)
@_overlay_option
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 and show a diff if the files on disk are not what synth would write.")
@click.option("--chart", "chart_path", type=click.Path(path_type=Path), metavar="PATH",
              help="The pinned chart (.tgz or directory), to check charts/airflow/values.yaml against its values "
                   "schema. Default: the cached chart; without one, the check is skipped and one line says so.")
def synth(config_paths: tuple[Path, ...], overlays: tuple[str, ...], check: bool, chart_path: Path | None) -> None:
    """Write dist/base, overlays/<overlay>, the hydrated dist/<overlay> and the cluster wiring.

    Output is deterministic; files that are no longer generated are removed. A failing run changes
    nothing on disk, and one run at a time holds a project (.gen-lock beside the config). With
    --overlay, the other overlays' files are left as they are. With several --config, every config is
    checked before anything is written, and configs whose outputs would overlap are refused. Each
    change against the files it replaces that the cluster will refuse or that loses data is printed as
    a `warning: danger: ...` line (as gen diff shows it); the files are written all the same.

    Environment: GEN_NODE_TIMEOUT (seconds, default 120) bounds the Node.js start; JSII_NODE names the
    Node.js binary.
    """
    paths = config_paths or (Path(DEFAULT_CONFIG),)
    selected = _selected(overlays) if overlays else None
    if check and pipeline.known_current(paths, selected):
        for path in paths:
            click.echo(f"gen: {path}: generated files are up to date", err=True)
        return
    configs = pipeline.load_many(list(paths), [str(p) for p in paths])
    _warn(configs)
    checked = _values_checked(configs, chart_path)
    if check:
        _report_drift(configs, selected)
        return
    results = pipeline.synth_many(configs, selected)
    for result in results:
        for finding in result.findings:  # written all the same: the warning says what to do in the cluster
            first, *steps = finding.lines()
            click.echo("\n".join([f"warning: {first}", *steps]), err=True)
        where = result.project_dir
        click.echo(f"gen: wrote {len(result.files)} files ({result.changed} changed) for {', '.join(result.overlays)} "
                   f"in {where if str(where) != '.' else 'the current directory'}")
    for line in dict.fromkeys([*checked, *(note for config in configs for note in cluster.notes(config))]):
        click.echo(f"gen: {line}")


def _values_checked(configs: list, chart_path: Path | None) -> list[str]:
    """Every config's values against its chart's values schema (all problems at once); one line each on what ran."""
    lines, problems = [], []
    for config in configs:
        try:
            lines.append(values_check.check(config, chart_path))
        except GenError as exc:
            problems += exc.problems
    if problems:
        raise Failure(problems)
    return lines


def _warn(configs: list) -> None:
    for config in configs:
        for line in [*database.warnings(config), *hardening.warnings(config), *operations.warnings(config), *airflow.warnings(config),
                     *cluster.warnings(config)]:
            click.echo(f"warning: {line}", err=True)


def _report_drift(configs: list, selected: list[str] | None) -> None:
    """Print what `gen synth` would change, per config; exit 1 if anything would."""
    stale = False
    for config in configs:
        drift = pipeline.check(config, selected)
        where = config.source.project_dir
        for path, (current, expected) in drift.changed.items():
            click.echo("".join(difflib.unified_diff(current.splitlines(keepends=True), expected.splitlines(keepends=True),
                                                    f"a/{path}", f"b/{path}")), nl=False)
        for path in drift.missing:
            click.echo(f"missing: {output.printable(str(where / path))} (gen synth would write it)")
        for path in drift.extra:
            click.echo(f"extra: {output.printable(str(where / path))} (gen synth would remove it)")
        for line in drift.refused:
            click.echo(f"refused: {output.printable(line)}")
        for line in drift.secrets:
            click.echo(f"secret: {output.printable(line)}")
        if drift:
            stale = True
            unread = f", {len(drift.refused)} not read" if drift.refused else ""
            unread += f", {len(drift.secrets)} Secret problems" if drift.secrets else ""
            click.echo(f"gen: {config.source.label}: {len(drift.changed)} changed, {len(drift.missing)} missing, "
                       f"{len(drift.extra)} extra{unread}; run gen synth and commit the result", err=True)
        else:
            click.echo(f"gen: {config.source.label}: generated files are up to date", err=True)
    if stale:
        sys.exit(1)


@cli.command()
@_config_option
@_overlay_option
@click.option("--names", "names_only", is_flag=True,
              help="List Secret names and keys only, without values; with secrets.provider external-secrets, "
                   "the remote keys to create in the store and what each property must hold.")
@click.option("--name", "secret_name", metavar="NAME", help="Print only the Secret NAME.")
@click.option("--write", is_flag=True,
              help="secrets.provider sops: write each missing Secret, encrypted, to secrets.sops.path; never "
                   "overwrite one.")
@click.option("--rotate", "rotate_name", metavar="NAME",
              help="secrets.provider sops: replace the Secret NAME (and those that must agree with it) on purpose.")
@click.option("--from", "source", type=click.File("r"), metavar="FILE",
              help="With --write: take the values of the Secrets in FILE (- for standard input, such as "
                   "`kubectl get secret -o yaml ...`) instead of fresh ones, to keep an install's credentials.")
def secrets(config_path: Path, overlays: tuple[str, ...], names_only: bool, secret_name: str | None, write: bool,
            rotate_name: str | None, source) -> None:
    """Print the Secrets the generated release reads, filled with fresh random values.

    Output goes to standard output only, ready for `kubectl apply -f -` or a store; gen never writes it
    to a file. Run it once per cluster: every run draws new values. With an external database, comments
    above the Secrets give the SQL that creates its role and database. With secrets.provider sops,
    --write commits them encrypted instead (docs/credentials.md).
    """
    chosen = [flag for flag, on in (("--names", names_only), ("--name", secret_name), ("--write", write),
                                    ("--rotate", rotate_name)) if on]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be combined; give one of them")
    if source is not None and not write:
        raise click.UsageError("--from goes with --write")
    config = config_module.load(config_path, str(config_path))
    selected = _selected(overlays)
    if write or rotate_name:
        _sops_files(config, selected, rotate_name, source)
    elif names_only:
        click.echo("\n".join(secret_providers.names_lines(config, selected)))
    else:
        click.echo(secret_providers.printout(config, str(config_path), selected, secret_name), nl=False)


def _review_overlays(overlays: tuple[str, ...]) -> list[str] | None:
    """--overlay for gen diff: none means the deployed overlay (or all, without flux.cluster); `all` means all."""
    if not overlays:
        return None
    return list(OVERLAYS) if diff_module.ALL in overlays else _selected(overlays)


def _sops_files(config, selected: list[str], rotate_name: str | None, source) -> None:
    if secret_providers.provider(config) != secret_providers.SOPS:
        raise click.UsageError(f"--{'rotate' if rotate_name else 'write'} needs secrets.provider: sops in "
                               f"{config.source.label}; see docs/credentials.md")
    given = secret_files.given_secrets(config, selected, source.read(), source.name) if source else None
    done = secret_files.rotate(config, selected, rotate_name) if rotate_name else \
        secret_files.write(config, selected, given)
    for line in done.notes():
        click.echo(line, err=True)
    click.echo(done.summary("replaced" if rotate_name else "wrote"))

@cli.command()
@_config_option
@click.option("--base", "ref", default="HEAD", show_default=True, metavar="GIT_REF",
              help="The Git revision whose config files to compare with the working tree.")
@click.option("--overlay", "overlays", multiple=True, type=click.Choice([*OVERLAYS, diff_module.ALL]), metavar="NAME",
              help=f"Review this overlay (repeatable): {', '.join(OVERLAYS)}, or all. Default: the one "
                   f"flux.cluster.overlay deploys, else all.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="text for a terminal; markdown for a pull-request comment (kept under GitHub's 65,536 characters).")
@_chart_option
@click.option("--no-render", is_flag=True, help="Compare gen's objects and the HelmRelease values only; render no chart.")
@click.option("--require-render", is_flag=True,
              help="Exit 2 when the chart cannot be had (not given, not cached, out of reach), instead of a values-only "
                   "review: for CI, which must not lose the rendered review silently.")
@click.option("--kube-version", callback=_render_kube_version, metavar="X.Y",
              help=f"Kubernetes version the chart sees when rendered. Default: {render_module.DEFAULT_KUBE_VERSION}.")
def diff(config_path: Path, ref: str, overlays: tuple[str, ...], fmt: str, chart_path: Path | None,
         no_render: bool, require_render: bool, kube_version: str) -> None:
    """Show what the working tree's config changes, compared with GIT_REF, as the cluster will see it.

    Both sides are generated by this gen from the config files (gen.yaml, charts/airflow/); the
    checkout and the index are never touched. When flux.cluster names the deployed overlay, that
    overlay is reviewed (a change of it: the old overlay's objects against the new one's), and the
    first line says so. First come the changes that need care before merging, one `danger:` line
    each (an update the API server refuses, data lost or orphaned, a Secret to recreate), naming every
    overlay it holds for, with its runbook as numbered steps, one of them "merge now"; then the
    objects added, removed and changed, HelmRelease values as dotted keys, and each object's YAML
    diff. Whenever the pinned chart can be had (--chart, the cache, the chart repository), both sides
    are also rendered with it and the chart's objects compared field by field, with the workloads
    that roll; otherwise one line says why and the values diff is shown alone (exit 2 with
    --require-render).

    \b
    Exit codes:
      0  no change
      1  changes
      2  an error, or no chart with --require-render
      3  changes that need care before merging (a danger: line)
    """
    if no_render and require_render:
        raise click.UsageError("--no-render and --require-render exclude each other; give one")
    review = diff_module.review(config_path, ref, _review_overlays(overlays), label=str(config_path),
                                rendered=not no_render, chart_path=chart_path, require_render=require_render,
                                kube_version=kube_version)
    if review.scope:
        click.echo(f"gen: {review.scope}", err=True)
    click.echo(f"gen: {review.note}", err=True)
    if fmt == "markdown":
        click.echo(report.markdown(review.sections, ref, review.rendered, review.note, scope=review.scope), nl=False)
    else:
        click.echo(report.text(review.sections, ref, review.rendered), nl=False)
    sys.exit(3 if report.findings(review.sections) else 1 if report.has_changes(review.sections) else 0)


@cli.command()
@_config_option
@_overlay_option
@_chart_option
@click.option("--kube-version", callback=_render_kube_version, metavar="X.Y",
              help=f"Kubernetes version the chart sees as .Capabilities.KubeVersion (Flux passes the "
                   f"cluster's). Default: {render_module.DEFAULT_KUBE_VERSION}.")
def render(config_path: Path, overlays: tuple[str, ...], chart_path: Path | None, kube_version: str) -> None:
    """Print every object Flux would end up applying, per overlay, as one YAML stream.

    gen's own objects, then every object the pinned chart renders from the overlay's HelmRelease (or
    k3s HelmChart) values, rendered in-process by Helm's Go SDK as Flux's helm-controller renders
    them. Each object is preceded by comments naming its overlay and its source (gen, or the chart
    template). A value Flux reads from a Secret (valuesFrom) is a fixed placeholder, never the secret.

    Environment: GEN_RENDER_TIMEOUT (seconds, default 300) bounds each render.
    """
    selected = _selected(overlays)
    try:
        config = config_module.load(config_path, str(config_path))
        chart = render_module.load_chart(config, chart_path)
        renders = render_module.config_renders(config, selected, chart, kube_version)
    except chart_source.ChartUnavailable as exc:
        raise Failure([*exc.problems[:-1], f"{exc.problems[-1]}; give the chart with --chart PATH"]) from None
    header = (f"gen render: {config.source.name}, chart {chart.title} (sha256 {chart.archive.digest[:12]}), "
              f"Kubernetes {kube_version}, {render_module.helm_version()}")
    click.echo(render_module.stream(list(renders.values()), header), nl=False)


@cli.command("kind-config")
@_config_option
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


def _kube_version(_ctx, _param, value: str | None) -> str:
    try:
        return checks.kube_version(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@_config_option
@_overlay_option
@click.option("--kube-version", callback=_kube_version, metavar="X.Y",
              help="Kubernetes version whose schemas core kinds are checked against. Default: the newest known.")
@click.option("--crds", "crd_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="CRD file or directory (repeatable), e.g. Flux's gotk-components.yaml; other objects in it "
                   "are skipped. Custom resources without a CRD are reported as not checked.")
@click.option("--chart-schema", type=click.Path(path_type=Path), metavar="PATH",
              help="A values.schema.json to check HelmRelease values against, merged over values.yaml from the same "
                   "directory when there is one. Default: the pinned chart's own (from --chart, the cache, or the "
                   "repository).")
@_chart_option
def validate(config_path: Path, overlays: tuple[str, ...], kube_version: str, crd_paths: tuple[Path, ...],
             chart_schema: Path | None, chart_path: Path | None) -> None:
    """Check the config rules and dist/<overlay>/manifests.yaml against the real schemas.

    Prints one line per problem as `overlay Kind/namespace/name: path: problem`, then a summary.
    Exit 1 on any problem. Run `gen synth` first: this checks what is on disk.
    """
    validators = checks.Validators(
        kube_version=kube_version, crds=checks.load_crds(crd_paths),
        chart=checks.ChartSchema.load(chart_schema) if chart_schema else None)
    report = checks.run(config_path, _selected(overlays), validators, label=str(config_path), chart_path=chart_path)
    for line in report.lines:
        click.echo(output.printable(line))
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


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


@cli.command()
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


@cli.command("import")
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
@_chart_option
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


@cli.command()
@_config_option
@click.option("--chart-version", callback=_version, metavar="X.Y.Z",
              help=f"The chart release to move to. Default: the newest gen knows ({charts.CURRENT.version}).")
@click.option("--airflow-version", callback=_version, metavar="X.Y.Z",
              help="The Airflow version to move to. Default: the project's, when the target chart runs it.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@_chart_option
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


@cli.command()
def schema() -> None:
    """Print gen.yaml's JSON Schema (the file gen ships), for editors and other tools."""
    click.echo(scaffold.schema_text(), nl=False)


def show_notices() -> None:
    """The plumbing's notices (see notices.py), each as a `gen:` line on stderr."""
    for line in notices.drain():
        click.echo(f"gen: {output.printable(line)}", err=True)
