"""The automation gen ships for users: the pre-commit hook, the GitHub Actions workflow, Renovate."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pre_commit.clientlib import load_manifest
from support import REPO, make_project

BIN = Path(sys.executable).parent
WORKFLOW = REPO / "examples" / "github-actions" / "gen.yaml"
RENOVATE = REPO / "examples" / "renovate.json"


def hook() -> dict:
    (only,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))  # pre-commit's own validation
    return only


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, check=False)


def test_the_pre_commit_hook_runs_synth_check_once_per_commit():
    found = hook()
    assert (found["id"], found["entry"], found["language"], found["pass_filenames"]) == (
        "gen-synth-check", "gen synth --check", "python", False)
    files = re.compile(found["files"])
    for path in ("gen.yaml", "charts/airflow/values.yaml", "dist/base/airflow.yaml", "overlays/x/kustomization.yaml",
                 "clusters/home/airflow.yaml", "deploy/airflow/gen.yaml"):
        assert files.search(path), path
    for path in ("README.md", "dags/example.py", "regen.yaml"):
        assert not files.search(path), path


def test_the_pre_commit_hook_passes_on_fresh_output_and_fails_on_stale(tmp_path):
    """Runs the shipped hook under real pre-commit, as a local hook so that nothing is installed."""
    make_project(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    local = {**hook(), "language": "system"}
    (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PRE_COMMIT_HOME": str(tmp_path / ".cache")}

    def run() -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
        return subprocess.run([str(BIN / "pre-commit"), "run", "--all-files"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)

    subprocess.run([str(BIN / "gen"), "synth"], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert run().returncode == 0
    (tmp_path / "charts" / "airflow" / "values.yaml").write_text("scheduler:\n  replicas: 2\n")
    stale = run()
    assert stale.returncode == 1
    assert "+      replicas: 2" in stale.stdout


def test_the_example_workflow_is_a_valid_github_workflow_that_checks_and_comments():
    assert check_jsonschema("vendor.github-workflows", WORKFLOW).returncode == 0
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["manifests"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "gen synth --check" in commands
    assert 'gen diff --base "origin/${GITHUB_BASE_REF}" --require-render --format markdown' in commands
    install = next(step for step in steps if step.get("name") == "Install gen")
    assert install["env"] == {"GEN_SOURCE": "${{ vars.GEN_SOURCE }}"} and 'pip install "$GEN_SOURCE"' in install["run"]
    assert "gh pr comment" in commands
    assert steps[0]["with"]["fetch-depth"] == 0


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


def test_the_renovate_example_is_valid_and_finds_the_chart_pin():
    assert check_jsonschema("vendor.renovate", RENOVATE).returncode == 0
    (manager,) = json.loads(RENOVATE.read_text())["customManagers"]
    pattern = re.compile(manager["matchStrings"][0].replace("(?<", "(?P<"))
    pin = (REPO / "charts" / "airflow" / "chart.yaml").read_text()
    found = pattern.search(pin)
    assert found is not None
    pinned = yaml.safe_load(pin)
    assert found.groupdict() == {"registryUrl": pinned["repository"], "depName": pinned["name"],
                                 "currentValue": pinned["version"]}
    assert re.search(manager["managerFilePatterns"][0].strip("/"), "charts/airflow/chart.yaml")


@pytest.mark.parametrize("broken", [{"customManagers": [{"customType": "bogus"}]}, {"automerge": "yes"},
                                    {"packageRules": [{"groupName": 3}]}])
def test_the_schema_check_rejects_a_broken_renovate_config(tmp_path, broken):
    path = tmp_path / "renovate.json"
    path.write_text(json.dumps(broken))
    assert check_jsonschema("vendor.renovate", path).returncode == 1
