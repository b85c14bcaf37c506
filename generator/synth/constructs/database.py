"""The CloudNativePG Cluster that holds Airflow's metadata database (database.type cloudnativepg).

The Cluster bootstraps its owner role from the metadata Secret the chart connects with
(`bootstrap.initdb.secret`): CloudNativePG sets that role's password from the Secret's `password`
and requires its `username` to be the owner, so the role and the chart's connection agree by
construction. It is never pruned: deleting a Cluster deletes its volumes, and the database with them.
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from generator.knowledge import database
from generator.model import CloudNativePGConfig
from generator.synth.constructs.api import PRUNE_DISABLED, api_object


class MetadataCluster(Construct):
    """One `postgresql.cnpg.io/v1` Cluster: `instances` instances, each with a volume of `settings.size`."""

    def __init__(self, scope: Construct, id: str, *, name: str, namespace: str, settings: CloudNativePGConfig,
                 database_name: str, owner: str, secret: str) -> None:
        super().__init__(scope, id)
        storage: dict[str, Any] = {"size": settings.size}
        if settings.storage_class_name:
            storage["storageClass"] = settings.storage_class_name
        api_object(
            self, "Resource", api_version=database.CNPG_API_VERSION, kind=database.CNPG_KIND, name=name,
            namespace=namespace, annotations=PRUNE_DISABLED,
            spec={
                "instances": settings.instances,
                "storage": storage,
                "bootstrap": {"initdb": {"database": database_name, "owner": owner, "secret": {"name": secret}}},
            },
        )
