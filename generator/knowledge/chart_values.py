"""The chart values gen generates: shared by every overlay, and each executor overlay's delta.

They combine Airflow knowledge (airflow), the claims of the storage layout (cluster) and the Secret
names (credentials); the base HelmRelease, the overlays and the loader's conflict check all read
them from here. The release values in their nested forms (the base HelmRelease's, an overlay's
patch, and what an overlay's release gives the chart) are made here too, and only here.
"""

from __future__ import annotations

from typing import Any

from generator.knowledge import airflow, charts, cluster, credentials, database, hardening, names, operations
from generator.knowledge.airflow import Generated
from generator.model import Config
from generator.plumbing.values import deep_merge, unflatten


def base_values(config: Config) -> Generated:
    """Values every overlay shares: version, claims, base_url, and the hook settings Flux needs."""
    version = config.airflow_version
    image = config.airflow.image
    values: Generated = {
        "airflowVersion": (str(version), "airflow.version"),
        "defaultAirflowTag": (image.tag or str(version), "airflow.image.tag" if image.tag else "airflow.version"),
    }
    if (url := airflow.base_url(config)) is not None:
        values[airflow.base_url_key(version)] = (url, "ingress" if config.ingress else "airflow.baseUrl")
    if image.repository:
        values["defaultAirflowRepository"] = (image.repository, "airflow.image.repository")
    for volume in names.VOLUMES:
        values.update(_volume_values(config, volume))
    if airflow.is_airflow_3(version) and config.ingress is not None:  # without a route no proxy sits in front
        # Behind a TLS-terminating proxy uvicorn must trust X-Forwarded-Proto, or redirects go to http://.
        values["apiServer.args"] = (["bash", "-c", "exec airflow api-server --proxy-headers"], "ingress")
        # Only Traefik's addresses: any pod that could reach uvicorn could otherwise claim https or a client address.
        values["apiServer.env"] = ([{"name": "FORWARDED_ALLOW_IPS", "value": hardening.forwarded_allow_ips(config)}],
                                   "ingress.trustedProxies")
    values.update(_release_switches(config))
    if config.network_policies.enabled and database.uses_bundled(config):  # the chart's PostgreSQL only
        values.update(_database_policy(config))
    values.update(credentials.base_values(config))
    values.update(operations.availability_values(config))
    values.update(operations.size_values(config))
    if not database.uses_bundled(config):
        # The metadata Secret names the external server or the CloudNativePG Cluster: no PostgreSQL of the chart's.
        values["postgresql.enabled"] = (False, "database.type")
    # Under Flux, Helm waits for pods that wait for migrations that run in a post-install hook: a
    # deadlock. Plain Jobs with a stable spec avoid it (chart docs, "Installing with Argo CD, Flux ...").
    for job in ("createUserJob", "migrateDatabaseJob"):
        values[f"{job}.useHelmHooks"] = (False, "the Flux install (Helm hooks deadlock under Flux)")
        values[f"{job}.applyCustomEnv"] = (False, "the Flux install (a stable Job spec survives upgrades)")
    return values


def _release_switches(config: Config) -> Generated:
    """Keys a chart release added whose unset default is deprecated: set, so that NOTES.txt stays quiet."""
    version = config.chart.version
    values: Generated = {}
    if charts.has("dags.gitSync.recommendedProbeSetting", version):
        # From 1.20 git-sync's probes follow git-sync's own health endpoint only when asked; the old ones go in 2.0.
        values["dags.gitSync.recommendedProbeSetting"] = (True, f"chart {version}")
    if charts.has("enableServiceLinks", version):
        # Airflow finds its services by DNS; the Service environment variables only crowd every pod (2.0's default).
        values["enableServiceLinks"] = (False, f"chart {version}")
    return values


def _database_policy(config: Config) -> Generated:
    """The PostgreSQL subchart's own NetworkPolicy (bitnami postgresql 13.2.24, templates/primary/networkpolicy.yaml):
    with primaryAccessOnlyFrom it admits, on the database port, only the pods the selector names: Airflow's."""
    origin = "networkPolicies.enabled"
    rule = "postgresql.networkPolicy.ingressRules.primaryAccessOnlyFrom"
    return {
        "postgresql.networkPolicy.enabled": (True, origin),
        f"{rule}.enabled": (True, origin),
        f"{rule}.podSelector": (names.airflow_pod_labels(config.release), origin),
    }


def _volume_values(config: Config, volume: str) -> Generated:
    """A claim the chart mounts, or git-sync for DAGs, or remote logging for logs (no volume)."""
    spec = config.storage.volume(volume)
    origin = f"storage.{volume}"
    claim = cluster.claim_name(config, volume)
    if claim is not None:
        return {f"{volume}.persistence.enabled": (True, origin), f"{volume}.persistence.existingClaim": (claim, origin)}
    values: Generated = {f"{volume}.persistence.enabled": (False, f"{origin}.type")}
    if spec.type == "image":  # nothing mounted over the DAG folder the image holds
        values["dags.gitSync.enabled"] = (False, f"{origin}.type")
    if spec.type == "workers":  # the StatefulSet keeps its volumeClaimTemplates: an API server refuses to change them
        values[airflow.chart_key("workers.celery.persistence.enabled", config.chart.version)] = (True, f"{origin}.type")
    if getattr(spec, "git_sync", None) is not None:
        sync, origin = spec.git_sync, f"{origin}.gitSync"
        values.update({
            "dags.gitSync.enabled": (True, f"{origin}"),
            "dags.gitSync.repo": (sync.repository, f"{origin}.repository"),
            # git-sync v4 reads `ref`; v3 images read `branch`: both name the same branch.
            "dags.gitSync.branch": (sync.branch, f"{origin}.branch"),
            "dags.gitSync.ref": (sync.branch, f"{origin}.branch"),
            "dags.gitSync.period": (sync.period, f"{origin}.period"),
            "dags.gitSync.subPath": (sync.sub_path, f"{origin}.subPath"),  # the chart's default is tests/dags
        })
        if sync.credentials_secret:
            values["dags.gitSync.credentialsSecret"] = (sync.credentials_secret, f"{origin}.credentialsSecret")
    if getattr(spec, "remote", None) is not None:
        remote, origin = spec.remote, f"{origin}.remote"
        values.update({
            "config.logging.remote_logging": ("True", origin),
            "config.logging.remote_base_log_folder": (remote.base_log_folder, f"{origin}.baseLogFolder"),
            "config.logging.remote_log_conn_id": (remote.connection_id, f"{origin}.connectionId"),
            # The connection URI reaches Airflow as AIRFLOW_CONN_<ID> from the Secret, never through Git.
            "secret": ([{"envName": f"AIRFLOW_CONN_{remote.connection_id.upper()}",
                         "secretName": remote.connection_secret, "secretKey": "connection"}],
                       f"{origin}.connectionSecret"),
        })
    return values


def _celery_workers(config: Config, overlay: str) -> Generated:
    values: Generated = {
        # An external broker's URL comes from secrets.brokerUrl: the chart then starts no Redis.
        "redis.enabled": ((False, "workers.celery.broker") if credentials.external_broker(config)
                          else (True, "the Celery executor (Redis is its broker)")),
        "triggerer.enabled": (True, "the Celery executor"),
    }
    if config.workers.celery.autoscaling is None:  # with KEDA the chart writes no replicas
        key = airflow.chart_key("workers.celery.replicas", config.chart.version)
        values[key] = (config.workers.celery.replicas, "workers.celery.replicas")
    values.update(operations.celery_values(config))
    values.update(operations.celery_size_values(config, overlay))
    return values


def _task_pods(config: Config) -> Generated:
    """KubernetesExecutor task pods: workers.kubernetes.* where the pinned chart reads it, else workers.*."""
    pod = config.workers.kubernetes
    resources = {kind: amounts for kind, amounts in pod.resources.items() if amounts}
    settings = {
        "resources": (resources, "workers.kubernetes.resources"),
        "nodeSelector": (pod.node_selector, "workers.kubernetes.nodeSelector"),
        "tolerations": (pod.tolerations, "workers.kubernetes.tolerations"),
        "env": (pod.env, "workers.kubernetes.env"),
    }
    return {charts.home(f"workers.kubernetes.{key}", config.chart.version): setting
            for key, setting in settings.items() if setting[0]}


def overlay_values(overlay: str, config: Config) -> Generated:
    """What an executor overlay changes on top of the base values (only the delta)."""
    values: Generated = {"executor": (airflow.executor(overlay, config), f"the {overlay} overlay")}
    values.update(credentials.overlay_values(overlay, config))
    if overlay == airflow.CELERY_EXECUTOR:
        values.update(_celery_workers(config, overlay))
    elif overlay == airflow.KUBERNETES_EXECUTOR:
        # Without Celery the chart still renders Redis and its broker Secret unless told not to.
        values["redis.enabled"] = (False, "the Kubernetes executor (no broker)")
        values["flower.enabled"] = (False, "the Kubernetes executor (no Celery)")
        # Unless a broker Secret is named, the chart makes its own pre-install hook Secret <release>-broker-url
        # holding the text `%!s(<nil>)`, whatever the executor. No pod of this overlay reads it.
        values["data.brokerUrlSecretName"] = (credentials.name(config, credentials.spec("brokerUrl")),
                                              "the Kubernetes executor (keeps the chart from making a broker Secret)")
        values.update(_task_pods(config))
    else:
        values.update(_celery_workers(config, overlay))
        values.update(_task_pods(config))
    return values


# --- the nested forms -----------------------------------------------------------------------------

def nested(generated: Generated) -> dict[str, Any]:
    """Generated values as nested Helm values, their origins dropped."""
    return unflatten({key: value for key, (value, _origin) in generated.items()})


def base_release_values(config: Config) -> dict[str, Any]:
    """The HelmRelease values every overlay shares: the user's base values with gen's on top."""
    return deep_merge(config.base_values, nested(base_values(config)))


def overlay_patch(overlay: str, config: Config) -> dict[str, Any]:
    """An overlay's patch of the release values: gen's delta, with the overlay's own values on top."""
    return deep_merge(nested(overlay_values(overlay, config)), config.overlays[overlay].values)


def release_values(config: Config, overlay: str) -> dict[str, Any]:
    """What an overlay's release gives the chart: the base release values with the overlay's patch on top."""
    return deep_merge(base_release_values(config), overlay_patch(overlay, config))
