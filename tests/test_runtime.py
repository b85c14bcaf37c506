"""The runtime fails in words: a broken Node.js, an unusable TMPDIR or package cache, a start that never
answers and Ctrl-C each end in one line of gen's own, never a traceback, never click's `Aborted!`.

Each case runs gen in a process of its own: cdk8s starts Node.js once per process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

INTERRUPTED = "error: interrupted; dist/ and overlays/ were left as they were"
from support import make_project, tree

GEN = [sys.executable, "-c", "from generator.launch import main; main()"]


def _gen(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GEN, *args], cwd=project, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=300, check=False)


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _assert_one_line(result: subprocess.CompletedProcess, *wanted: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "internal error" not in lines[0]
    for text in wanted:
        assert text in lines[0], lines[0]


@pytest.fixture
def project(tmp_path) -> Path:
    make_project(tmp_path / "project")
    return tmp_path / "project"


def test_a_node_that_exits_at_once_is_one_line(project):
    _assert_one_line(_gen(project, "synth", env={"JSII_NODE": "/bin/false"}), "/bin/false", "JSII_NODE")
    assert not (project / "dist").exists()


def test_a_node_that_prints_garbage_is_one_line(project, tmp_path):
    node = _script(tmp_path / "node", "echo 'this is not jsii'\nread line\n")
    _assert_one_line(_gen(project, "synth", env={"JSII_NODE": node}), node, "JSII_NODE")


def test_a_start_that_never_answers_times_out_with_a_message(project, tmp_path):
    node = _script(tmp_path / "node", "exec sleep 600\n")
    result = _gen(project, "synth", env={"JSII_NODE": node, "GEN_NODE_TIMEOUT": "2"})
    _assert_one_line(result, "did not answer", "GEN_NODE_TIMEOUT")


def test_a_bad_timeout_setting_is_one_line(project):
    _assert_one_line(_gen(project, "synth", env={"GEN_NODE_TIMEOUT": "soon"}), "GEN_NODE_TIMEOUT='soon'")


def test_an_unusable_tmpdir_is_one_line(project, tmp_path):
    _assert_one_line(_gen(project, "synth", env={"TMPDIR": str(tmp_path / "missing")}), "TMPDIR", "writable")


def test_an_unusable_package_cache_is_one_line(project, tmp_path):
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    env = {key: value for key, value in os.environ.items() if not key.startswith("JSII_RUNTIME_PACKAGE_CACHE")}
    env.pop("XDG_CACHE_HOME", None)
    env["HOME"] = str(home)
    result = subprocess.run([*GEN, "synth"], cwd=project, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    _assert_one_line(result, "package cache", "JSII_RUNTIME_PACKAGE_CACHE=disabled")


def _interrupt_once_started(project: Path, node: str, marker: Path) -> subprocess.CompletedProcess:
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group (Node.js too), once Node.js runs."""
    process = subprocess.Popen([*GEN, "synth"], cwd=project, env={**os.environ, "JSII_NODE": node},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for _ in range(3000):  # the marker, not a time, decides when: this loop only bounds the wait
        if marker.exists() or process.poll() is not None:
            break
        time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_while_node_starts_is_gens_own_line_and_exit_130(project, tmp_path):
    marker = tmp_path / "started"
    node = _script(tmp_path / "node", f"touch {marker}\nexec sleep 600\n")
    result = _interrupt_once_started(project, node, marker)
    assert result.returncode == 130, result.stderr
    assert result.stderr == INTERRUPTED + "\n"
    assert not (project / "dist").exists() and not list(project.glob(".gen-staging-*"))


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_ctrl_c_with_a_running_node_leaves_no_traceback_from_jsii(synthesized, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(synthesized["example"], project)
    before = tree(project, "dist", "overlays")
    marker = tmp_path / "started"
    node = _script(tmp_path / "node", f"touch {marker}\nexec {shutil.which('node')} \"$@\"\n")
    result = _interrupt_once_started(project, node, marker)
    assert "Traceback" not in result.stderr and "Aborted!" not in result.stderr
    assert (result.returncode, result.stderr) in ((130, INTERRUPTED + "\n"), (0, ""))
    if result.returncode == 130:
        assert tree(project, "dist", "overlays") == before


def test_a_run_that_is_not_interrupted_ends_without_a_jsii_traceback(project):
    result = _gen(project, "synth")
    assert result.returncode == 0 and result.stderr == "", result.stderr
