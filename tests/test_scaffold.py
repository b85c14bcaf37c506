"""gen init and gen schema: a project from nothing synthesizes and validates; nothing is ever overwritten."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from click.testing import CliRunner
from support import CHART_REFERENCE, CRDS, REPO

from generator.commands import onboarding as onboarding_commands
from generator import config
from generator.commands import cli
from generator.onboarding import scaffold


def tree(root: Path, *_tops: str) -> dict[str, bytes]:
    """Every file below root (relative path -> bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

SNAPSHOTS = Path(__file__).parent / "snapshots" / "scaffold"


def gen(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def validate(project: Path) -> tuple[int, str]:
    result = gen("validate", "--config", str(project / "gen.yaml"), "--crds", str(CRDS),
                 "--chart-schema", str(CHART_REFERENCE / "values.schema.json"))
    return result.exit_code, result.stdout


def test_init_then_synth_then_validate(tmp_path):
    project = tmp_path / "deploy"
    result = gen("init", str(project), "--host", "airflow.example.org", "--cert-resolver", "le")
    assert result.exit_code == 0, result.output
    assert sorted(tree(project, "gen.yaml", "charts")) == ["charts/airflow/chart.yaml", "charts/airflow/values.yaml",
                                                          "gen.yaml"]
    result = gen("synth", "--config", str(project / "gen.yaml"))
    assert result.exit_code == 0, result.output
    code, output = validate(project)
    assert code == 0 and ", 0 problems" in output, output
    loaded = config.load(project / "gen.yaml")
    assert (loaded.ingress.host, loaded.ingress.tls.cert_resolver, loaded.ingress.path_prefix) == \
        ("airflow.example.org", "le", "/airflow")
    route = (project / "dist" / "base" / "traefik.yaml").read_text()
    assert "Host(`airflow.example.org`) && PathPrefix(`/airflow`)" in route


def test_every_other_setting_keeps_its_default(tmp_path):
    gen("init", str(tmp_path), "--host", "a.example.org", "--tls-secret", "airflow-tls", "--distribution", "kind")
    loaded = config.load(tmp_path / "gen.yaml")
    default = config.load(_minimal(tmp_path / "minimal"))
    assert loaded.storage == default.storage and loaded.flux == default.flux and loaded.workers == default.workers
    assert loaded.ingress.tls.secret_name == "airflow-tls" and loaded.cluster.distribution == "kind"


def _minimal(root: Path) -> Path:
    (root / "charts" / "airflow").mkdir(parents=True)
    (root / "charts" / "airflow" / "chart.yaml").write_text(scaffold.CHART_PIN)
    (root / "charts" / "airflow" / "values.yaml").write_text("")
    (root / "gen.yaml").write_text("ingress: {host: a.example.org, tls: {secretName: airflow-tls}}\n"
                                   "cluster: {distribution: kind}\n")
    return root / "gen.yaml"


def test_the_written_files_match_the_snapshot(tmp_path, snapshot):
    snapshot.snapshot_dir = SNAPSHOTS
    gen("init", str(tmp_path), "--host", "airflow.example.org", "--cert-resolver", "letsencrypt",
        "--overlay", "kubernetes-executor")
    files = {path.replace("/", "__"): text.decode() for path, text in tree(tmp_path, "gen.yaml", "charts").items()}
    files["gen.yaml"] = files["gen.yaml"].replace(scaffold.schema_location(), "SCHEMA")
    snapshot.assert_match_dir(files, "init")


def test_the_chart_pin_is_the_one_gen_is_tested_against():
    assert scaffold.CHART_PIN == (REPO / "charts" / "airflow" / "chart.yaml").read_text()


def test_gen_yaml_points_editors_at_the_schema_gen_ships(tmp_path):
    gen("init", str(tmp_path), "--host", "airflow.example.org", "--cert-resolver", "le")
    first = (tmp_path / "gen.yaml").read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=file://")
    shipped = Path(url2pathname(urlsplit(first.split("$schema=", 1)[1]).path))
    assert shipped.read_text() == scaffold.schema_text()
    printed = gen("schema")
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == json.loads((REPO / "generator" / "schema" / "config.schema.json").read_text())


def test_a_second_init_refuses_and_changes_nothing(tmp_path):
    gen("init", str(tmp_path), "--host", "airflow.example.org", "--cert-resolver", "le")
    before = {path: (data, os.stat(tmp_path / path).st_mtime_ns) for path, data in tree(tmp_path, "gen.yaml",
                                                                                         "charts").items()}
    result = gen("init", str(tmp_path), "--host", "other.example.org", "--cert-resolver", "other")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / name}: already exists; gen never overwrites a file: move it away or choose another "
        f"directory" for name in ("charts/airflow/chart.yaml", "charts/airflow/values.yaml", "gen.yaml")]
    after = {path: (data, os.stat(tmp_path / path).st_mtime_ns) for path, data in tree(tmp_path, "gen.yaml",
                                                                                        "charts").items()}
    assert after == before


def test_one_existing_file_is_named_and_nothing_is_written(tmp_path):
    (tmp_path / "charts" / "airflow").mkdir(parents=True)
    (tmp_path / "charts" / "airflow" / "values.yaml").write_text("scheduler: {replicas: 2}\n")
    result = gen("init", str(tmp_path), "--host", "airflow.example.org", "--cert-resolver", "le")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "values.yaml: already exists" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["values.yaml"]


def test_a_link_on_the_way_out_of_the_project_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "charts").symlink_to(outside)
    result = gen("init", str(project), "--host", "airflow.example.org", "--cert-resolver", "le")
    assert result.exit_code == 1 and "leads through a symbolic link" in result.stderr
    assert list(outside.iterdir()) == [] and not (project / "gen.yaml").exists()


@pytest.mark.parametrize("args, missing", [
    (["--cert-resolver", "le"], "missing option --host HOST"),
    (["--host", "airflow.example.org"], "missing option --cert-resolver NAME or --tls-secret NAME"),
    (["--host", "a.example.org", "--cert-resolver", "le", "--tls-secret", "t"], "exclude each other"),
])
def test_a_missing_or_clashing_option_without_a_terminal_is_a_usage_error(tmp_path, args, missing):
    result = gen("init", str(tmp_path / "p"), *args)
    assert result.exit_code == 2 and missing in result.stderr
    assert not (tmp_path / "p").exists()


def test_on_a_terminal_it_asks_for_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(onboarding_commands, "_stdin_is_terminal", lambda: True)
    result = gen("init", str(tmp_path), input="airflow.example.org\n\nairflow-tls\n")
    assert result.exit_code == 0, result.output
    loaded = config.load(tmp_path / "gen.yaml")
    assert (loaded.ingress.host, loaded.ingress.tls.secret_name) == ("airflow.example.org", "airflow-tls")


@pytest.mark.parametrize("host", ["Airflow.Example.org", "a.example.org`) || Host(`evil.example",
                                  "a.example.org\nnamespace: kube-system", 'a"b', "", "x" * 300])
def test_a_hostile_host_is_one_line_and_nothing_is_written(tmp_path, host):
    result = gen("init", str(tmp_path / "p"), "--host", host, "--cert-resolver", "le")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'p' / 'gen.yaml'}: ingress.host: ")
    assert not (tmp_path / "p").exists()


def test_a_hostile_resolver_is_refused_by_the_schema(tmp_path):
    result = gen("init", str(tmp_path / "p"), "--host", "a.example.org", "--cert-resolver", "le\n  secretName: x")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "ingress.tls.certResolver" in result.stderr


def test_the_overlay_is_written_to_the_project_and_synth_and_its_check_agree(tmp_path):
    init = gen("init", str(tmp_path), "--host", "a.example.org", "--cert-resolver", "le", "--overlay",
               "celery-executor")
    assert init.stdout.splitlines()[-1] == f"gen: next: gen synth --config {tmp_path / 'gen.yaml'}, then commit the result"
    assert "synth:\n  overlays: [celery-executor]\n" in (tmp_path / "gen.yaml").read_text()
    synth = gen("synth", "--config", str(tmp_path / "gen.yaml"))
    assert synth.exit_code == 0 and " for celery-executor in " in synth.stdout
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["base", "celery-executor"]
    check = gen("synth", "--check", "--config", str(tmp_path / "gen.yaml"))
    assert check.exit_code == 0, check.output
