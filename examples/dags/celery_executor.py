"""For the celery-executor overlay: every task runs on a Celery worker.

A task picks a worker pool by queue; workers listen on the chart's default queue, `default`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     tags=["gen-example", "celery-executor"])
def celery_executor_example():
    @task(queue="default")
    def extract() -> list[int]:
        return [1, 2, 3]

    @task
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    total(extract())


celery_executor_example()
