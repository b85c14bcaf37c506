"""The `gen` group: the one place gen's errors become their lines and exit code, and the options commands share.

cdk8s, which starts Node.js, is imported only when a command builds objects (see synth/app.py), so
`gen --help`, `gen --version` and config errors never start it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from generator import __version__
from generator.knowledge.airflow import OVERLAYS
from generator.plumbing import notices, output
from generator.plumbing.errors import GenError

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


def config_option(func):
    return click.option(
        "--config", "config_path", type=click.Path(path_type=Path), default=DEFAULT_CONFIG, show_default=True,
        help="The deployment description. dist/, overlays/ and charts/ are read and written beside it.",
    )(func)


def selected_overlays(overlays: tuple[str, ...]) -> list[str]:
    """The named overlays without repeats, in their canonical order; none named means all."""
    return sorted(set(overlays), key=OVERLAYS.index) or list(OVERLAYS)


def overlay_option(func):
    return click.option(
        "--overlay", "overlays", multiple=True, type=click.Choice(OVERLAYS), metavar="NAME",
        help=f"Build only this overlay (repeatable): {', '.join(OVERLAYS)}. Default: the config's synth.overlays "
             f"(all three unless it says otherwise).",
    )(func)


def chart_option(func):
    return click.option(
        "--chart", "chart_path", type=click.Path(path_type=Path), metavar="PATH",
        help="The pinned chart as a .tgz archive or a chart directory (offline). Default: the cached chart, "
             "else downloaded from the pinned repository, checked against its index digest, and cached.",
    )(func)


# A command's exit code for gen's errors where it is not 1: gen diff keeps 1 and 3 for what it found.
ERROR_EXIT = {"diff": 2}


class _Gen(click.Group):
    """The one place gen's errors become their lines and exit code, for every command.

    A command's module is imported when that command runs: `gen diff` never imports the onboarding commands'
    ruamel.yaml and importers (about 70 ms, bench/run). `gen --help` imports them all."""

    # command -> (its module in generator.commands, the function there)
    lazy: dict[str, tuple[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, function = self.lazy[cmd_name]
            self.add_command(getattr(importlib.import_module(f"generator.commands.{module}"), function), cmd_name)
        return super().get_command(ctx, cmd_name)

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


def show_notices() -> None:
    """The plumbing's notices (see notices.py), each as a `gen:` line on stderr."""
    for line in notices.drain():
        click.echo(f"gen: {output.printable(line)}", err=True)
