"""Memory and CPU of each Airflow component, measured: the figures behind gen's `size` table.

Run with the Airflow environment `./dev dags` sets up:  .venv-airflow/bin/python bench/footprint.py [SECONDS]
Each component (scheduler, api-server, dag-processor, triggerer) runs alone against a fresh SQLite
metadata database with the example DAGs, the Celery executor (an in-memory broker: no task runs),
for SECONDS (default 90). Printed per component: the peak proportional set size (PSS: shared pages
counted once across the forked processes) of its whole process tree, sampled every second, and the
CPU seconds it used. Celery workers and task pods run user code, so they are sized from what the DAGs do,
not from this measurement.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

COMPONENTS = {
    "scheduler": ["scheduler"],
    "api-server": ["api-server", "--port", "18080"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}


def _tree_pss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_full_info().pss
        except psutil.NoSuchProcess:
            pass
    return total


def _tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def measure(name: str, args: list[str], env: dict[str, str], seconds: int) -> tuple[int, float]:
    child = subprocess.Popen([str(Path(sys.executable).parent / "airflow"), *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    process = psutil.Process(child.pid)
    peak, cpu = 0, 0.0
    try:
        for _ in range(seconds):
            time.sleep(1)
            peak = max(peak, _tree_pss(process))
            cpu = max(cpu, _tree_cpu(process))
    finally:
        os.killpg(child.pid, 15)
        child.wait(timeout=30)
    return peak, cpu


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 90
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "examples" / "dags"),
               "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
               "AIRFLOW__CELERY__BROKER_URL": "memory://", "AIRFLOW__CELERY__RESULT_BACKEND": f"db+sqlite:///{home}/celery.db",
               "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db"}
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        version = subprocess.run([str(Path(sys.executable).parent / "airflow"), "version"], env=env, check=True,
                                 capture_output=True, text=True).stdout.strip().splitlines()[-1]
        print(f"Airflow {version}, {seconds} s per component, {os.cpu_count()} cores")
        print(f"{'component':<14} {'peak PSS (MiB)':>15} {'CPU s':>7}")
        for name, args in COMPONENTS.items():
            peak, cpu = measure(name, args, env, seconds)
            print(f"{name:<14} {peak / 2**20:>15.0f} {cpu:>7.1f}")


if __name__ == "__main__":
    main()
