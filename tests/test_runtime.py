"""The runtime fails in words: a broken Node.js, an unusable TMPDIR or package cache, a start that never
answers and Ctrl-C each end in one line of gen's own, never a traceback, never click's `Aborted!`.

Each case runs gen in a process of its own: cdk8s starts Node.js once per process. The tests at the end
drive the pieces of those runs in this process (where coverage sees them), without starting Node.js.
"""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

INTERRUPTED = "error: interrupted; dist/ and overlays/ were left as they were"
from support import make_project, tree

from generator.plumbing import runtime
from generator.plumbing.errors import ToolError

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


# --- in this process: the pieces those runs go through, where coverage sees them ----------------------------


def test_a_missing_node_is_one_line_with_the_fix(monkeypatch):
    monkeypatch.setenv("JSII_NODE", "no-such-node-binary")
    with pytest.raises(ToolError, match=r"^Node.js is required .* 'no-such-node-binary' was not found on PATH; "):
        runtime.node_executable()


@pytest.mark.parametrize("text, expected", [
    ("", 7.0), ("  ", 7.0), ("2.5", 2.5),
    ("soon", "GEN_T='soon': must be a number of seconds, such as 7"),
    ("0", "GEN_T='0': must be a number of seconds between 0 and 86400"),
    ("86400", "GEN_T='86400': must be a number of seconds between 0 and 86400"),
])
def test_a_timeout_setting_is_a_number_of_seconds_in_range(monkeypatch, text, expected):
    monkeypatch.setenv("GEN_T", text)
    if isinstance(expected, float):
        assert runtime.timeout_seconds("GEN_T", 7) == expected
    else:
        with pytest.raises(ToolError) as raised:
            runtime.timeout_seconds("GEN_T", 7)
        assert str(raised.value) == expected


def test_work_within_its_deadline_returns_or_raises_its_own_outcome():
    assert runtime.within_deadline(lambda: 42, 5) == 42
    with pytest.raises(KeyError, match="mine"):
        runtime.within_deadline(lambda: {}["mine"], 5)


def test_work_past_its_deadline_is_a_timeout_naming_the_seconds():
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError, match=r"^0.05$"):
            runtime.within_deadline(release.wait, 0.05)
    finally:
        release.set()


def test_the_watchdog_breaks_a_wait_that_never_ends_and_restores_the_alarm():
    previous = signal.getsignal(signal.SIGALRM)
    with pytest.raises(runtime._NoAnswer), runtime._watchdog(0.05):
        time.sleep(5)
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_off_the_main_thread_there_is_no_watchdog():
    seen = []

    def work():
        with runtime._watchdog(0.01):
            time.sleep(0.05)  # no alarm may interrupt this
            seen.append(signal.getitimer(signal.ITIMER_REAL))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [(0.0, 0.0)]


def test_node_starts_in_a_session_of_its_own_and_ends_with_its_group(monkeypatch):
    # The Node.js this test process runs for other tests is not this test's to end.
    monkeypatch.setattr(runtime, "_processes", type(runtime._processes)())
    child = runtime._OwnGroup().Popen(["sleep", "30"])
    assert runtime._OwnGroup().PIPE == subprocess.PIPE  # everything else is the subprocess module
    runtime._children.add(child)
    try:
        assert os.getsid(child.pid) == child.pid
        runtime.end_children()
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        runtime._children.discard(child)
    runtime._end_group(child)  # an ended process, or none, is left alone
    runtime._end_group(None)


def test_jsiis_console_messages_pass_on_and_nodes_own_lines_are_kept_for_the_message(capfdbinary, monkeypatch):
    monkeypatch.setattr(runtime, "_node_said", collections.deque(maxlen=5))
    lines = [json.dumps({"stderr": base64.b64encode(b"to stderr\n").decode()}).encode() + b"\n",
             json.dumps({"stdout": base64.b64encode(b"to stdout\n").decode()}).encode() + b"\n",
             b"node: bad option: --nope\n", b"[1, 2]\n"]
    runtime._stderr_sink(io.BytesIO(b"".join(lines)))
    captured = capfdbinary.readouterr()
    assert (captured.out, captured.err) == (b"to stdout\n", b"to stderr\n")
    assert list(runtime._node_said) == ["node: bad option: --nope", "[1, 2]"]


@pytest.mark.parametrize("exc, expected", [
    (OSError("no package cache here"), "cdk8s could not use the jsii package cache (no package cache here); make "
                                       "HOME (or XDG_CACHE_HOME) a writable directory, or set "
                                       "JSII_RUNTIME_PACKAGE_CACHE=disabled"),
    (OSError("mkdtemp failed"), "Node.js could not create its temporary directory (mkdtemp failed); set TMPDIR to "
                                "a writable directory such as /tmp"),
    (EOFError(), "Node.js at /n did not start the cdk8s runtime (it answered no jsii handshake: EOFError); check "
                 "that `/n --version` prints v22 or newer, or set JSII_NODE to a working node"),
    (RuntimeError("boom\n  at x"), "cdk8s did not start on Node.js at /n: RuntimeError: boom at x; check that "
                                   "`/n --version` prints v22 or newer, or set JSII_NODE to a working node"),
])
def test_a_start_that_fails_is_one_line_naming_the_cause_and_what_node_said(monkeypatch, exc, expected):
    monkeypatch.setattr(runtime, "_processes", [])
    monkeypatch.setattr(runtime, "_node_said", collections.deque(maxlen=5))
    assert runtime._start_problem("/n", exc) == expected
    runtime._node_said.extend(["Error: cannot\nload", "  module"])
    assert runtime._start_problem("/n", exc) == f"{expected} (Node.js said: Error: cannot load module)"


def test_an_unusable_tmpdir_is_refused_before_node_starts(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "file"))
    with pytest.raises(ToolError, match=r"^TMPDIR='.*/file' is not a writable directory, and Node.js unpacks"):
        runtime.cdk8s.__wrapped__()  # past the cache: this process may have started cdk8s already
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert runtime._temp_dir_problem() is None


def test_a_tool_runs_to_its_end_and_is_no_child_afterwards():
    assert runtime.run(["sh", "-c", "echo out; echo err >&2; exit 3"]) == (3, b"out\n", b"err\n")
    assert runtime._children == set()


def test_ctrl_c_while_a_tool_runs_ends_it_with_its_group(monkeypatch):
    started = []
    real = subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    def communicate(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runtime.subprocess, "Popen", popen)
    monkeypatch.setattr(real, "communicate", communicate)
    with pytest.raises(KeyboardInterrupt):
        runtime.run(["sleep", "30"])
    assert started[0].wait(timeout=5) == -signal.SIGKILL
    assert runtime._children == set()
    started[0].stdout.close()  # gen ends right after a Ctrl-C; this process goes on
    started[0].stderr.close()
