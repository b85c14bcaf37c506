"""A failed run changes nothing, one run at a time, and reading never follows the user's tree out.

Fault tests: a rename that fails late (injected into the real swap), trees that cannot be replaced
(immutable, read-only), a directory or a link where the wiring file goes, a held lock, two real runs at
once, and files planted in dist/, overlays/ and clusters/ for `gen synth --check`, `gen validate` and
`gen diff`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import tree

from generator.commands import cli
from generator.plumbing import lock, notices, output, swap
from generator.synth import pipeline

GEN = [sys.executable, "-c", "from generator.launch import main; main()"]
SECRET = "TOKEN=do-not-print-me"
TREES = ("dist", "overlays", "clusters")


@pytest.fixture
def project(synthesized, tmp_path) -> Path:
    """The tls-secret fixture (it has flux.cluster, so a run writes clusters/ too), synthesized, at its
    flux.cluster.path in a Git repository."""
    root = tmp_path / "repo" / "deploy" / "airflow"
    shutil.copytree(synthesized["tls-secret"], root)
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    return root


def _changed_config(project: Path) -> None:
    """A config change that touches every tree: the namespace is in every file."""
    config = project / "gen.yaml"
    config.write_text(config.read_text().replace("namespace: ", "namespace: changed-", 1)
                      if "namespace: " in config.read_text() else "namespace: changed\n" + config.read_text())


def _synth(project: Path, *args: str):
    return CliRunner().invoke(cli, ["synth", "--config", str(project / "gen.yaml"), *args], catch_exceptions=False)


def _assert_unchanged(project: Path, before: dict, result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    assert any(expected in line for line in lines), result.stderr
    assert tree(project, *TREES) == before
    assert not list(project.glob(".gen-staging-*")) and not (project / lock.LOCK_FILE).exists()
    assert not [p for p in (project / "clusters").rglob("*") if ".gen-" in p.name]


def test_the_fixture_writes_every_tree(project):
    assert {p.split("/")[0] for p in tree(project, *TREES)} == set(TREES)


# --- a rename that fails late puts back every one made ---------------------------------------------

def test_a_failing_overlays_swap_puts_dist_back(project, monkeypatch):
    _changed_config(project)
    before = tree(project, *TREES)
    real = swap._exchange

    def exchange(new: Path, current: Path) -> bool:
        if current.name == "overlays" and new.parent.name.startswith(output.STAGING_PREFIX):
            raise OSError(1, "Operation not permitted", str(current))
        return real(new, current)

    monkeypatch.setattr(swap, "_exchange", exchange)
    _assert_unchanged(project, before, _synth(project), "overlays/: cannot replace: Operation not permitted")


def test_a_failing_wiring_file_puts_both_trees_back(project, monkeypatch):
    _changed_config(project)
    before = tree(project, *TREES)
    real = os.replace

    def replace(source, target, *args, **kwargs):
        if Path(target).name == "airflow.yaml":
            raise OSError(13, "Permission denied", str(target))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(swap.os, "replace", replace)
    _assert_unchanged(project, before, _synth(project), "cannot replace: Permission denied")


def test_the_fallback_without_renameat2_is_undone_too(project, monkeypatch):
    _changed_config(project)
    before = tree(project, *TREES)
    monkeypatch.setattr(swap, "_exchange", lambda new, current: False)
    real = os.replace
    monkeypatch.setattr(swap.os, "replace", lambda s, t, *a, **k: (_ for _ in ()).throw(
        OSError(30, "Read-only file system", str(t))) if Path(t).name == "airflow.yaml" else real(s, t, *a, **k))
    _assert_unchanged(project, before, _synth(project), "Read-only file system")


# --- found before the first rename -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["overlays", "dist"])
def test_an_immutable_tree_is_refused_before_any_swap(project, name):
    if shutil.which("chattr") is None:
        pytest.skip("needs chattr")
    _changed_config(project)
    before = tree(project, *TREES)
    if subprocess.run(["chattr", "+i", str(project / name)], capture_output=True).returncode != 0:
        pytest.skip("this file system has no immutable flag here")
    try:
        result = _synth(project)
    finally:
        subprocess.run(["chattr", "-i", str(project / name)], check=True)
    _assert_unchanged(project, before, result, f"{name}/: is immutable (chattr)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can rename read-only directories")
def test_a_read_only_tree_is_refused_before_any_swap(project):
    _changed_config(project)
    before = tree(project, *TREES)
    (project / "overlays").chmod(0o555)
    try:
        result = _synth(project)
    finally:
        (project / "overlays").chmod(0o755)
    _assert_unchanged(project, before, result, "overlays/: is read-only")


def test_a_directory_where_the_wiring_file_goes_is_refused_before_any_swap(project):
    wiring = next((project / "clusters").rglob("airflow.yaml"))
    wiring.unlink()
    wiring.mkdir()
    (wiring / "keep.txt").write_text("mine\n")
    _changed_config(project)
    before = tree(project, *TREES)
    _assert_unchanged(project, before, _synth(project), "is a directory where gen writes this file")


def test_a_clusters_link_out_of_the_project_is_refused_before_any_swap(project, tmp_path):
    outside = tmp_path / "outside"
    shutil.move(project / "clusters", outside)
    (project / "clusters").symlink_to(outside)
    _changed_config(project)
    before, outside_before = tree(project, "dist", "overlays"), tree(outside, ".")
    result = _synth(project)
    assert result.exit_code == 1
    assert "would be written outside" in result.stderr and "clusters is a symbolic link" in result.stderr
    assert tree(project, "dist", "overlays") == before and tree(outside, ".") == outside_before


# --- one run at a time -------------------------------------------------------------------------------------

def test_a_held_lock_is_one_line_naming_the_holder(project):
    _changed_config(project)
    before = tree(project, *TREES)
    with lock.project_lock(project):
        result = _synth(project)
        assert (project / lock.LOCK_FILE).exists()
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"pid {os.getpid()}" in result.stderr and "delete" not in result.stderr and "kill" in result.stderr
    assert tree(project, *TREES) == before
    assert not (project / lock.LOCK_FILE).exists()


def test_a_lock_file_left_by_a_killed_run_does_not_block(project):
    (project / lock.LOCK_FILE).write_text("pid 1 on elsewhere, since long ago\n")
    result = _synth(project)
    assert result.exit_code == 0, result.output
    assert not (project / lock.LOCK_FILE).exists()


def test_two_runs_at_once_never_leave_a_partial_tree(project):
    """An editor's save hook and pre-commit: each run ends complete or refused, and the trees are whole."""
    expected = tree(project, *TREES)
    for _attempt in range(3):
        runs = [subprocess.Popen([*GEN, "synth"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        for run in runs:
            _stdout, stderr = run.communicate(timeout=300)
            assert run.returncode in (0, 1), stderr
            assert run.returncode == 0 or ("another gen run holds this project's lock" in stderr
                                           and stderr.count("\n") == 1), stderr
        assert tree(project, *TREES) == expected
        assert not list(project.glob(".gen-staging-*"))


# --- reading never follows the user's tree out --------------------------------------------------------------

@pytest.fixture
def outside_secret(tmp_path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


def _plant(project: Path, kind: str, outside_secret: Path) -> str:
    """Put something hostile where a generated file is; returns the relative path."""
    if kind == "link out":
        relative = "dist/base/airflow.yaml"
        (project / relative).unlink()
        (project / relative).symlink_to(outside_secret)
    elif kind == "link to /proc/self/environ":
        relative = "dist/base/storage.yaml"
        (project / relative).unlink()
        (project / relative).symlink_to("/proc/self/environ")
    elif kind == "link to /dev/zero":
        relative = "overlays/celery-executor/kustomization.yaml"
        (project / relative).unlink()
        (project / relative).symlink_to("/dev/zero")
    elif kind == "fifo":
        relative = "dist/kubernetes-executor/manifests.yaml"
        (project / relative).unlink()
        os.mkfifo(project / relative)
    elif kind == "directory link out":
        relative = "dist/celery-executor"
        shutil.rmtree(project / relative)
        (outside_secret.parent / "manifests.yaml").write_text(SECRET + "\n")
        (outside_secret.parent / "kustomization.yaml").write_text(SECRET + "\n")
        (project / relative).symlink_to(outside_secret.parent)
    elif kind == "wiring link out":
        wiring = next((project / "clusters").rglob("airflow.yaml"))
        relative = wiring.relative_to(project).as_posix()
        wiring.unlink()
        wiring.symlink_to(outside_secret)
    else:
        raise AssertionError(kind)
    return relative


VALIDATE_READS = {"fifo", "directory link out", "wiring link out"}
PLANTS = ["link out", "link to /proc/self/environ", "link to /dev/zero", "fifo", "directory link out",
          "wiring link out"]


def _commit_and_run(project: Path, command: list[str]) -> tuple[subprocess.CompletedProcess, str]:
    subprocess.run(["git", "-C", str(project), "add", "-A", "."], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.email=t@example.com", "-c", "user.name=t", "commit",
                    "-qm", "planted"], check=True)
    environment = {**os.environ, "GEN_PLANTED_CANARY": SECRET}
    result = subprocess.run([*GEN, *command], cwd=project, env=environment, capture_output=True, text=True,
                            timeout=300, check=False)
    everything = result.stdout + result.stderr
    assert SECRET not in everything and "do-not-print-me" not in everything
    assert "Traceback" not in everything and "internal error" not in everything
    return result, everything


@pytest.mark.parametrize("kind", PLANTS)
@pytest.mark.parametrize("command", [["synth", "--check"], ["validate"]])
def test_planted_files_are_reported_never_followed(project, outside_secret, kind, command):
    relative = _plant(project, kind, outside_secret)
    result, everything = _commit_and_run(project, command)
    # gen validate reads only the hydrated manifests and the wiring file.
    if command == ["synth", "--check"] or kind in VALIDATE_READS:
        assert result.returncode == 1, everything
        assert relative.split("/")[0] in everything
        assert [line for line in everything.splitlines() if "symbolic link" in line or "not a regular file" in line
                or "extra:" in line], everything


def test_diff_reads_no_generated_file_so_every_plant_at_once_changes_nothing(project, outside_secret):
    """gen diff generates both sides from the config files: one run with every plant in place proves it for all."""
    for kind in PLANTS:
        _plant(project, kind, outside_secret)
    result, everything = _commit_and_run(project, ["diff"])
    assert result.returncode == 0, everything


def test_a_fifo_in_an_overlay_that_is_carried_over_is_one_line(project):
    fifo = project / "dist" / "celery-executor" / "pipe"
    os.mkfifo(fifo)
    before = tree(project, *TREES)
    result = _synth(project, "--overlay", "kubernetes-executor")
    assert result.exit_code == 1
    assert result.stderr == ("error: dist/celery-executor/pipe: is not a regular file (a pipe, socket or device); gen "
                             "keeps the other overlays' files as they are and cannot copy it: remove it, or run gen "
                             "synth without --overlay\n")
    assert tree(project, *TREES) == before


def test_an_alias_bomb_in_the_hydrated_file_being_replaced_is_not_expanded(project):
    """gen synth compares the files it replaces for danger lines; a planted alias bomb is not read as YAML."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    expected = tree(project, *TREES)
    (project / "dist" / "celery-executor" / "manifests.yaml").write_text("\n".join(lines) + "\n")
    result = subprocess.run([*GEN, "synth"], cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert tree(project, *TREES) == expected


# --- the pipeline's own steps around the swap, without a run ------------------------------------------------

def test_a_journal_the_next_run_cannot_follow_is_said_once_as_a_notice(tmp_path):
    (tmp_path / swap.JOURNAL).write_text("not a journal\n")
    notices.drain()
    pipeline._recover(tmp_path)
    [line] = notices.drain()
    assert line.startswith("an earlier gen run was stopped while it replaced dist/ and overlays/, and gen could not")
    assert not swap.interrupted(tmp_path)


def test_a_database_tree_that_is_a_link_holds_no_files_gen_compares(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "cluster.yaml").write_text("kind: Cluster\n")
    (tmp_path / pipeline.DATABASE_DIR).parent.mkdir(parents=True)
    (tmp_path / pipeline.DATABASE_DIR).symlink_to(tmp_path / "elsewhere")
    assert pipeline._database_files(tmp_path) == []
    assert pipeline._existing(tmp_path, f"{pipeline.DATABASE_DIR}/cluster.yaml") is None  # never through the link
