"""A typed-enough helper for API objects: cdk8s.ApiObject plus a body of top-level fields.

Custom resources (Traefik, Flux) are written this way rather than through `cdk8s import`
bindings, which would carry upstream CRD text into the project and slow every start-up; the
tests check each object against the real CRDs.
"""

from __future__ import annotations

from typing import Any

from generator.plumbing.runtime import cdk8s

PRUNE_DISABLED = {"kustomize.toolkit.fluxcd.io/prune": "disabled"}
MANAGED_BY = {"app.kubernetes.io/managed-by": "gen"}


def api_object(scope: Any, id: str, *, api_version: str, kind: str, name: str, namespace: str | None = None,
               labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
               **body: Any) -> Any:
    """One API object with an explicit name (never a cdk8s hash) and the given top-level fields.

    `namespace=None` leaves the object cluster-scoped. Fields are given in camelCase, as in the API.
    """
    lib = cdk8s()
    metadata = lib.ApiObjectMetadata(
        name=name,
        namespace=namespace,
        labels={**MANAGED_BY, **(labels or {})},
        annotations=annotations or None,
    )
    obj = lib.ApiObject(scope, id, api_version=api_version, kind=kind, metadata=metadata)
    if body:  # one call for all fields: every jsii call is a round trip to Node.js
        obj.add_json_patch(*(lib.JsonPatch.add(f"/{field_name}", value) for field_name, value in body.items()))
    return obj
