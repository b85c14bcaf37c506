"""gen import, reading: the values file and the manifests, checked against the shapes the importer reads
first, so every later step can trust them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator import schema
from generator.onboarding.importing import findings
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import load_documents, load_file

# --- reading: the shapes the importer reads, checked first so every later step can trust them ----

def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_TEXT = {"type": "string"}
_SCALAR = {"type": ["string", "integer", "number", "boolean"]}
_OPTIONAL = {"type": ["string", "integer", "number", "boolean", "null"]}  # null: the chart's default
_LABELS = {"type": "object", "additionalProperties": _TEXT}
_METADATA = _obj(name=_TEXT, namespace=_TEXT, labels=_LABELS)
_REFERENCE = _obj(name=_TEXT)
SHAPES = {
    "IngressRoute": _obj(metadata=_METADATA, spec=_obj(
        entryPoints=_list(_TEXT),
        routes=_list(_obj(match=_TEXT, services=_list(_obj(name=_TEXT, port=_SCALAR)), middlewares=_list(_REFERENCE))),
        tls=_obj(certResolver=_TEXT, secretName=_TEXT))),
    "Middleware": _obj(metadata=_METADATA, spec=_obj(stripPrefix=_obj(prefixes=_list(_TEXT)))),
    "PersistentVolume": _obj(metadata=_METADATA, spec=_obj(
        capacity=_obj(storage=_SCALAR), accessModes=_list(_TEXT), hostPath=_obj(path=_TEXT),
        nfs=_obj(server=_TEXT, path=_TEXT), storageClassName=_TEXT, claimRef=_REFERENCE,
        persistentVolumeReclaimPolicy=_TEXT)),
    "PersistentVolumeClaim": _obj(metadata=_METADATA, spec=_obj(
        volumeName=_TEXT, storageClassName=_TEXT, accessModes=_list(_TEXT), selector=_obj(matchLabels=_LABELS))),
    "StorageClass": _obj(metadata=_METADATA, provisioner=_TEXT),
    "Ingress": _obj(metadata=_obj(name=_TEXT, namespace=_TEXT, annotations=_LABELS), spec=_obj(
        ingressClassName=_TEXT, rules=_list(_obj(host=_TEXT, http=_obj(paths=_list(_obj(
            path=_TEXT, backend=_obj(service=_obj(name=_TEXT))))))),
        tls=_list(_obj(hosts=_list(_TEXT), secretName=_TEXT)))),
    "HTTPRoute": _obj(metadata=_METADATA, spec=_obj(
        hostnames=_list(_TEXT), parentRefs=_list(_obj(name=_TEXT, namespace=_TEXT, sectionName=_TEXT)),
        rules=_list(_obj(matches=_list(_obj(path=_obj(value=_TEXT))), backendRefs=_list(_REFERENCE))))),
}
_PERSISTENCE = _obj(enabled={"type": "boolean"}, existingClaim={"type": ["string", "null"]})
VALUES_SHAPE = _obj(
    data=_obj(metadataConnection=_obj(**{"user": _SCALAR, "pass": _SCALAR, "protocol": _TEXT, "db": _TEXT,
                                         "host": {"type": ["string", "null"]}, "port": {"type": ["integer", "string"]},
                                         "sslmode": _TEXT})),
    postgresql=_obj(auth={"type": "object"}, image=_obj(tag=_SCALAR, repository=_TEXT)),
    webserver=_obj(defaultUser={"type": "object"}), createUserJob=_obj(defaultUser={"type": "object"}),
    dags=_obj(persistence=_PERSISTENCE, gitSync=_obj(enabled={"type": "boolean"}, repo=_TEXT, branch=_TEXT,
                                                     ref=_TEXT, subPath=_TEXT, credentialsSecret=_TEXT,
                                                     period=_SCALAR)),
    logs=_obj(persistence=_PERSISTENCE), workers=_obj(replicas={"type": "integer"},
                                                      celery=_obj(replicas={"type": "integer"})),
    redis={"type": "object"}, config={"type": "object"}, images=_obj(airflow=_obj(tag=_OPTIONAL)),
    airflowVersion=_SCALAR, defaultAirflowTag=_SCALAR, defaultAirflowRepository=_TEXT,
)


# --- reading --------------------------------------------------------------------------------------

def read(values_path: Path, manifest_paths: Sequence[Path]) -> tuple[dict[str, Any], list[tuple[str, dict]]]:
    """The values file and every object in the manifests, each object with the file it came from."""
    problems = []
    values: dict[str, Any] = {}
    try:
        raw = load_file(values_path, str(values_path), empty_ok=True)
        if isinstance(raw, dict):
            values = raw
            problems += schema.problems(VALUES_SHAPE, raw, str(values_path))
        else:
            problems.append(f"{values_path}: must be a mapping of Helm values (the file given to helm install -f)")
    except ConfigError as exc:
        problems += exc.problems
    objects = []
    for path in manifest_paths:
        try:
            docs = load_documents(path, str(path))
        except ConfigError as exc:
            problems += exc.problems
            continue
        for index, doc in enumerate(docs):
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            if not (isinstance(doc, dict) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str)
                    and isinstance(meta, dict) and isinstance(meta.get("name"), str)):
                problems.append(f"{path}: document {index + 1}: is not a Kubernetes object (it needs apiVersion, "
                                f"kind and metadata.name); remove it or fix it")
                continue
            where = f"{path}: {findings.describe(doc)}"
            shape = SHAPES.get(doc["kind"])
            found = schema.problems(shape, doc, where) if shape else []
            problems += found
            if not found:
                objects.append((where, doc))
    if problems:
        raise ConfigError(problems)
    return values, objects
