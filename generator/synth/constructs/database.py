"""The CloudNativePG Cluster that holds Airflow's metadata database (database.type cloudnativepg).

The Cluster bootstraps its owner role from the metadata Secret the chart connects with
(`bootstrap.initdb.secret`): CloudNativePG sets that role's password from the Secret's `password`
and requires its `username` to be the owner, so the role and the chart's connection agree by
construction. It is never pruned: deleting a Cluster deletes its volumes, and the database with them.

With database.cloudnativepg.backup, the Cluster archives its WAL files through the Barman Cloud
plugin to an ObjectStore, and a ScheduledBackup takes base backups there (`method: plugin`); the
built-in `barmanObjectStore`, which CloudNativePG 1.31 removes, is never written.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import database
from generator.model import BackupConfig, CloudNativePGConfig
from generator.synth.constructs.api import PRUNE_DISABLED, api_object


class MetadataCluster(Construct):
    """One `postgresql.cnpg.io/v1` Cluster: `instances` instances, each with a volume of `settings.size`."""

    def __init__(self, scope: Construct, id: str, *, name: str, namespace: str, settings: CloudNativePGConfig,
                 database_name: str, owner: str, secret: str, object_store: str | None = None) -> None:
        super().__init__(scope, id)
        storage: dict[str, Any] = {"size": settings.size}
        if settings.storage_class_name:
            storage["storageClass"] = settings.storage_class_name
        spec: dict[str, Any] = {
            "instances": settings.instances,
            "storage": storage,
            "bootstrap": {"initdb": {"database": database_name, "owner": owner, "secret": {"name": secret}}},
        }
        if object_store:
            spec["plugins"] = [{"name": database.BARMAN_PLUGIN, "isWALArchiver": True,
                                "parameters": {"barmanObjectName": object_store}}]
        api_object(self, "Resource", api_version=database.CNPG_API_VERSION, kind=database.CNPG_KIND, name=name,
                   namespace=namespace, annotations=PRUNE_DISABLED, spec=spec)


class ClusterBackups(Construct):
    """The Barman Cloud ObjectStore the Cluster archives to, and the ScheduledBackup of base backups.

    Neither is pruned: the ObjectStore is where every backup is found again, and removing a
    ScheduledBackup silently stops the backups.
    """

    def __init__(self, scope: Construct, id: str, *, namespace: str, cluster: str, object_store: str,
                 scheduled_backup: str, settings: BackupConfig) -> None:
        super().__init__(scope, id)
        store = settings.object_store
        keys = dict(zip(("accessKeyId", "secretAccessKey"), database.OBJECT_STORE_KEYS))
        configuration: dict[str, Any] = {
            "destinationPath": store.destination_path,
            "s3Credentials": {field: {"name": store.secret, "key": key} for field, key in keys.items()},
            "wal": {"compression": "gzip"},
        }
        if store.endpoint_url:
            configuration["endpointURL"] = store.endpoint_url
        api_object(self, "ObjectStore", api_version=database.BARMAN_API_VERSION, kind="ObjectStore",
                   name=object_store, namespace=namespace, annotations=PRUNE_DISABLED,
                   spec={"configuration": configuration, "retentionPolicy": settings.retention})
        api_object(self, "ScheduledBackup", api_version=database.CNPG_API_VERSION, kind="ScheduledBackup",
                   name=scheduled_backup, namespace=namespace, annotations=PRUNE_DISABLED,
                   spec={"schedule": settings.schedule, "backupOwnerReference": "self", "cluster": {"name": cluster},
                         "method": "plugin", "pluginConfiguration": {"name": database.BARMAN_PLUGIN}})
