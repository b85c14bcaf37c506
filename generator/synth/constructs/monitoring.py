"""The ServiceMonitor that has Prometheus scrape Airflow's metrics (metrics.serviceMonitor).

Airflow sends StatsD metrics to the chart's exporter (statsd.enabled, on by default), which serves
them to Prometheus on the Service port `statsd-scrape`. The chart ships no ServiceMonitor
(apache/airflow#72479), so gen writes one, selecting the exporter's Service by the labels the chart
puts on it. gen's NetworkPolicies select only the UI and Redis pods, so nothing stops the scrape.
"""

from __future__ import annotations

from constructs import Construct

from generator.knowledge import names
from generator.synth.constructs.api import api_object

API_VERSION = "monitoring.coreos.com/v1"
SCRAPE_PORT = "statsd-scrape"  # the port name of the chart's <release>-statsd Service


class StatsdServiceMonitor(Construct):
    def __init__(self, scope: Construct, id: str, *, namespace: str, release: str, labels: dict[str, str],
                 interval: str) -> None:
        super().__init__(scope, id)
        selector = {**names.airflow_pod_labels(release), "component": "statsd"}
        api_object(self, "Resource", api_version=API_VERSION, kind="ServiceMonitor",
                   name=names.service_monitor(release), namespace=namespace, labels=dict(sorted(labels.items())),
                   spec={"selector": {"matchLabels": selector}, "namespaceSelector": {"matchNames": [namespace]},
                         "endpoints": [{"port": SCRAPE_PORT, "interval": interval, "path": "/metrics"}]})
