"""Production operations: metrics scraping and database backups, and the rules that keep them working.

Each rule returns one line per problem with what to write instead, like the other rule modules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from generator.knowledge import airflow, cluster, credentials, database
from generator.knowledge.airflow import Generated
from generator.knowledge.quantities import quantity
from generator.model import Config
from generator.plumbing.values import value_at


def _metrics_problems(config: Config) -> list[str]:
    if config.metrics.service_monitor and value_at(config.base_values, "statsd.enabled", True) is False:
        return [f"{config.source.label}: metrics.serviceMonitor: needs the chart's StatsD exporter, but "
                f"charts/airflow/values.yaml sets statsd.enabled: false; remove that line, or set "
                f"metrics.serviceMonitor: false"]
    return []


def _backup_problems(config: Config) -> list[str]:
    """The bucket's Secret must be one of its own: gen secrets fills the others with random values."""
    backup = database.backup(config)
    if backup is None:
        return []
    secret = backup.object_store.secret
    taken = {credentials.name(config, spec): spec.where for spec in credentials.SPECS
             if spec.setting != credentials.BACKUP_BUCKET}
    if secret in taken:
        return [f"{config.source.label}: database.cloudnativepg.backup.objectStore.secret: {secret!r} is also the "
                f"Secret of {taken[secret]}; the bucket's keys ({', '.join(database.OBJECT_STORE_KEYS)}) need a "
                f"Secret of their own, such as {database.cluster_name(config)}-backup-s3"]
    return []


def _user_values(config: Config) -> list[tuple[str, dict[str, Any]]]:
    """The user's chart values: the base file, then each overlay's."""
    return [("charts/airflow/values.yaml", config.base_values),
            *((f"overlays.{name}.values", overlay.values) for name, overlay in sorted(config.overlays.items()))]


def _autoscaling_problems(config: Config) -> list[str]:
    """KEDA owns the worker count: a fixed count beside it is a fight the chart settles silently."""
    scaling, where = config.workers.celery.autoscaling, f"{config.source.label}: workers.celery"
    if scaling is None:
        return []
    found = []
    if scaling.min > scaling.max:
        found.append(f"{where}.autoscaling.min: {scaling.min} is above max {scaling.max}; KEDA needs min <= max")
    if config.workers.celery.replicas != 1:
        found.append(f"{where}.replicas: KEDA sets the worker count with autoscaling, between min and max; remove "
                     f"replicas, or set autoscaling: false")
    for source, values in _user_values(config):
        for key in ("workers.replicas", "workers.celery.replicas"):
            if value_at(values, key, None) is not None:
                found.append(f"{config.source.label}: {source}: {key}: KEDA sets the worker count with "
                             f"workers.celery.autoscaling; remove {key}")
    deployed = config.flux.cluster.overlay if config.flux.cluster else None
    if deployed == airflow.KUBERNETES_EXECUTOR:
        found.append(f"{where}.autoscaling: the deployed overlay (flux.cluster.overlay) is kubernetes-executor, "
                     f"which runs no Celery workers to scale; remove autoscaling, or deploy a Celery overlay")
    return found


def _budget_blocks(budget: Any, replicas: int) -> str | None:
    """Why a PodDisruptionBudget config lets no pod be evicted, or None."""
    config = budget.get("config") if isinstance(budget, dict) else None
    if not isinstance(budget, dict) or budget.get("enabled") is not True or not isinstance(config, dict):
        return None
    if str(config.get("maxUnavailable", "1")) in ("0", "0%"):
        return f"maxUnavailable {config['maxUnavailable']} lets no pod go"
    least = config.get("minAvailable")
    if isinstance(least, int) and least >= replicas:
        return f"minAvailable {least} with {replicas} replica{'s' * (replicas != 1)} lets no pod go"
    if str(least) == "100%":
        return "minAvailable 100% lets no pod go"
    return None


def _budget_problems(config: Config) -> list[str]:
    """A budget that no eviction can satisfy blocks every node drain (kubectl drain waits forever)."""
    found = []
    components = [*BUDGETED, "webserver", "workers", "workers.celery"]
    for source, values in _user_values(config):
        for component in components:
            budget = value_at(values, f"{component}.podDisruptionBudget", None)
            replicas = value_at(values, f"{component}.replicas", None)
            if replicas is None:
                replicas = api_server_replicas(config) if component in ("apiServer", "webserver") else 1
            why = _budget_blocks(budget, replicas) if isinstance(replicas, int) else None
            if why:
                found.append(f"{config.source.label}: {source}: {component}.podDisruptionBudget: {why}, so every "
                             f"node drain waits forever; use config: {{maxUnavailable: 1}}, or more replicas")
    return found


def problems(config: Config) -> list[str]:
    return (_metrics_problems(config) + _backup_problems(config) + _autoscaling_problems(config)
            + _budget_problems(config))


# --- availability ---------------------------------------------------------------------------------

# Components whose pods a node drain evicts one at a time under gen's budgets (maxUnavailable 1, the
# chart's own default config), by their chart key. Celery workers are the overlays' (see below).
BUDGETED = ("scheduler", "apiServer", "dagProcessor", "triggerer")


def api_server_replicas(config: Config) -> int:
    """availability.apiServerReplicas, else 2 on several nodes (one may be drained) and 1 on one."""
    chosen = config.availability.api_server_replicas
    return chosen if chosen is not None else 2 if cluster.multi_node(config) else 1


def disruption_budgets(config: Config) -> bool:
    chosen = config.availability.disruption_budgets
    return chosen if chosen is not None else cluster.multi_node(config)


def _ui_key(config: Config) -> str:
    return "apiServer" if airflow.is_airflow_3(config.airflow_version) else "webserver"


def availability_values(config: Config) -> Generated:
    values: Generated = {}
    replicas = api_server_replicas(config)
    if replicas > 1 or config.availability.api_server_replicas is not None:
        values[f"{_ui_key(config)}.replicas"] = (replicas, "availability.apiServerReplicas")
    if disruption_budgets(config):
        for component in BUDGETED:
            key = _ui_key(config) if component == "apiServer" else component
            values[f"{key}.podDisruptionBudget.enabled"] = (True, "availability.disruptionBudgets")
    return values


def celery_values(config: Config) -> Generated:
    """What the Celery overlays add: the workers' budget, and KEDA in place of a fixed count."""
    values: Generated = {}
    version = config.chart.version
    if disruption_budgets(config):
        values[airflow.chart_key("workers.celery.podDisruptionBudget.enabled", version)] = (
            True, "availability.disruptionBudgets")
    scaling = config.workers.celery.autoscaling
    if scaling is not None:
        origin = "workers.celery.autoscaling"
        keda = airflow.chart_key("workers.celery.keda", version)
        values.update({
            f"{keda}.enabled": (True, origin),
            f"{keda}.minReplicaCount": (scaling.min, f"{origin}.min"),
            f"{keda}.maxReplicaCount": (scaling.max, f"{origin}.max"),
            # KEDA polls with AIRFLOW_CONN_AIRFLOW_DB, the `connection` key of the metadata Secret that
            # every pod uses (through pgbouncer when it is on); false would need a kedaConnection key.
            f"{keda}.usePgbouncer": (True, origin),
        })
    return values


# --- sizes ----------------------------------------------------------------------------------------

# `size: small`, per component: (CPU request in millicores, memory request in MiB). The memory of the
# four Airflow components is what bench/footprint.py measured of Airflow 3.1.7 with the example DAGs
# (peak PSS: scheduler 144 MiB, api-server 173, dag-processor 307, triggerer 259), plus a fifth,
# rounded up to a multiple of 64 MiB;
# Celery workers, Redis, the StatsD exporter, the bundled PostgreSQL and the jobs (the airflow CLI)
# are starting points, not measurements: workers run your tasks, so their need is your DAGs'.
# medium is twice small, large four times. Memory limits are twice the request (a parse or a burst
# of tasks); no CPU limits, which throttle the scheduler's loop and miss heartbeats.
SMALL = {
    "scheduler": (200, 192),
    "apiServer": (100, 256),
    "dagProcessor": (100, 384),
    "triggerer": (100, 320),
    "statsd": (10, 32),
    "postgresql.primary": (100, 256),
    "migrateDatabaseJob": (100, 256),
    "createUserJob": (100, 256),
    "workers.celery": (250, 512),
    "redis": (50, 64),
}
SCALE = {"small": 1, "medium": 2, "large": 4}
CELERY_ONLY = ("workers.celery", "redis")


def resources(component: str, size: str) -> dict[str, dict[str, str]]:
    cpu, memory = (amount * SCALE[size] for amount in SMALL[component])
    return {"requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"}, "limits": {"memory": f"{2 * memory}Mi"}}


def _user_sets_resources(config: Config, key: str, overlay: str | None) -> bool:
    """Whether the user's values set `key`.resources: the base file, and the overlay's (every overlay's for a
    component every overlay runs, whose resources live in the base HelmRelease)."""
    chosen = [overlay] if overlay else list(config.overlays)
    sources = [config.base_values, *(config.overlays[name].values for name in chosen if name in config.overlays)]
    return any(value_at(values, f"{key}.resources", None) is not None for values in sources)


def _sized(config: Config, components: tuple[str, ...], overlay: str | None) -> Generated:
    if config.size is None:
        return {}
    values: Generated = {}
    for component in components:
        key = _ui_key(config) if component == "apiServer" else component
        key = airflow.chart_key(key, config.chart.version) if key.startswith("workers.") else key
        if key == "postgresql.primary" and not database.uses_bundled(config):
            continue
        if key == "redis" and credentials.external_broker(config):  # the chart runs no Redis
            continue
        if not _user_sets_resources(config, key, overlay):  # the user's own resources win, per component
            values[f"{key}.resources"] = (resources(component, config.size), "size")
    return values


def size_values(config: Config) -> Generated:
    """Requests and limits of the components every overlay runs."""
    return _sized(config, tuple(c for c in SMALL if c not in CELERY_ONLY), None)


def celery_size_values(config: Config, overlay: str) -> Generated:
    return _sized(config, CELERY_ONLY, overlay)


def _requested(config: Config) -> tuple[Decimal, Decimal]:
    """CPU cores and memory bytes that `size` requests for the largest overlay (Celery at its most workers).

    The jobs run once per install or upgrade and are left out; so are components whose resources the user set.
    """
    cpu = memory = Decimal(0)
    workers = config.workers.celery.autoscaling.max if config.workers.celery.autoscaling else config.workers.celery.replicas
    values = {**size_values(config), **celery_size_values(config, airflow.CELERY_EXECUTOR)}
    for key, (amounts, _origin) in values.items():
        component = key.removesuffix(".resources")
        if component.endswith("Job"):
            continue
        count = workers if component.startswith("workers") else (
            api_server_replicas(config) if component in ("apiServer", "webserver") else 1)
        cpu += count * (quantity(amounts["requests"]["cpu"]) or 0)
        memory += count * (quantity(amounts["requests"]["memory"]) or 0)
    return cpu, memory


def warnings(config: Config) -> list[str]:
    """Requests that cannot all be scheduled: some pods would stay Pending."""
    capacity = config.cluster.capacity
    if config.size is None or capacity is None:
        return []
    cpu, memory = _requested(config)
    nodes = config.cluster.nodes
    have_cpu, have_memory = nodes * (quantity(capacity.cpu) or 0), nodes * (quantity(capacity.memory) or 0)
    if cpu <= have_cpu and memory <= have_memory:
        return []
    return [f"{config.source.label}: size: {config.size} requests {cpu.normalize():f} CPUs and {memory / 2**30:.1f} GiB "
            f"for the largest overlay, but {nodes} node{'s' * (nodes != 1)} of cluster.capacity give "
            f"{have_cpu.normalize():f} CPUs and {have_memory / 2**30:.1f} GiB; some pods would stay Pending: choose a "
            f"smaller size, fewer workers, or more nodes"]
