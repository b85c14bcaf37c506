"""The `gen` command's entry point: Ctrl-C is handled before the rest of gen is imported.

Importing gen (click, PyYAML, jsonschema) takes a moment; a Ctrl-C in that moment must end gen with its
one line, not with Python's traceback of an import.
"""

from __future__ import annotations

import os
import signal

from generator.plumbing import interrupts  # small: no other module of gen


def _interrupted_while_starting(_signum, _frame) -> None:
    os.write(2, f"{interrupts.UNTOUCHED}\n".encode())
    os._exit(130)  # nothing has been started or written yet: no clean-up to run


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_starting)
    # gen itself (which starts Node.js only later, when a command builds objects) is imported once a
    # Ctrl-C is handled: cli.main then installs the handler that reports the state of the trees.
    from generator import cli

    cli.main()
