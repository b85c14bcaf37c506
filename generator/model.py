"""The config as frozen dataclasses: what gen.yaml and the chart files beside it say, once validated.

Every other module reads the config through these types; this module imports nothing of gen's, so
rule modules, constructs and the loader can all depend on it without depending on each other.
`config.load` builds a `Config`; nothing else does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", text):  # int() would take " 7\n"
            raise ValueError(f"not a version X.Y.Z: {text!r}")
        major, minor, patch = (int(part) for part in text.split("."))
        return cls(major, minor, patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"



@dataclass(frozen=True)
class ImageConfig:
    repository: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class AirflowConfig:
    image: ImageConfig
    version: str | None = None
    base_url: str | None = None  # only without a route (ingress: false)


@dataclass(frozen=True)
class NfsConfig:
    server: str
    path: str


@dataclass(frozen=True)
class GitSyncConfig:
    repository: str
    branch: str = "main"
    period: str = "60s"
    sub_path: str = ""
    credentials_secret: str | None = None


@dataclass(frozen=True)
class RemoteLogsConfig:
    base_log_folder: str
    connection_secret: str
    connection_id: str = "remote_logs"


@dataclass(frozen=True)
class VolumeConfig:
    host_path: str
    size: str
    access_mode: str
    type: str = "hostPath"
    storage_class_name: str | None = None
    existing_claim: str | None = None
    nfs: NfsConfig | None = None


@dataclass(frozen=True)
class DagsVolumeConfig(VolumeConfig):
    git_sync: GitSyncConfig | None = None


@dataclass(frozen=True)
class LogsVolumeConfig(VolumeConfig):
    remote: RemoteLogsConfig | None = None


@dataclass(frozen=True)
class StorageConfig:
    class_name: str
    reclaim_policy: str
    dags: DagsVolumeConfig
    logs: LogsVolumeConfig

    def volume(self, name: str) -> VolumeConfig:
        return {"dags": self.dags, "logs": self.logs}[name]


@dataclass(frozen=True)
class TlsConfig:
    cert_resolver: str | None = None
    secret_name: str | None = None


@dataclass(frozen=True)
class MiddlewareRef:
    """A Traefik Middleware the user already runs (forward auth, rate limit, ...), attached to the route."""

    name: str
    namespace: str | None = None  # the release namespace


@dataclass(frozen=True)
class ParentRef:
    """A Gateway an HTTPRoute attaches to, and optionally one of its listeners."""

    name: str
    namespace: str | None = None  # the release namespace
    section_name: str | None = None  # every listener that allows the route


@dataclass(frozen=True)
class IngressConfig:
    host: str
    path_prefix: str
    entry_points: tuple[str, ...]
    tls: TlsConfig = TlsConfig()
    prefix_mode: str = "keep"
    kind: str = "IngressRoute"  # or Ingress, HTTPRoute
    class_name: str | None = None  # kind Ingress: the IngressClass; None: the cluster's default
    parent_refs: tuple[ParentRef, ...] = ()  # kind HTTPRoute
    api_group: str = "traefik.io"
    middlewares: tuple[MiddlewareRef, ...] = ()
    security_headers: bool | None = None  # None: on for kind IngressRoute (see hardening.security_headers)
    allow_from: tuple[str, ...] = ()
    traefik_namespace: str | None = None  # None: the distribution's (see hardening.traefik_namespace)
    controller_namespace: str | None = None  # kinds Ingress and HTTPRoute; None: every namespace
    trusted_proxies: tuple[str, ...] | None = None  # None: the distribution's pod network


@dataclass(frozen=True)
class NetworkPoliciesConfig:
    enabled: bool = True


@dataclass(frozen=True)
class FluxClusterConfig:
    """Where the cluster's Flux finds this project: clusters/<name>/airflow.yaml is generated from it."""

    name: str
    overlay: str
    url: str
    branch: str
    path: str
    interval: str
    timeout: str
    secret_name: str | None = None


@dataclass(frozen=True)
class FluxConfig:
    interval: str
    timeout: str
    retry_interval: str
    source_interval: str
    cluster: FluxClusterConfig | None = None


@dataclass(frozen=True)
class KindConfig:
    data_dir: str = "data"


@dataclass(frozen=True)
class NodeCapacity:
    """What one node can give Airflow's pods (its Allocatable)."""

    cpu: str | int
    memory: str


@dataclass(frozen=True)
class ClusterConfig:
    kind: KindConfig
    distribution: str = "k3s"
    nodes: int = 1
    capacity: NodeCapacity | None = None


@dataclass(frozen=True)
class GitOpsConfig:
    engine: str = "flux"


@dataclass(frozen=True)
class AutoscalingConfig:
    """KEDA scaling of the Celery workers (workers.celery.autoscaling)."""

    max: int
    min: int = 0


@dataclass(frozen=True)
class CeleryWorkersConfig:
    replicas: int
    autoscaling: AutoscalingConfig | None = None
    broker: str = "redis"  # redis: the chart's bundled Redis; external: the URL in secrets.brokerUrl


@dataclass(frozen=True)
class TaskPodConfig:
    resources: dict[str, Any]
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    env: list[dict[str, str]]


@dataclass(frozen=True)
class WorkersConfig:
    celery: CeleryWorkersConfig
    kubernetes: TaskPodConfig


@dataclass(frozen=True)
class SopsConfig:
    """secrets.provider sops: who the Secrets are encrypted for, and where the files live."""

    age_recipients: tuple[str, ...] = ()
    path: str = "secrets"


@dataclass(frozen=True)
class SecretStoreRef:
    name: str
    kind: str = "ClusterSecretStore"


@dataclass(frozen=True)
class ExternalSecretsConfig:
    """secrets.provider external-secrets: the store the operator reads, how often, under which keys."""

    store: SecretStoreRef
    refresh_interval: str = "1h"
    remote_key: str = "airflow/<release>/<secret>"


@dataclass(frozen=True)
class SecretsConfig:
    provider: str = "manual"
    sops: SopsConfig | None = None
    external_secrets: ExternalSecretsConfig | None = None
    fernet_key: str | None = None
    api_secret_key: str | None = None
    jwt_secret: str | None = None
    webserver_secret_key: str | None = None
    metadata: str | None = None
    postgresql: str | None = None
    redis_password: str | None = None
    broker_url: str | None = None
    admin_password: str | None = None


@dataclass(frozen=True)
class ExternalDatabaseConfig:
    """A PostgreSQL server gen does not run (database.type external)."""

    host: str
    port: int = 5432
    sslmode: str = "require"


@dataclass(frozen=True)
class ObjectStoreConfig:
    """The S3-compatible bucket a CloudNativePG Cluster's backups and WAL files go to."""

    destination_path: str
    secret: str
    endpoint_url: str | None = field(default=None, metadata={"key": "endpointURL"})


@dataclass(frozen=True)
class BackupConfig:
    """Backups of the CloudNativePG Cluster through the Barman Cloud plugin. Defaults match the schema's."""

    object_store: ObjectStoreConfig
    schedule: str = "0 0 2 * * *"
    retention: str = "30d"


@dataclass(frozen=True)
class CloudNativePGConfig:
    """The CloudNativePG Cluster gen emits (database.type cloudnativepg). Defaults match the schema's."""

    instances: int = 1
    size: str = "10Gi"
    storage_class_name: str | None = None
    backup: BackupConfig | None = None


@dataclass(frozen=True)
class DatabaseConfig:
    """The metadata database: the chart's bundled PostgreSQL, an external server, or a CloudNativePG Cluster."""

    type: str = "bundled"
    name: str = "airflow"
    user: str = "airflow"
    external: ExternalDatabaseConfig | None = None
    cloudnativepg: CloudNativePGConfig | None = None


@dataclass(frozen=True)
class SynthConfig:
    """What gen synth builds: the executor overlays of this project."""

    overlays: tuple[str, ...] = ("celery-executor", "kubernetes-executor", "celery-kubernetes-executor")


@dataclass(frozen=True)
class AvailabilityConfig:
    """Surviving a node drain; None: decided by cluster.nodes (see knowledge/operations.py)."""

    api_server_replicas: int | None = None
    disruption_budgets: bool | None = None


@dataclass(frozen=True)
class MetricsConfig:
    """Prometheus scraping of the chart's StatsD exporter."""

    service_monitor: bool = False
    service_monitor_labels: dict[str, str] = field(default_factory=dict)
    interval: str = "30s"


@dataclass(frozen=True)
class OverlayConfig:
    values: dict[str, Any]
    executor: str = "auto"


@dataclass(frozen=True)
class ChartPin:
    """charts/airflow/chart.yaml: which chart, from where, at which exact version."""

    repository: str
    name: str
    version: Version
    airflow_version: Version


@dataclass(frozen=True)
class Source:
    """Where the config came from: outputs and chart files are relative to `project_dir`."""

    path: Path
    project_dir: Path
    label: str  # the config as the user named it, for messages
    # sha256 of the bytes the loader parsed: `config` (this file) and the chart files by relative path,
    # read once, so a record of this run's output names exactly the inputs it came from.
    digests: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The config file's name, stable across machines, for file headers."""
        return self.path.name


@dataclass(frozen=True)
class Config:
    namespace: str
    release: str
    cluster: ClusterConfig
    airflow: AirflowConfig
    storage: StorageConfig
    ingress: IngressConfig | None  # None: no route (ingress: false)
    flux: FluxConfig
    gitops: GitOpsConfig
    workers: WorkersConfig
    secrets: SecretsConfig
    network_policies: NetworkPoliciesConfig
    overlays: dict[str, OverlayConfig] = field(metadata={"mapping": OverlayConfig})
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    availability: AvailabilityConfig = field(default_factory=AvailabilityConfig)
    size: str | None = None
    # Not from gen.yaml: read from the files beside it.
    chart: ChartPin = field(default=None, metadata={"derived": True})  # type: ignore[assignment]
    base_values: dict[str, Any] = field(default_factory=dict, metadata={"derived": True})
    source: Source = field(default=None, metadata={"derived": True})  # type: ignore[assignment]

    @property
    def airflow_version(self) -> Version:
        return Version.parse(self.airflow.version) if self.airflow.version else self.chart.airflow_version
