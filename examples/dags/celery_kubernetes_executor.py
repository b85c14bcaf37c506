"""For the celery-kubernetes-executor overlay: the post's `my_dag`, brought up to Airflow 3.

With `executor: CeleryExecutor,KubernetesExecutor` the first executor (Celery) is the default and a
task asks for the other with `executor="KubernetesExecutor"`; its pod can be changed with
`executor_config`, as in the post. (`CeleryKubernetesExecutor` and its `kubernetes` queue are
Airflow 2 only.)
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from kubernetes.client import models as k8s

CUSTOM_IMAGE = {
    "pod_override": k8s.V1Pod(
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="base", image="apache/airflow:3.3.2-python3.12")])
    )
}


@dag(dag_id="my_dag", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     tags=["gen-example", "celery-kubernetes-executor"])
def my_dag():
    @task(executor="KubernetesExecutor", executor_config=CUSTOM_IMAGE)
    def task_kubernetes() -> str:
        return "ran in its own pod"

    @task(queue="default")
    def task_celery(previous: str) -> str:
        return f"{previous}; then on a Celery worker"

    task_celery(task_kubernetes())


my_dag()
