"""The `gen` entry point in this process: each way a command ends is its lines on stderr and one exit code.

test_processes.py runs the installed `gen` in a subprocess (where coverage is not measured); here launch.run
is given a small command module, so each outcome is checked without starting Node.js.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from types import ModuleType

import click
import pytest

from generator import launch
from generator.plumbing import interrupts


@pytest.fixture(autouse=True)
def _sigint_restored():
    """launch installs its own SIGINT handlers; the test runner's must be back afterwards."""
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def _node_kept(monkeypatch):
    """launch ends every child process on its error paths: here, the Node.js that later tests in this test
    process use (test_processes ends real children, in processes of their own)."""
    monkeypatch.setattr(launch.runtime, "end_children", lambda: None)


def _module(action) -> ModuleType:
    """A cli-like module whose one command runs `action`, and a show_notices that leaves a mark."""
    module = ModuleType("fake_cli")
    module.shown = []

    @click.command()
    def cli():
        return action()

    module.cli = cli
    module.show_notices = lambda: module.shown.append(True)
    return module


def _run(monkeypatch, action, *args: str) -> tuple[int, ModuleType]:
    monkeypatch.setattr(sys, "argv", ["gen", *args])
    module = _module(action)
    with pytest.raises(SystemExit) as ended:
        launch.run(module)
    return ended.value.code, module


def _raise(exc: BaseException):
    def action():
        raise exc
    return action


def test_a_command_that_returns_exits_0_and_ignores_a_late_ctrl_c(monkeypatch, capfd):
    code, _ = _run(monkeypatch, lambda: None)
    assert code == 0
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a Ctrl-C while Node.js stops hides nothing
    assert capfd.readouterr().err == ""


def test_a_command_that_returns_a_code_exits_with_it(monkeypatch):
    assert _run(monkeypatch, lambda: 3)[0] == 3


def test_a_usage_error_is_clicks_message_and_exit_2(monkeypatch, capfd):
    code, _ = _run(monkeypatch, lambda: None, "--no-such-option")
    assert code == 2
    err = capfd.readouterr().err
    assert "Error: No such option '--no-such-option'." in err and "Traceback" not in err


def test_click_exit_keeps_its_code(monkeypatch):
    """click returns an Exit's code when not standalone; run exits with it."""
    assert _run(monkeypatch, _raise(click.exceptions.Exit(4)))[0] == 4


@pytest.mark.parametrize("exc, err", [
    (interrupts.Interrupted(), f"{interrupts.UNTOUCHED}\n"),
    (interrupts.Interrupted(written=True), f"{interrupts.WRITTEN}\n"),
    (KeyboardInterrupt(), f"\n{interrupts.UNTOUCHED}\n"),  # click's blank line closes the terminal's ^C
    (click.exceptions.Abort(), f"{interrupts.UNTOUCHED}\n"),
])
def test_ctrl_c_is_one_line_that_says_what_was_written_and_exit_130(monkeypatch, capfd, exc, err):
    code, module = _run(monkeypatch, _raise(exc))
    assert code == 130
    assert capfd.readouterr().err == err
    assert module.shown == [True]  # the plumbing's notices come before the last line
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a second Ctrl-C cannot break the message


def test_end_of_input_at_a_prompt_is_an_internal_error_not_a_ctrl_c(monkeypatch, capfd):
    def action():
        try:
            raise EOFError()
        except EOFError:
            raise click.exceptions.Abort() from None

    monkeypatch.delenv("GEN_DEBUG", raising=False)
    code, module = _run(monkeypatch, action)
    assert code == 70
    err = capfd.readouterr().err
    assert err.startswith("error: internal error (EOFError: ); dist/ and overlays/ were left as they were")
    assert module.shown == []


def test_a_bug_is_one_line_with_the_exception_and_exit_70(monkeypatch, capfd):
    monkeypatch.delenv("GEN_DEBUG", raising=False)
    code, _ = _run(monkeypatch, _raise(ValueError("bad\x1b[31m state")))
    assert code == 70
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err  # the text is made printable
    assert err.startswith("error: internal error (ValueError: bad")
    assert err.endswith("rerun with GEN_DEBUG=1 for a traceback and report it\n")


def test_gen_debug_lets_the_traceback_through(monkeypatch):
    monkeypatch.setenv("GEN_DEBUG", "1")
    monkeypatch.setattr(sys, "argv", ["gen"])
    with pytest.raises(ValueError, match="bad state"):
        launch.run(_module(_raise(ValueError("bad state"))))


def test_main_runs_gens_own_commands(monkeypatch, capfd):
    monkeypatch.setattr(sys, "argv", ["gen", "--help"])
    ended: list[int] = []
    monkeypatch.setattr(launch, "_end_now", ended.append)  # the real one would end this test process
    launch.main()
    assert ended == [0]
    assert "Usage: gen" in capfd.readouterr().out


def test_gen_ends_after_its_exit_handlers_and_its_output_without_the_interpreters_teardown():
    code = ("import atexit; from generator import launch\n"
            "class Freed:\n    def __del__(self): print('teardown')\n"
            "kept = Freed()\n"
            "atexit.register(lambda: print('exit handler', flush=True))\n"
            "print('buffered output', end='; ')\n"
            "launch._end_now(3)\n")
    ended = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (ended.returncode, ended.stdout, ended.stderr) == (3, "buffered output; exit handler\n", "")


def test_ctrl_c_while_gen_starts_is_the_untouched_line_and_exit_130(monkeypatch, capfd):
    codes = []
    monkeypatch.setattr(launch.os, "_exit", codes.append)
    launch._interrupted_while_starting(signal.SIGINT, None)
    assert codes == [130]
    assert capfd.readouterr().err == f"{interrupts.UNTOUCHED}\n"
