"""For the kubernetes-executor overlay: every task runs in a pod of its own.

The pod comes from the chart's pod template (shaped by `workers.kubernetes.*` in gen.yaml); one task
overrides it with `executor_config` and a `pod_override`. The container to change is named "base".
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from kubernetes.client import models as k8s

BIGGER_POD = {
    "pod_override": k8s.V1Pod(
        spec=k8s.V1PodSpec(
            containers=[
                k8s.V1Container(
                    name="base",
                    resources=k8s.V1ResourceRequirements(requests={"cpu": "1", "memory": "2Gi"},
                                                         limits={"memory": "2Gi"}),
                )
            ]
        )
    )
}


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     tags=["gen-example", "kubernetes-executor"])
def kubernetes_executor_example():
    @task
    def small() -> str:
        return "runs in the default task pod"

    @task(executor_config=BIGGER_POD)
    def large(message: str) -> str:
        return f"{message}, then in a pod with 1 CPU and 2Gi"

    large(small())


kubernetes_executor_example()
