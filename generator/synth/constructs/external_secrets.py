"""An ExternalSecret per Secret the release reads (secrets.provider external-secrets).

Each names its target Secret exactly and gives it the type the release needs through
`target.template.type` (kubernetes.io/basic-auth for a CloudNativePG bootstrap Secret), and maps
every key the chart reads to a property of one remote key in the store. Without `template.data` the
operator writes the fetched keys as they are; on k3s the admin password's template wraps it in the
values file helm-controller reads.

`creationPolicy: Orphan`: the Secret outlives its ExternalSecret, so pruning or renaming one never
deletes the fernet key or a database password.
"""

from __future__ import annotations

from constructs import Construct

from generator.knowledge.secret_providers import ESO_API_VERSION, ESO_KIND
from generator.model import ExternalSecretsConfig
from generator.synth.constructs.api import api_object


class ReleaseExternalSecret(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str, namespace: str, secret_type: str,
                 settings: ExternalSecretsConfig, remote_key: str, properties: tuple[str, ...],
                 template_data: dict[str, str] | None = None) -> None:
        super().__init__(scope, id)
        template: dict = {"type": secret_type}
        if template_data:
            template["data"] = template_data
        spec = {
            "refreshInterval": settings.refresh_interval,
            "secretStoreRef": {"kind": settings.store.kind, "name": settings.store.name},
            "target": {"name": name, "creationPolicy": "Orphan", "template": template},
            "data": [{"secretKey": key, "remoteRef": {"key": remote_key, "property": key}} for key in properties],
        }
        api_object(self, "Resource", api_version=ESO_API_VERSION, kind=ESO_KIND, name=name, namespace=namespace,
                   spec=spec)
