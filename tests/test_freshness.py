"""`gen synth --check` answers from digests when nothing changed, and takes the full path on any doubt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import make_project

from generator.commands import cli
from generator.plumbing import cache
from generator.synth import freshness, pipeline

GEN = str(Path(sys.executable).parent / "gen")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("GEN_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def no_generation(monkeypatch):
    """Fails a test whose check would have generated the output again."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the check generated the output although its digests were known")

    monkeypatch.setattr(pipeline, "generate", refuse)


def check(config: Path, *args: str):
    return CliRunner().invoke(cli, ["synth", "--check", "--config", str(config), *args], catch_exceptions=False)


def synthesized(tmp_path: Path) -> Path:
    config = make_project(tmp_path / "project")
    pipeline.synth(config)
    return config


def test_after_synth_an_unchanged_project_is_current_without_generating(tmp_path, cache_dir, no_generation):
    config = synthesized(tmp_path)
    result = check(config)
    assert result.exit_code == 0, result.output
    assert "generated files are up to date" in result.output
    assert list(cache_dir.glob("check/*/*.entry")), "synth recorded no digests"


def test_the_warm_check_starts_no_node_js(tmp_path, cache_dir):
    config = synthesized(tmp_path)
    run = subprocess.run([GEN, "synth", "--check", "--config", str(config)], capture_output=True, text=True,
                         env={**os.environ, "JSII_NODE": "/nonexistent/node"}, check=False)
    assert run.returncode == 0, run.stderr
    (config.parent / "dist" / "base" / "traefik.yaml").write_text("# edited\n")
    run = subprocess.run([GEN, "synth", "--check", "--config", str(config)], capture_output=True, text=True,
                         env={**os.environ, "JSII_NODE": "/nonexistent/node"}, check=False)
    assert run.returncode == 1 and "Node.js is required" in run.stderr, "a changed file must take the full path"


def test_a_full_check_that_finds_no_drift_records_the_digests(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", "off")
    config = synthesized(tmp_path)
    monkeypatch.setenv("GEN_CACHE_DIR", str(cache_dir))
    assert not pipeline.known_current([config])
    assert check(config).exit_code == 0
    assert pipeline.known_current([config])


@pytest.mark.parametrize("change", ["edited", "extra", "missing", "link", "config", "values", "overlay"])
def test_any_doubt_takes_the_full_path(tmp_path, cache_dir, change):
    config = synthesized(tmp_path)
    project = config.parent
    assert pipeline.known_current([config])
    manifests = project / "dist" / "kubernetes-executor" / "manifests.yaml"
    if change == "edited":
        manifests.write_text(manifests.read_text() + "# by hand\n")
    elif change == "extra":
        (project / "overlays" / "kubernetes-executor" / "notes.yaml").write_text("x: 1\n")
    elif change == "missing":
        manifests.unlink()
    elif change == "link":  # the same bytes, but through a link: never trusted
        (tmp_path / "outside.yaml").write_bytes(manifests.read_bytes())
        manifests.unlink()
        manifests.symlink_to(tmp_path / "outside.yaml")
    elif change == "config":
        config.write_text(config.read_text() + "# a comment changes the inputs' digest\n")
    elif change == "values":
        (project / "charts" / "airflow" / "values.yaml").write_text("# changed\n")
    if change == "overlay":
        assert not pipeline.known_current([config], ["kubernetes-executor"]), "another selection, other digests"
    else:
        assert not pipeline.known_current([config])


def test_without_a_cache_every_check_is_a_full_one(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", "off")
    config = synthesized(tmp_path)
    assert not pipeline.known_current([config])


def test_configs_sharing_a_directory_always_take_the_full_path(tmp_path, cache_dir):
    config = synthesized(tmp_path)
    other = config.parent / "other.yaml"
    other.write_text(config.read_text())
    assert pipeline.known_current([config])
    assert not pipeline.known_current([config, other])


@pytest.mark.parametrize(("edited", "old", "new"), [
    ("gen.yaml", "  celery:\n    replicas: 1\n", "  celery:\n    replicas: 2\n"),
    ("gen.yaml", "namespace: airflow\n", "namespace: airflow\n# a comment\n"),
    ("charts/airflow/values.yaml", "", "# a comment\n"),
    ("charts/airflow/chart.yaml", "", "# a comment\n"),
])
def test_an_input_saved_while_a_run_goes_is_never_recorded_as_current(tmp_path, cache_dir, edited, old, new):
    """The record names the bytes the run read (once, at the start), not what is on disk when it ends."""
    config_path = make_project(tmp_path / "project")
    config = pipeline.load_many([config_path])[0]
    saved = config_path.parent / edited
    before = saved.read_text()
    assert old in before
    saved.write_text(before.replace(old, new, 1) if old else before + new)  # after the read, before the record
    pipeline.synth_many([config])
    assert not pipeline.known_current([config_path])
    if "replicas" in new:
        assert check(config_path).exit_code == 1  # the output is stale for what is on disk now
    saved.write_text(before)
    assert pipeline.known_current([config_path])  # the bytes the run read: its record holds for them


# --- the digests on their own: what cannot be read is no digest, and a missing tool changes gen's own ---------


def test_a_gen_yaml_that_is_no_regular_file_has_no_key_on_disk(tmp_path):
    os.mkfifo(tmp_path / "gen.yaml")
    assert freshness.key_on_disk(tmp_path / "gen.yaml", ["celery-executor"]) is None
    assert freshness.key_on_disk(tmp_path / "missing.yaml", ["celery-executor"]) is None


def test_a_chart_file_that_is_no_regular_file_counts_as_absent(tmp_path):
    config = make_project(tmp_path / "project")
    before = freshness.key_on_disk(config, ["celery-executor"])
    values = tmp_path / "project" / "charts" / "airflow" / "values.yaml"
    values.unlink()
    absent = freshness.key_on_disk(config, ["celery-executor"])
    os.mkfifo(values)
    assert freshness.key_on_disk(config, ["celery-executor"]) == absent != before


def test_a_record_that_is_no_json_object_is_no_record(cache_dir):
    cache.write("check", "k1", "not json")
    cache.write("check", "k2", "[1, 2]")
    freshness.record("k3", {"dist/a.yaml": "a\n"})
    assert freshness._recorded("k1") is None and freshness._recorded("k2") is None
    assert set(freshness._recorded("k3")) == {"dist/a.yaml"}


def test_a_tool_gen_runs_that_is_not_installed_changes_gens_digest(monkeypatch):
    installed = freshness.generator_digest.__wrapped__()
    monkeypatch.setattr(cache, "package_version", lambda name: f"{name} unknown" if name == "jsii" else name)
    assert freshness.generator_digest.__wrapped__() != installed
