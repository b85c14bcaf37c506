"""The `gen` command's entry point: Ctrl-C is handled before the rest of gen is imported, and every outcome
of a command is its lines on stderr and one exit code.

Importing gen (click, PyYAML, jsonschema) takes a moment; a Ctrl-C in that moment must end gen with its
one line, not with Python's traceback of an import.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from types import ModuleType
from typing import NoReturn

from generator.plumbing import interrupts, runtime  # small: no command, no Node.js
from generator.plumbing.output import printable


def _interrupted_while_starting(_signum, _frame) -> None:
    os.write(2, f"{interrupts.UNTOUCHED}\n".encode())
    os._exit(130)  # nothing has been started or written yet: no clean-up to run


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    # gen itself (which starts Node.js only later, when a command builds objects) is imported once a
    # Ctrl-C is handled; run() then installs the handler that reports the state of the trees.
    from generator import commands

    try:
        run(commands)
    except SystemExit as ended:
        _end_now(ended.code if isinstance(ended.code, int) else 0 if ended.code is None else 1)


def _end_now(code: int) -> NoReturn:
    """End gen with `code` once its exit handlers ran (jsii stops Node.js, temporary files go), without the
    interpreter's teardown, which frees every object one by one: about 0.1 s after a review that rendered."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    atexit._run_exitfuncs()
    os._exit(code)


def run(commands: ModuleType) -> None:
    """Run one gen command: every outcome is its lines on stderr and an exit code, never a traceback."""
    import click  # with the commands: imported once Ctrl-C is handled (their imports start Node.js only later)

    signal.signal(signal.SIGINT, interrupts.on_signal)
    try:
        code = commands.cli.main(prog_name="gen", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, EOFError):  # click's word for an EOFError: no Ctrl-C, a bug in gen
            _internal_error(exc.__context__)
        _interrupted(commands, interrupts.UNTOUCHED)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        _interrupted(commands, exc.message if isinstance(exc, interrupts.Interrupted) else interrupts.UNTOUCHED)
    except click.ClickException as exc:
        runtime.end_children()
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug in gen, not in the input: one line, traceback on request
        _internal_error(exc)
    # The command is complete; a Ctrl-C while the process ends (jsii stops Node.js) would only hide that.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted(commands: ModuleType, message: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the message or the exit
    runtime.end_children()
    commands.show_notices()
    os.write(2, f"{message}\n".encode())
    sys.exit(130)


def _internal_error(exc: BaseException) -> None:
    runtime.end_children()
    if os.environ.get("GEN_DEBUG"):
        raise exc
    text = printable(f"{type(exc).__name__}: {exc}")
    os.write(2, f"error: internal error ({text}); dist/ and overlays/ were left as they were; rerun with "
                f"GEN_DEBUG=1 for a traceback and report it\n".encode())
    sys.exit(70)
