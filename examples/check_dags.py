"""Load every example DAG with Airflow's own parser, under its overlay's executor; exit 1 on any error.

Each DAG is parsed in its own process with `[core] executor` set as its overlay sets it, because
Airflow refuses a task whose `executor=` is not configured. Run it where the pinned Airflow is
installed (`./dev dags` builds that environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

DAGS = Path(__file__).resolve().parent / "dags"
# file -> (executor string the overlay sets on Airflow 3, DAG id it defines)
EXAMPLES = {
    "celery_executor.py": ("CeleryExecutor", "celery_executor_example"),
    "kubernetes_executor.py": ("KubernetesExecutor", "kubernetes_executor_example"),
    "celery_kubernetes_executor.py": ("CeleryExecutor,KubernetesExecutor", "my_dag"),
}


def check_one(filename: str) -> int:
    with tempfile.TemporaryDirectory(prefix="airflow-home-") as home:
        return _check_in(home, filename)


def _check_in(home: str, filename: str) -> int:
    executor, dag_id = EXAMPLES[filename]
    os.environ.update({"AIRFLOW_HOME": home, "AIRFLOW__CORE__EXECUTOR": executor,
                       "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR"})
    try:  # Airflow 3.3 moved DagBag and dropped include_examples (LOAD_EXAMPLES above covers both)
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / filename))
    problems = [f"{filename}: {error.strip().splitlines()[-1]}" for error in bag.import_errors.values()]
    if dag_id not in bag.dag_ids:
        problems.append(f"{filename}: DAG {dag_id!r} not found")
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    if not problems:
        print(f"ok: {filename} ({dag_id}, executor {executor})")
    return 1 if problems else 0


def main() -> int:
    if len(sys.argv) == 2:
        return check_one(sys.argv[1])
    failed = [name for name in EXAMPLES
              if subprocess.run([sys.executable, __file__, name], stderr=None, check=False).returncode]
    print(f"example DAGs: {len(EXAMPLES) - len(failed)} of {len(EXAMPLES)} load without errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
