"""The review loop in real Git repositories: gen synth --check, gen diff, and the Flux cluster wiring."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import make_project, tree

from generator.commands import cli

WIRING = """\
  cluster:
    name: home
    overlay: kubernetes-executor
    url: https://github.com/example/homelab
"""


def wire(config: Path, wiring: str = WIRING) -> Path:
    """Add the cluster wiring under the config's `flux:` section."""
    config.write_text(config.read_text().replace("flux:\n", "flux:\n" + wiring, 1))
    return config


def gen(*args: str, cwd: Path | None = None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def git(repo: Path, *args: str) -> str:
    run = subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.com",
                          *args], capture_output=True, text=True, check=True)
    return run.stdout


def repository(tmp_path: Path, extra: str = "") -> Path:
    """A Git repository holding a synthesized project, everything committed on branch main."""
    config = make_project(tmp_path)
    if extra:
        wire(config, extra)
    git(tmp_path, "init", "-q", "-b", "main")
    assert gen("synth", "--config", str(config)).exit_code == 0
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "airflow")
    return config


def set_scheduler_replicas(root: Path, replicas: int) -> None:
    (root / "charts" / "airflow" / "values.yaml").write_text(f"scheduler:\n  replicas: {replicas}\n")


# --- gen synth --check ---------------------------------------------------------------------------

def test_check_passes_on_fresh_output_and_writes_nothing(tmp_path):
    config = make_project(tmp_path)
    gen("synth", "--config", str(config))
    before = tree(tmp_path, "dist", "overlays")
    result = gen("synth", "--check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert tree(tmp_path, "dist", "overlays") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charts", "dist", "gen.yaml", "overlays"]


def test_check_fails_on_stale_output_with_a_unified_diff_per_file(tmp_path):
    config = make_project(tmp_path)
    gen("synth", "--config", str(config))
    set_scheduler_replicas(tmp_path, 3)
    before = tree(tmp_path, "dist", "overlays")
    result = gen("synth", "--check", "--config", str(config))
    assert result.exit_code == 1
    assert "--- a/dist/base/airflow.yaml\n+++ b/dist/base/airflow.yaml\n" in result.stdout
    assert "-      replicas: 1\n+      replicas: 3\n" in result.stdout
    assert "4 changed, 0 missing, 0 extra; run gen synth" in result.stderr
    assert tree(tmp_path, "dist", "overlays") == before


def test_check_lists_missing_and_extra_files(tmp_path):
    config = make_project(tmp_path)
    gen("synth", "--config", str(config))
    (tmp_path / "overlays" / "celery-executor" / "helmrelease-values.yaml").unlink()
    (tmp_path / "dist" / "old-overlay").mkdir()
    (tmp_path / "dist" / "old-overlay" / "manifests.yaml").write_text("kind: List\n")
    result = gen("synth", "--check", "--config", str(config))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"missing: {tmp_path}/overlays/celery-executor/helmrelease-values.yaml (gen synth would write it)",
        f"extra: {tmp_path}/dist/old-overlay/manifests.yaml (gen synth would remove it)",
    ]


def test_check_on_a_project_never_synthesized_lists_every_file_as_missing(tmp_path):
    result = gen("synth", "--check", "--config", str(make_project(tmp_path)))
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 18
    assert not (tmp_path / "dist").exists()


def test_check_with_overlay_ignores_the_other_overlays(tmp_path):
    config = make_project(tmp_path)
    gen("synth", "--config", str(config))
    (tmp_path / "dist" / "celery-executor" / "manifests.yaml").write_text("edited by hand\n")
    assert gen("synth", "--check", "--overlay", "kubernetes-executor", "--config", str(config)).exit_code == 0
    assert gen("synth", "--check", "--config", str(config)).exit_code == 1


# --- Flux wiring ---------------------------------------------------------------------------------

def test_cluster_wiring_points_flux_at_the_chosen_overlay(tmp_path):
    config = wire(make_project(tmp_path))
    assert gen("synth", "--config", str(config)).exit_code == 0
    from support import documents
    source, sync = documents((tmp_path / "clusters" / "home" / "airflow.yaml").read_text())
    assert (source["kind"], source["spec"]["url"], source["spec"]["ref"]) == (
        "GitRepository", "https://github.com/example/homelab", {"branch": "main"})
    assert sync["kind"] == "Kustomization"
    assert sync["spec"]["path"] == "./dist/kubernetes-executor"
    assert (sync["spec"]["prune"], sync["spec"]["wait"]) == (True, True)
    assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert gen("synth", "--check", "--config", str(config)).exit_code == 0


def test_a_renamed_cluster_moves_the_wiring_file_and_leaves_the_users_files_alone(tmp_path):
    config = make_project(tmp_path)
    wire(config)
    gen("synth", "--config", str(config))
    (tmp_path / "clusters" / "home" / "flux-system").mkdir()
    (tmp_path / "clusters" / "home" / "flux-system" / "gotk-sync.yaml").write_text("kind: Kustomization\n")
    (tmp_path / "clusters" / "home" / "notes.yaml").write_text("kind: ConfigMap\n")
    config.write_text(config.read_text().replace("name: home", "name: lab"))
    assert gen("synth", "--check", "--config", str(config)).exit_code == 1
    assert gen("synth", "--config", str(config)).exit_code == 0
    assert sorted(tree(tmp_path, "clusters")) == [
        "clusters/home/flux-system/gotk-sync.yaml", "clusters/home/notes.yaml", "clusters/lab/airflow.yaml"]


def test_wiring_to_an_overlay_this_run_does_not_build_is_refused(tmp_path):
    config = make_project(tmp_path)
    wire(config)
    result = gen("synth", "--overlay", "celery-executor", "--config", str(config))
    assert result.exit_code == 1
    assert "flux.cluster.overlay: kubernetes-executor is not generated" in result.stderr
    assert not (tmp_path / "dist").exists() and not (tmp_path / "clusters").exists()


@pytest.mark.parametrize(("cluster", "expected"), [
    ("{name: home, url: https://git.example.com/x}", "flux.cluster.overlay: is required"),
    ("{name: home, overlay: kubernetes-executor}", "flux.cluster.url: is required"),
    ("{name: ../../etc, overlay: kubernetes-executor, url: https://x.example}", "flux.cluster.name: '../../etc'"),
    ("{name: a, overlay: kubernetes-executor, url: https://x.example, path: ../up}", "flux.cluster.path: '../up'"),
    ("{name: a, overlay: kubernetes-executor, url: 'file:///etc'}", "flux.cluster.url: 'file:///etc'"),
])
def test_bad_cluster_wiring_names_the_field(tmp_path, cluster, expected):
    config = make_project(tmp_path)
    wire(config, f"  cluster: {cluster}\n")
    result = gen("synth", "--config", str(config))
    assert result.exit_code == 1
    assert expected in result.stderr
    assert not (tmp_path / "dist").exists()


def test_the_wiring_path_must_be_where_the_project_sits_in_its_repository(tmp_path):
    project = tmp_path / "deploy" / "airflow"
    config = make_project(project)
    wire(config)
    git(tmp_path, "init", "-q")
    result = gen("synth", "--config", str(config))
    assert result.exit_code == 1
    assert ("flux.cluster.path: is '.' but this project is at 'deploy/airflow' in its Git repository"
            in result.stderr)
    config.write_text(config.read_text().replace("homelab\n", "homelab\n    path: deploy/airflow\n"))
    assert gen("synth", "--config", str(config)).exit_code == 0
    assert "path: ./deploy/airflow/dist/kubernetes-executor" in (project / "clusters/home/airflow.yaml").read_text()


# --- gen diff ------------------------------------------------------------------------------------

def test_diff_without_changes_exits_0(tmp_path):
    config = repository(tmp_path)
    result = gen("diff", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"== {o}: no change" for o in
                                          ("celery-executor", "kubernetes-executor", "celery-kubernetes-executor")]


def test_diff_names_the_changed_object_and_values_and_leaves_the_checkout_alone(tmp_path):
    config = repository(tmp_path)
    set_scheduler_replicas(tmp_path, 3)
    status, index = git(tmp_path, "status", "--porcelain"), (tmp_path / ".git" / "index").read_bytes()
    result = gen("diff", "--config", str(config), "--overlay", "kubernetes-executor")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == ["== kubernetes-executor: 0 added, 0 removed, 1 changed",
                         "changed: HelmRelease airflow/airflow",
                         "  values.scheduler.replicas: 1 -> 3"]
    assert "--- a/HelmRelease/airflow/airflow (HEAD)" in lines
    assert "-      replicas: 1" in lines and "+      replicas: 3" in lines
    assert git(tmp_path, "status", "--porcelain") == status == " M charts/airflow/values.yaml\n"
    assert (tmp_path / ".git" / "index").read_bytes() == index
    assert not list(tmp_path.glob(".gen-*"))


def test_diff_reports_added_and_removed_objects(tmp_path):
    config = repository(tmp_path, extra=WIRING)
    config.write_text(config.read_text().replace(WIRING, ""))
    result = gen("diff", "--config", str(config))
    assert result.exit_code == 3  # the cluster's Kustomization goes, and Flux prunes what it applied
    assert result.stdout.startswith("danger: cluster wiring Kustomization flux-system/airflow-airflow: metadata.name: ")
    assert "== cluster wiring: 0 added, 2 removed, 0 changed" in result.stdout
    assert "removed: GitRepository flux-system/airflow-airflow" in result.stdout
    assert "removed: Kustomization flux-system/airflow-airflow" in result.stdout
    assert "== celery-executor: no change" in result.stdout


def test_diff_against_a_branch_and_in_markdown(tmp_path):
    config = repository(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "more-workers")
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 3\n"))
    git(tmp_path, "commit", "-q", "-am", "three workers")
    result = gen("diff", "--config", str(config), "--base", "main", "--format", "markdown")
    assert result.exit_code == 1
    text = result.stdout
    assert text.startswith("### gen diff: `main` → working tree\n")
    assert "| celery-executor | 0 | 0 | 1 |" in text
    assert "| kubernetes-executor | 0 | 0 | 0 |" in text
    assert "<summary>changed: HelmRelease airflow/airflow</summary>" in text
    assert "- `values.workers.celery.replicas: 1 -> 3`" in text
    assert "```diff\n" in text and "</details>" in text
    assert gen("diff", "--config", str(config), "--base", "more-workers").exit_code == 0


def test_a_config_new_since_the_base_shows_every_object_as_added(tmp_path):
    config = make_project(tmp_path)
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("x\n")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-q", "-m", "first")
    result = gen("diff", "--config", str(config), "--overlay", "celery-executor")
    assert result.exit_code == 1
    assert result.stdout.startswith("== celery-executor: 12 added, 0 removed, 0 changed\n")


@pytest.mark.parametrize(("ref", "expected"), [
    ("no-such-branch", "--base: 'no-such-branch' is not a commit in this repository"),
    ("--output=/tmp/x", "--base: '--output=/tmp/x' is not a revision"),
])
def test_diff_errors_exit_2(tmp_path, ref, expected):
    config = repository(tmp_path)
    result = gen("diff", "--config", str(config), "--base", ref)
    assert result.exit_code == 2
    assert result.stderr == f"error: {expected}; give a branch, tag or commit such as HEAD or origin/main\n"


def test_diff_outside_a_repository_exits_2(tmp_path):
    result = gen("diff", "--config", str(make_project(tmp_path)))
    assert result.exit_code == 2
    assert "is not inside a Git working tree" in result.stderr


def test_diff_in_a_repository_with_no_commits_says_to_commit_first(tmp_path):
    config = make_project(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    result = gen("diff", "--config", str(config))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path}: this repository has no commits yet, so there is nothing to compare "
                             f"with; commit the project first (git add -A && git commit), then gen diff shows what "
                             f"changes\n")


# --- several configs in one run ------------------------------------------------------------------

def test_several_configs_are_synthesized_in_one_run_each_beside_its_own_config(tmp_path):
    first = make_project(tmp_path / "staging")
    second = make_project(tmp_path / "production", fixture="tls-secret")
    result = gen("synth", "--config", str(first), "--config", str(second))
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("gen: wrote ") for line in result.stdout.splitlines()) == 2
    for project in (tmp_path / "staging", tmp_path / "production"):
        alone = project.parent / f"{project.name}-alone"
        config = make_project(alone, fixture="example" if project.name == "staging" else "tls-secret")
        gen("synth", "--config", str(config))
        assert tree(project, "dist", "overlays", "clusters") == tree(alone, "dist", "overlays", "clusters")
    assert gen("synth", "--check", "--config", str(first), "--config", str(second)).exit_code == 0


def test_configs_whose_outputs_overlap_are_refused_before_anything_is_written(tmp_path):
    first = make_project(tmp_path)
    second = tmp_path / "other.yaml"
    second.write_text(first.read_text())
    nested = make_project(tmp_path / "dist" / "team")
    result = gen("synth", "--config", str(first), "--config", str(second), "--config", str(nested))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {first} and {second}: both would write dist/ and overlays/ in {tmp_path}; "
        f"put each config in its own directory",
        f"error: {nested}: lies inside {tmp_path / 'dist'}, which another config's synth replaces; move it out of dist/",
    ]
    assert not (tmp_path / "dist" / "base").exists()


def test_one_bad_config_stops_every_config(tmp_path):
    good = make_project(tmp_path / "good")
    bad = make_project(tmp_path / "bad", "namespace: Bad\n")
    result = gen("synth", "--config", str(good), "--config", str(bad))
    assert result.exit_code == 1
    assert f"error: {bad}: namespace: 'Bad'" in result.stderr
    assert not (tmp_path / "good" / "dist").exists()


def test_the_same_config_named_twice_is_synthesized_once(tmp_path):
    config = make_project(tmp_path)
    result = gen("synth", "--config", str(config), "--config", str(tmp_path / "." / "gen.yaml"))
    assert result.exit_code == 0
    assert sum(line.startswith("gen: wrote ") for line in result.stdout.splitlines()) == 1


def test_diff_shows_helmchart_values_on_the_k3s_engine(tmp_path):
    config = make_project(tmp_path, fixture="k3s-helmchart")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "k3s")
    set_scheduler_replicas(tmp_path, 4)
    result = gen("diff", "--config", str(config), "--overlay", "celery-executor")
    assert result.exit_code == 1
    assert "changed: HelmChart kube-system/" in result.stdout
    assert "  values.scheduler.replicas: " in result.stdout and "-> 4" in result.stdout
