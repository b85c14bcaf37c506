"""`gen synth` and `gen secrets`: write the generated files, print or write the Secrets."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from generator import config as config_module
from generator.commands.group import (
    DEFAULT_CONFIG,
    Failure,
    config_option,
    overlay_option,
    selected_overlays,
)
from generator.knowledge import (
    airflow,
    cluster,
    database,
    hardening,
    operations,
    secret_providers,
)
from generator.plumbing import output
from generator.plumbing.errors import GenError
from generator.review import values_check
from generator.synth import pipeline, secret_files


@click.command()
@click.option(
    "--config", "config_paths", type=click.Path(path_type=Path), multiple=True, metavar="PATH",
    help=f"A deployment description (repeatable: all are regenerated in one run, each beside its own "
         f"config). Default: {DEFAULT_CONFIG}.",
)
@overlay_option
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
    selected = selected_overlays(overlays) if overlays else None
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


@click.command()
@config_option
@overlay_option
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
    selected = selected_overlays(overlays)
    if write or rotate_name:
        _sops_files(config, selected, rotate_name, source)
    elif names_only:
        click.echo("\n".join(secret_providers.names_lines(config, selected)))
    else:
        click.echo(secret_providers.printout(config, str(config_path), selected, secret_name), nl=False)


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
