"""gen init and gen schema: a new project from nothing, and the JSON Schema editors validate gen.yaml with.

`gen init` writes gen.yaml (host and TLS, every other setting at its default), the chart pin gen
knows and an empty base values file. Before anything is written, every target is checked (gen
never overwrites) and the new project is loaded exactly as `gen synth` will load it, so a project
gen writes always synthesizes; then the files are created all together or not at all.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

from generator import config as config_module
from generator.knowledge import charts
from generator.model import Config, Version
from generator.plumbing.errors import ConfigError
from generator.plumbing.output import create_files, refuse_existing
from generator.plumbing.yamlio import plain_is_not_string

GEN_YAML = "gen.yaml"
SCHEMA_FILE = "config.schema.json"



def chart_pin(airflow_version: Version | None = None) -> str:
    """charts/airflow/chart.yaml of a new project: the newest release gen knows that runs `airflow_version`
    (any: the newest), with the Airflow version gen recommends for it (charts.py)."""
    row = charts.newest_running(airflow_version) if airflow_version else charts.CURRENT
    return f"""\
# The official Apache Airflow Helm chart that every overlay deploys. gen pins it exactly: a new
# version is a reviewed change to this file (gen upgrade), never a range resolved at install time.
repository: https://airflow.apache.org
name: airflow
version: {row.version}
airflowVersion: {charts.suggested(row.version)}
"""


CHART_PIN = chart_pin()

VALUES_HEADER = """\
# Base Helm values shared by every executor overlay, passed to the chart as they are.
# gen adds what it owns on top (Airflow version, claims, base_url, hook settings for Flux,
# the executor per overlay); setting one of those here is an error that names the gen.yaml
# setting to change instead. Never put a password, key or connection string here.
#
# The chart's values reference: https://airflow.apache.org/docs/helm-chart/stable/parameters-ref.html
"""


def schema_text() -> str:
    """gen.yaml's JSON Schema, as shipped in the package (`gen schema` prints it)."""
    return resources.files("generator.schema").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema_location() -> str:
    """Where editors find the shipped schema: the file inside the installed package, as a file:// URI."""
    return Path(str(resources.files("generator.schema").joinpath(SCHEMA_FILE))).resolve().as_uri()


def modeline(location: str | None = None) -> str:
    """The first line of a gen.yaml: yaml-language-server (VS Code, Neovim, ...) validates and completes
    the file against gen's schema."""
    return f"# yaml-language-server: $schema={location or schema_location()}\n"


def init_files(host: str, *, cert_resolver: str | None = None, tls_secret: str | None = None,
               distribution: str | None = None, overlay: str | None = None,
               schema: str | None = None) -> dict[str, str]:
    """The three files of a new project: relative path -> text. Values are quoted, so nothing in them
    can change the YAML's shape; the schema check in `write_project` judges them."""
    tls = (f"    certResolver: {_quoted(cert_resolver)}      # an ACME resolver in Traefik's static configuration"
           if cert_resolver is not None else
           f"    secretName: {_quoted(tls_secret)}      # a kubernetes.io/tls Secret in the namespace")
    lines = [
        modeline(schema).rstrip("\n"),
        f"# gen.yaml: one Airflow deployment, served at https://{comment_text(host)}/airflow.",
        "# Unset settings take their defaults: see docs/configuration.md, or `gen schema`.",
        "# Then run `gen synth` and commit what it writes.",
        "",
        "cluster:",
        f"  distribution: {_quoted(distribution or 'k3s')}   # k3s | kubeadm | kind | minikube",
        "",
        "ingress:",
        f"  host: {_quoted(host)}",
        "  tls:",
        tls,
    ]
    if overlay is not None:
        lines += [
            "",
            "# The overlay this deployment runs: gen synth, its --check, the hook and CI build only this one.",
            "synth:",
            f"  overlays: [{_quoted(overlay)}]",
            "",
            "# To have gen write the Flux wiring for a cluster (clusters/<name>/airflow.yaml), uncomment:",
            "# flux:",
            "#   cluster:",
            "#     name: home",
            f"#     overlay: {comment_text(overlay)}",
            "#     url: https://git.example.com/you/platform.git",
        ]
    return {
        GEN_YAML: "\n".join(lines) + "\n",
        str(config_module.CHART_PIN): CHART_PIN,
        str(config_module.BASE_VALUES): VALUES_HEADER,
    }


def _quoted(text: str) -> str:
    """The text as a YAML string: plain when it reads back as itself, double-quoted otherwise, so no
    value can change the file's shape."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", text) and not plain_is_not_string(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'


def comment_text(text: str) -> str:
    """Text for inside a comment: one line, printable."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


@contextlib.contextmanager
def scratch_project(files: Mapping[str, str], prefix: str) -> Iterator[Path]:
    """A would-be project's files (relative path: text) written to a scratch directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        root = Path(scratch)
        for relative, text in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text, encoding="utf-8")
        yield root


def check(project_dir: Path, files: Mapping[str, str]) -> Config:
    """Load the would-be project as `gen synth` will (in a scratch directory); raise ConfigError if it fails.

    Messages name the files at their real place in `project_dir`.
    """
    with scratch_project(files, "gen-init-") as root:
        try:
            return config_module.load(root / GEN_YAML, str(project_dir / GEN_YAML))
        except ConfigError as exc:
            raise ConfigError([line.replace(str(root) + "/", "") for line in exc.problems]) from None


def write_project(project_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Create `files` in `project_dir` if none exists yet and the project loads; all or nothing."""
    refuse_existing(project_dir, files)
    check(project_dir, files)
    create_files(project_dir, files)
    return [project_dir / relative for relative in sorted(files)]


def init(project_dir: Path, host: str, *, cert_resolver: str | None = None, tls_secret: str | None = None,
         distribution: str | None = None, overlay: str | None = None) -> list[Path]:
    """gen init: write a new project in `project_dir`; returns the files written."""
    files = init_files(host, cert_resolver=cert_resolver, tls_secret=tls_secret, distribution=distribution,
                       overlay=overlay)
    return write_project(project_dir, files)
