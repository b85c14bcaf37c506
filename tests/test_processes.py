"""Processes gen starts end with gen, and every interruption tells the truth.

- Node.js (via jsii) and kubectl run in process groups of their own, ended on a timeout, Ctrl-C or error.
- Node.js's own stderr never reaches the terminal raw; its last words join gen's one line.
- Ctrl-C while Python still imports gen is gen's line, not a traceback.
- Ctrl-C during the swap lets it finish, and says that the output is complete; --check agrees.
- A run killed between the renames of dist/ and overlays/ is finished by the next run or --check, which says so.

Each case runs gen in a process of its own (cdk8s starts Node.js once per process).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import make_project, tree

from generator.plumbing import interrupts, swap

TREES = ("dist", "overlays")


def _gen(project: Path, script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """gen's real entry point after `script` (a patch that stands for a moment, such as a kill)."""
    code = f"import os, signal, sys\n{script}\nfrom generator.launch import main\nsys.argv = ['gen', *sys.argv[1:]]\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=project, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=300, check=False)


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def _gone(pid: int) -> bool:
    for _ in range(200):  # a killed process may wait a moment to be reaped: this loop only bounds the wait
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def project(tmp_path) -> Path:
    make_project(tmp_path / "project")
    return tmp_path / "project"


@pytest.mark.parametrize("body", ["sleep 600 &\necho $! > {pids}\nexec sleep 600\n",
                                  "sleep 600 &\necho $! > {pids}\nwhile :; do :; done\n"],
                         ids=["sleeping", "busy"])
def test_node_and_what_it_started_end_with_gen_after_the_timeout(project, tmp_path, body):
    pids = tmp_path / "pids"
    node = _script(tmp_path / "node", body.format(pids=pids))
    result = _gen(project, "", "synth", env={"JSII_NODE": node, "GEN_NODE_TIMEOUT": "2"})
    assert result.returncode == 1 and "did not answer within 2 s" in result.stderr
    assert _gone(int(pids.read_text()))


@pytest.mark.parametrize("said", ["node: garbage", "Error: Cannot find module '/x/jsii-runtime.js'"])
def test_what_node_says_on_stderr_joins_gens_one_line(project, tmp_path, said):
    node = _script(tmp_path / "node", f"echo \"{said}\" >&2\nexit 3\n")
    result = _gen(project, "", "synth", env={"JSII_NODE": node})
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and line.endswith(f"(Node.js said: {said})")


def test_a_tool_gen_runs_is_ended_with_its_group(tmp_path):
    """kubectl and what it starts: end_children (called on Ctrl-C and every error path) ends the group. In a
    process of its own: end_children ends every child of the process, a test runner's Node.js too."""
    pid_file = tmp_path / "child"
    code = (f"import threading, time\nfrom pathlib import Path\nfrom generator.plumbing import runtime\n"
            f"out = []\nt = threading.Thread(target=lambda: out.append(runtime.run(['sh', '-c', "
            f"'sleep 600 & echo $! > {pid_file}; wait'])))\nt.start()\n"
            f"while not (Path('{pid_file}').exists() and Path('{pid_file}').read_text().strip()):\n"
            f"    time.sleep(0.05)\nruntime.end_children()\nt.join(30)\nprint(out[0][0])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() != "0", result.stderr
    assert _gone(int(pid_file.read_text()))


def test_ctrl_c_while_python_imports_gen_is_gens_own_line(project):
    interrupt_at_import = (
        "import builtins\nreal = builtins.__import__\n"
        "def imported(name, *args, **kwargs):\n"
        "    if name == 'generator' and args and args[2] and 'commands' in args[2]:\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = imported")
    result = _gen(project, interrupt_at_import, "synth")
    assert (result.returncode, result.stderr) == (130, interrupts.UNTOUCHED + "\n")


@pytest.fixture
def changed(synthesized, tmp_path) -> Path:
    """The synthesized example with a change in gen.yaml, so a synth replaces both trees."""
    root = tmp_path / "changed"
    shutil.copytree(synthesized["example"], root)
    config = root / "gen.yaml"
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 2\n"))
    return root


def _check(project: Path) -> subprocess.CompletedProcess:
    return _gen(project, "", "synth", "--check")


INTERRUPT_AT = {
    "between the trees and the wiring file": "from generator.plumbing import swap\nreal = swap.Swap.files\n"
    "def files(self, prepared):\n    os.kill(os.getpid(), signal.SIGINT)\n    real(self, prepared)\n"
    "swap.Swap.files = files",
    "between dist/ and overlays/": "from generator.plumbing import swap\nreal = swap._exchange\n"
    "def exchange(new, current):\n    if current.name == 'overlays':\n        os.kill(os.getpid(), signal.SIGINT)\n"
    "    return real(new, current)\nswap._exchange = exchange",
    "after the record": "from generator.synth import freshness\nreal = freshness.record\n"
    "def record(key, files):\n    real(key, files)\n    os.kill(os.getpid(), signal.SIGINT)\nfreshness.record = record",
}


@pytest.mark.parametrize("moment", sorted(INTERRUPT_AT))
def test_ctrl_c_during_the_swap_finishes_it_and_says_so(changed, tmp_path, moment):
    result = _gen(changed, INTERRUPT_AT[moment], "synth", env={"GEN_CACHE_DIR": str(tmp_path / "cache")})
    assert (result.returncode, result.stderr) == (130, interrupts.WRITTEN + "\n"), result.stderr
    assert not list(changed.glob(".gen-staging-*")) and not (changed / swap.JOURNAL).exists()
    checked = _gen(changed, "", "synth", "--check", env={"GEN_CACHE_DIR": str(tmp_path / "cache")})
    assert checked.returncode == 0 and "up to date" in checked.stdout + checked.stderr


KILL_BETWEEN_TREES = ("from generator.plumbing import swap\nreal = swap._exchange\n"
                      "def exchange(new, current):\n    if current.name == 'overlays':\n"
                      "        os.kill(os.getpid(), signal.SIGKILL)\n    return real(new, current)\n"
                      "swap._exchange = exchange")


@pytest.mark.parametrize("next_run", [["synth", "--check"], ["synth"]], ids=["check", "synth"])
def test_a_run_killed_between_the_trees_is_finished_by_the_next_and_it_says_so(changed, synthesized, tmp_path,
                                                                              next_run):
    expected = tmp_path / "expected"
    shutil.copytree(changed, expected)
    assert _gen(expected, "", "synth").returncode == 0
    killed = _gen(changed, KILL_BETWEEN_TREES, "synth")
    assert killed.returncode == -9
    assert (changed / swap.JOURNAL).exists()
    assert tree(changed, "dist") == tree(expected, "dist") and tree(changed, "overlays") != tree(expected, "overlays")
    result = _gen(changed, "", *next_run)
    assert result.returncode == 0, result.stderr
    assert "was stopped while it replaced dist/ and overlays/; gen finished it" in result.stderr
    assert tree(changed, *TREES) == tree(expected, *TREES)
    assert not (changed / swap.JOURNAL).exists() and not list(changed.glob(".gen-staging-*"))


def test_init_with_standard_input_closed_takes_the_options_given(tmp_path):
    result = subprocess.run([sys.executable, "-c", "from generator.launch import main; main()", "init", "p",
                             "--host", "airflow.example.com", "--cert-resolver", "le"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
                            preexec_fn=lambda: os.close(0))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p" / "gen.yaml").is_file()


@pytest.mark.parametrize("command", [["import", "--values", "values.yaml"], ["init", "--host", "a.example.com",
                                                                            "--cert-resolver", "le"]])
def test_dir_naming_a_file_is_gens_one_line(tmp_path, command):
    (tmp_path / "values.yaml").write_text("executor: CeleryExecutor\n")
    (tmp_path / "afile").write_text("x\n")
    result = _gen(tmp_path, "", *command, "afile")
    assert result.returncode == 1
    assert result.stderr == "error: afile: exists and is not a directory; name a directory for the new project\n"
