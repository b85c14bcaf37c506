"""gen import: a hand-made install (a Helm values file, kubectl-applied manifests) becomes a gen project.

The importer reads the values file and the manifests strictly (yamlio), maps what gen owns onto
gen.yaml settings (executor -> overlay, IngressRoute -> ingress, PersistentVolumes and claims ->
storage, *SecretName values -> secrets), passes every other value through to
charts/airflow/values.yaml, and takes every credential out: the credentials come back only as the
Secret manifests the new release reads, for standard output, with the values the running release
uses so its database keeps working. The adoption plan says how Flux takes the release over without
reinstalling it, what changes, and what does not carry over.

Facts: AIRFLOW-CHART.md §2, §3, §5, §6 (chart names, Secret keys, hooks); GITOPS.md §1.2 (HelmRelease).
"""

from __future__ import annotations

import re
import secrets as random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from generator import config as config_module
from generator import schema
from generator.knowledge import airflow, chart_values, cluster, credentials, names, sync
from generator.model import Config, Version
from generator.onboarding import scaffold
from generator.plumbing import values as helm_values
from generator.plumbing.errors import ConfigError
from generator.plumbing.objects import UNSET, changed_leaves
from generator.plumbing.output import refuse_existing
from generator.plumbing.yamlio import dump_documents, load_documents, load_file
from generator.review import render, rendered_diff
from generator.review.chart_source import ChartUnavailable

PIN = Version(1, 19, 0)  # the chart version of scaffold.CHART_PIN
PIN_AIRFLOW = Version(3, 1, 7)

EXECUTOR_OVERLAYS = {
    airflow.CELERY: airflow.CELERY_EXECUTOR,
    airflow.KUBERNETES: airflow.KUBERNETES_EXECUTOR,
    airflow.MULTI: airflow.CELERY_KUBERNETES_EXECUTOR,
    "KubernetesExecutor,CeleryExecutor": airflow.CELERY_KUBERNETES_EXECUTOR,
    airflow.HYBRID: airflow.CELERY_KUBERNETES_EXECUTOR,
}

# Values gen generates itself (chart_values); the user's are read for their meaning, then left out.
GENERATED = ("executor", "airflowVersion", "defaultAirflowTag", "defaultAirflowRepository", "dags.persistence",
             "logs.persistence", "dags.gitSync", "config.webserver.base_url", "config.api.base_url",
             "createUserJob.useHelmHooks", "createUserJob.applyCustomEnv", "migrateDatabaseJob.useHelmHooks",
             "migrateDatabaseJob.applyCustomEnv", "redis.enabled", "triggerer.enabled", "flower.enabled",
             "workers.replicas", "workers.celery.replicas", "apiServer.args", "apiServer.env")
# The chart values that name a credential's Secret, and the gen.yaml `secrets:` setting for each.
SECRET_NAME_KEYS = {spec.chart_key: spec.setting for spec in credentials.SPECS if spec.chart_key}
# Secrets the chart creates as part of the release. Once gen names a Secret instead, Helm deletes the
# chart's own on the upgrade, so the imported release must read Secrets of other names (suffix below).
# fernet-key, redis-password and broker-url are pre-install hooks: upgrades never delete them, and the
# new release reads them under their old names, values unchanged.
RELEASE_OWNED = ("metadata", "postgresql", "webserverSecretKey", "apiSecretKey", "jwtSecret")
HOOK_OWNED = ("fernetKey", "redisPassword", "brokerUrl")
RENAMED_SUFFIX = "gitops"
# Chart defaults of the keys a connection URL is made of (chart values.yaml, data.metadataConnection).
METADATA_DEFAULTS = {"user": "postgres", "pass": "postgres", "protocol": "postgresql", "host": None, "port": 5432,
                     "db": "postgres", "sslmode": "disable"}
CREDENTIAL_PREFIXES = ("data.metadataConnection", "data.resultBackendConnection")
_CREDENTIAL_WORD = re.compile(r"(password|passwd|(^|[a-z_])pass$|secretkey$|token$|sshkey$|fernetkey$|apikey$|"
                              r"privatekey$)", re.IGNORECASE)
_NOT_CREDENTIAL = re.compile(r"(secretname|existingsecret|secretkeyref|passwordsecretname|secretannotations)$",
                             re.IGNORECASE)
_LITERAL = r"(?:`([^`]*)`|\"((?:[^\"\\]|\\.)*)\")"
_HOST = re.compile(rf"Host\(\s*{_LITERAL}\s*\)")
_PREFIX = re.compile(rf"PathPrefix\(\s*{_LITERAL}\s*\)")


@dataclass
class _Found:
    """What the inputs say, gathered before gen.yaml is assembled."""

    problems: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # gen.yaml dotted key -> where its value came from
    plan_volumes: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)  # what cannot carry over, each with the way through
    left_out: list[str] = field(default_factory=list)  # values and objects not mapped, each with why
    notes: list[str] = field(default_factory=list)
    route_service: str | None = None  # the Service the hand-made route sent requests to


@dataclass(frozen=True)
class Imported:
    """The result of an import: files to write, Secrets for standard output, and the adoption plan."""

    files: dict[str, str]  # relative path -> text
    secrets: list[dict[str, Any]]
    plan: list[str]
    overlay: str
    config: Config


_ABSENT = object()


def _node(tree: Any, dotted: str) -> Any:
    """The value at a dotted key path, or _ABSENT where the path does not exist."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _get(tree: Any, dotted: str) -> Any:
    node = _node(tree, dotted)
    return None if node is _ABSENT else node


def _has(tree: Any, dotted: str) -> bool:
    return _node(tree, dotted) is not _ABSENT


def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _describe(doc: Mapping[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    where = f"{meta['namespace']}/" if isinstance(meta, Mapping) and meta.get("namespace") else ""
    return f"{doc.get('kind')} {where}{meta.get('name') if isinstance(meta, Mapping) else None}"


# --- reading: the shapes the importer reads, checked first so every later step can trust them ----

def _obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


_TEXT = {"type": "string"}
_SCALAR = {"type": ["string", "integer", "number", "boolean"]}
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
    redis={"type": "object"}, config={"type": "object"}, images=_obj(airflow=_obj(tag=_SCALAR)),
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
            where = f"{path}: {_describe(doc)}"
            shape = SHAPES.get(doc["kind"])
            found = schema.problems(shape, doc, where) if shape else []
            problems += found
            if not found:
                objects.append((where, doc))
    if problems:
        raise ConfigError(problems)
    return values, objects


# --- ingress --------------------------------------------------------------------------------------

def _literal(match: re.Match[str]) -> str:
    raw, quoted = match.group(1), match.group(2)
    return raw if raw is not None else re.sub(r"\\(.)", r"\1", quoted)


def _parse_match(rule: str) -> tuple[str | None, str | None]:
    """Host and PathPrefix of a rule `Host(`h`) && PathPrefix(`/p`)` (either order, or Host alone)."""
    hosts, prefixes = list(_HOST.finditer(rule)), list(_PREFIX.finditer(rule))
    rest = _PREFIX.sub("", _HOST.sub("", rule)).replace("&&", "").strip()
    if rest or len(hosts) != 1 or len(prefixes) > 1:
        return None, None
    return _literal(hosts[0]), (_literal(prefixes[0]) if prefixes else None)


def _ingress(objects: list[tuple[str, dict]], release: str | None, found: _Found) -> tuple[dict[str, Any], str | None,
                                                                                           list[str], bool]:
    """gen.yaml `ingress` from the IngressRoute; also the release its service implies, the objects used,
    and whether a stripPrefix Middleware removed the prefix."""
    routes = [(where, doc) for where, doc in objects if doc["kind"] == "IngressRoute"
              and doc["apiVersion"].split("/")[0] in ("traefik.io", "traefik.containo.us")]
    used: list[str] = []
    if not routes:
        found.problems.append("--manifests: no Traefik IngressRoute found; gen routes the UI through Traefik and takes "
                              "the host, path prefix and TLS from it: pass the file that holds it with --manifests")
        return {}, None, used, False

    def ui(service: Mapping[str, Any]) -> bool:
        name = str(service.get("name", ""))
        return name.endswith(("-webserver", "-api-server")) and (release is None or name.rsplit("-", 1)[0] in
                                                                   (release, f"{release}-api"))

    candidates = [(w, d, r) for w, d in routes for r in ((d.get("spec") or {}).get("routes") or [])
                  if isinstance(r, Mapping) and any(isinstance(s, Mapping) and ui(s) for s in r.get("services") or [])]
    if not candidates:
        if len(routes) != 1 or not ((routes[0][1].get("spec") or {}).get("routes")):
            found.problems.append(f"--manifests: none of the IngressRoutes ({', '.join(_describe(d) for _, d in routes)}) "
                                  "sends a route to the chart's <release>-webserver or <release>-api-server Service; "
                                  "pass the one that serves Airflow")
            return {}, None, used, False
        first = routes[0][1]["spec"]["routes"][0]
        candidates = [(routes[0][0], routes[0][1], first if isinstance(first, Mapping) else {})]
    where, doc, route = candidates[0]
    used.append(where)
    for other_where, other, _ in candidates[1:]:
        if other_where != where:
            found.left_out.append(f"{other_where}: a second route to Airflow; gen writes one")
    spec = doc.get("spec") or {}
    ingress: dict[str, Any] = {}
    rule = route.get("match")
    host, prefix = _parse_match(rule) if isinstance(rule, str) else (None, None)
    if host is None:
        found.problems.append(f"{where}: spec.routes.match: {schema.show(rule)} is not a rule gen can carry over; gen "
                              f"writes Host(`HOST`) && PathPrefix(`/PREFIX`): reduce the route to that form")
    else:
        ingress["host"] = host
        found.origins["ingress.host"] = f"{where}: spec.routes.match"
        ingress["pathPrefix"] = prefix.rstrip("/") if prefix and prefix != "/" else prefix
        found.origins["ingress.pathPrefix"] = f"{where}: spec.routes.match"
        if prefix is None:
            found.problems.append(f"{where}: spec.routes.match: the route serves Airflow at the root of {host}; gen "
                                  f"serves it under a path such as /airflow: add && PathPrefix(`/airflow`) to the rule "
                                  f"(and set base_url to match) before importing")
    if spec.get("entryPoints"):
        ingress["entryPoints"] = spec["entryPoints"]
        found.origins["ingress.entryPoints"] = f"{where}: spec.entryPoints"
    else:
        found.notes.append(f"{where} names no entryPoints (Traefik then uses all of them); gen.yaml gets "
                           f"ingress.entryPoints [websecure]")
    tls = spec.get("tls")
    if not isinstance(tls, Mapping) or not (tls.get("certResolver") or tls.get("secretName")):
        found.problems.append(f"{where}: spec.tls: has no certResolver or secretName; gen serves the UI over https "
                              f"only: add tls.certResolver (an ACME resolver) or tls.secretName to the IngressRoute")
    else:
        ingress["tls"] = {key: tls[key] for key in ("certResolver", "secretName") if tls.get(key)}
        found.origins["ingress.tls"] = f"{where}: spec.tls"
        found.origins["ingress.tls.certResolver"] = f"{where}: spec.tls.certResolver"
        found.origins["ingress.tls.secretName"] = f"{where}: spec.tls.secretName"
        for key in sorted(set(tls) - {"certResolver", "secretName"}):
            found.left_out.append(f"{where}: spec.tls.{key} (gen writes certResolver or secretName only)")
    group = doc["apiVersion"].split("/")[0]
    if group == "traefik.containo.us":
        ingress["apiGroup"] = group
    services = [s for s in route.get("services") or [] if isinstance(s, Mapping)]
    implied = None
    for service in services:
        name = str(service.get("name", ""))
        found.route_service = found.route_service or name
        for suffix in ("-api-server", "-webserver"):
            if name.endswith(suffix):
                implied = name[: -len(suffix)]
        if service.get("port") not in (None, airflow.UI_PORT, "airflow-ui", "api-server"):
            found.notes.append(f"{where}: service port {schema.show(service.get('port'))}; gen routes to the chart's "
                               f"port {airflow.UI_PORT}")
    stripped = False
    middlewares = {d["metadata"]["name"]: (w, d) for w, d in objects if d["kind"] == "Middleware"}
    for reference in route.get("middlewares") or []:
        name = reference.get("name") if isinstance(reference, Mapping) else None
        if name not in middlewares:
            found.left_out.append(f"{where}: middleware {schema.show(name)} (not in the manifests; gen does not "
                                  f"carry it over)")
            continue
        m_where, middleware = middlewares[name]
        prefixes = ((middleware.get("spec") or {}).get("stripPrefix") or {}).get("prefixes")
        if isinstance(prefixes, list) and prefix and [p.rstrip("/") for p in prefixes if isinstance(p, str)] == \
                [prefix.rstrip("/")]:
            stripped = True
            used.append(m_where)
        else:
            found.left_out.append(f"{m_where} (used by the route; gen writes no middleware of this kind: add it by "
                                  f"hand beside dist/ if you need it)")
    return ingress, implied, used, stripped


# --- storage --------------------------------------------------------------------------------------

def _volume_of(doc: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    name = doc["metadata"]["name"]
    for volume in names.VOLUMES:
        if _get(values, f"{volume}.persistence.existingClaim") == name:
            return volume
    text = " ".join([name, *map(str, (doc["metadata"].get("labels") or {}).values()),
                     *map(str, (((doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}).values())])
    hits = [v for v, word in (("dags", "dag"), ("logs", "log")) if word in text.lower()]
    return hits[0] if len(hits) == 1 else None


def _bound_volume(claim: Mapping[str, Any], volumes: list[tuple[str, dict]]) -> tuple[str, dict] | None:
    spec = claim.get("spec") or {}
    if spec.get("volumeName"):
        return next(((w, v) for w, v in volumes if v["metadata"]["name"] == spec["volumeName"]), None)
    for where, volume in volumes:
        ref = (volume.get("spec") or {}).get("claimRef") or {}
        if ref.get("name") == claim["metadata"]["name"]:
            return where, volume
    wanted = ((spec.get("selector") or {}).get("matchLabels")) or {}
    if isinstance(wanted, Mapping) and wanted:
        matching = [(w, v) for w, v in volumes
                    if all((v["metadata"].get("labels") or {}).get(k) == val for k, val in wanted.items())]
        if len(matching) == 1:
            return matching[0]
    same_class = [(w, v) for w, v in volumes
                  if (v.get("spec") or {}).get("storageClassName") == spec.get("storageClassName")]
    return same_class[0] if len(same_class) == 1 else None


def _storage(objects: list[tuple[str, dict]], values: Mapping[str, Any], release: str, namespace: str,
             found: _Found) -> tuple[dict[str, Any], list[str]]:
    claims = [(w, d) for w, d in objects if d["kind"] == "PersistentVolumeClaim"]
    volumes = [(w, d) for w, d in objects if d["kind"] == "PersistentVolume"]
    storage: dict[str, Any] = {}
    used: list[str] = []
    by_volume: dict[str, tuple[str, dict]] = {}
    for where, claim in claims:
        volume = _volume_of(claim, values)
        if volume is None:
            continue
        if volume in by_volume:
            found.problems.append(f"{where}: both this claim and {by_volume[volume][0]} look like the {volume} volume; "
                                  f"set {volume}.persistence.existingClaim in the values file to the one Airflow mounts")
            continue
        by_volume[volume] = (where, claim)
    classes: list[tuple[str, str]] = []
    for volume in names.VOLUMES:
        key = f"storage.{volume}"
        spec: dict[str, Any] = {}
        if volume not in by_volume:
            spec.update(_unclaimed(volume, values, release, namespace, found))
            if spec:
                storage[volume] = spec
            continue
        where, claim = by_volume[volume]
        used.append(where)
        bound = _bound_volume(claim, volumes)
        pv = (bound[1].get("spec") or {}) if bound else {}
        taken = claim["metadata"]["name"] == names.claim(release, volume) or (
            bound is not None and bound[1]["metadata"]["name"] == names.volume(namespace, release, volume))
        if taken:
            found.notes.append(f"{where}: has the name gen gives its own {volume} claim or volume, so gen.yaml "
                               f"mounts it as it is (storage.{volume}.type existingClaim) instead of writing a new one")
        if bound and ("hostPath" in pv or "nfs" in pv) and not taken:
            used.append(bound[0])
            if "hostPath" in pv:
                path = str((pv.get("hostPath") or {}).get("path", ""))
                spec["hostPath"] = path.rstrip("/") or path
                found.origins[f"{key}.hostPath"] = f"{bound[0]}: spec.hostPath.path"
            else:
                spec["type"] = "nfs"
                spec["nfs"] = {k: (pv.get("nfs") or {}).get(k) for k in ("server", "path")}
                found.origins[f"{key}.nfs"] = f"{bound[0]}: spec.nfs"
            size = (pv.get("capacity") or {}).get("storage")
            if size is not None:
                spec["size"] = str(size)
                found.origins[f"{key}.size"] = f"{bound[0]}: spec.capacity.storage"
            modes = pv.get("accessModes") or []
            if modes:
                spec["accessMode"] = modes[0]
                found.origins[f"{key}.accessMode"] = f"{bound[0]}: spec.accessModes"
                if len(modes) > 1:
                    found.notes.append(f"{bound[0]}: access modes {', '.join(map(str, modes))}; gen writes one, "
                                       f"{modes[0]}")
            if pv.get("storageClassName"):
                classes.append((str(pv["storageClassName"]), bound[0]))
            gen_pv, gen_pvc = names.volume(namespace, release, volume), names.claim(release, volume)
            found.plan_volumes.append(
                f"{volume}: gen writes PersistentVolume {gen_pv} and claim {namespace}/{gen_pvc} on the same "
                f"{'directory ' + spec['hostPath'] if 'hostPath' in spec else 'NFS export'}, so the files stay where "
                f"they are; the pods move to the new claim in the upgrade. The old {_describe(bound[1])} and "
                f"{_describe(claim)} stay bound until you delete them after the switch "
                f"({'Retain: deleting them leaves the files alone' if pv.get('persistentVolumeReclaimPolicy') == 'Retain' else 'set persistentVolumeReclaimPolicy Retain on the old volume first, so deleting its claim leaves the files alone'}).")
        else:
            spec["type"] = "existingClaim"
            spec["existingClaim"] = claim["metadata"]["name"]
            found.origins[f"{key}.existingClaim"] = f"{where}: metadata.name"
            how = f"bound to {_describe(bound[1])}" if bound else "provisioned by its StorageClass"
            found.plan_volumes.append(
                f"{volume}: the claim {_describe(claim)} ({how}) keeps its volume: gen.yaml mounts it as "
                f"storage.{volume}.existingClaim, and gen writes no volume or claim for it.")
            if bound:
                used.append(bound[0])
        storage[volume] = spec
    if classes:
        storage["className"] = classes[0][0]
        found.origins["storage.className"] = f"{classes[0][1]}: spec.storageClassName"
        for name, where in classes[1:]:
            if name != classes[0][0]:
                found.notes.append(f"{where}: storage class {name}; gen puts both volumes in one class, "
                                   f"{classes[0][0]}")
    return storage, used


def _unclaimed(volume: str, values: Mapping[str, Any], release: str, namespace: str, found: _Found) -> dict[str, Any]:
    """A volume without a claim in the manifests: a chart-made claim, git-sync, or none."""
    persistence = _get(values, f"{volume}.persistence") or {}
    if volume == "dags" and _get(values, "dags.gitSync.enabled"):
        sync_values = _get(values, "dags.gitSync") or {}
        spec: dict[str, Any] = {"type": "gitSync", "gitSync": {"repository": sync_values.get("repo")}}
        found.origins["storage.dags.gitSync.repository"] = "values: dags.gitSync.repo"
        branch = sync_values.get("ref") or sync_values.get("branch")
        if branch:
            spec["gitSync"]["branch"] = branch
        for key, target in (("subPath", "subPath"), ("credentialsSecret", "credentialsSecret")):
            if sync_values.get(key) not in (None, ""):
                spec["gitSync"][target] = sync_values[key]
        if sync_values.get("period"):
            spec["gitSync"]["period"] = str(sync_values["period"])
        if sync_values.get("sshKeySecret") or sync_values.get("sshKey"):
            found.cannot.append("dags.gitSync over ssh: gen clones over https only. Way through: give "
                                "dags.gitSync an https URL and a credentialsSecret, then import again.")
        return spec
    if isinstance(persistence, Mapping) and persistence.get("enabled") and persistence.get("existingClaim"):
        claim = str(persistence["existingClaim"])
        found.plan_volumes.append(f"{volume}: the claim {namespace}/{claim} (not in the manifests) keeps its volume: "
                                  f"gen.yaml mounts it as storage.{volume}.existingClaim.")
        found.origins[f"storage.{volume}.existingClaim"] = f"values: {volume}.persistence.existingClaim"
        return {"type": "existingClaim", "existingClaim": claim}
    if isinstance(persistence, Mapping) and persistence.get("enabled"):
        claim = names.claim(release, volume)
        found.cannot.append(
            f"{volume}: the chart made the claim {namespace}/{claim} itself; under gen the chart no longer owns it and "
            f"Helm deletes what a release stops rendering. Way through, before the first reconcile: back the data "
            f"up, set the bound volume's persistentVolumeReclaimPolicy to Retain (kubectl patch pv <volume> -p "
            f"'{{\"spec\":{{\"persistentVolumeReclaimPolicy\":\"Retain\"}}}}') and mark the claim kept "
            f"(kubectl annotate pvc {claim} -n {namespace} helm.sh/resource-policy=keep); gen.yaml mounts it as "
            f"storage.{volume}.existingClaim.")
        return {"type": "existingClaim", "existingClaim": claim}
    if volume == "logs" and persistence.get("enabled") is False:
        found.notes.append("logs: the values keep task logs in no volume; gen.yaml gets gen's default, a hostPath at "
                           "/srv/airflow/logs: change storage.logs (or use type none with remote logging)")
    elif volume == "dags":
        found.notes.append("dags: no claim or git-sync found for the DAG folder; gen.yaml gets gen's default, a hostPath "
                           "at /srv/airflow/dags: change storage.dags to where your DAGs are")
    return {}


# --- values and credentials -----------------------------------------------------------------------

def _is_credential(path: str, value: Any) -> bool:
    if credentials.is_credential(path, value) or _under(path, CREDENTIAL_PREFIXES):
        return True
    last = path.rsplit(".", 1)[-1]
    return (isinstance(value, str) and value != "" and bool(_CREDENTIAL_WORD.search(last))
            and not _NOT_CREDENTIAL.search(last))


def _metadata_connection(values: Mapping[str, Any], release: str, namespace: str) -> str:
    given = _get(values, "data.metadataConnection") or {}
    conn = {**METADATA_DEFAULTS, **{k: v for k, v in given.items() if v is not None}} if isinstance(given, Mapping) \
        else dict(METADATA_DEFAULTS)
    host = conn["host"] or f"{release}-postgresql.{namespace}"
    query = f"?sslmode={conn['sslmode']}" if conn["protocol"] == "postgresql" else ""
    return (f"{conn['protocol']}://{quote(str(conn['user']), safe='')}:{quote(str(conn['pass']), safe='')}@"
            f"{host}:{conn['port']}/{conn['db']}{query}")


def _secret_contents(values: Mapping[str, Any], release: str, namespace: str) -> dict[str, tuple[dict[str, str], str]]:
    """setting -> (Secret keys and values, where they come from); only the credentials the values hold,
    plus fresh keys for those the running release draws at random."""
    out: dict[str, tuple[dict[str, str], str]] = {}
    out["metadata"] = ({"connection": _metadata_connection(values, release, namespace)},
                       "data.metadataConnection" if _has(values, "data.metadataConnection")
                       else "the chart's default data.metadataConnection")
    auth = _get(values, "postgresql.auth") or {}
    admin = str(auth.get("postgresPassword") or "postgres") if isinstance(auth, Mapping) else "postgres"
    user = str(auth.get("password") or admin) if isinstance(auth, Mapping) else admin
    out["postgresql"] = ({"postgres-password": admin, "password": user},
                         "postgresql.auth" if isinstance(auth, Mapping) and auth else "the chart's default postgresql.auth")
    for setting, key, secret_key in (("fernetKey", "fernetKey", "fernet-key"),
                                     ("webserverSecretKey", "webserverSecretKey", "webserver-secret-key"),
                                     ("apiSecretKey", "apiSecretKey", "api-secret-key"),
                                     ("jwtSecret", "jwtSecret", "jwt-secret")):
        if _get(values, key):
            out[setting] = ({secret_key: str(_get(values, key))}, key)
        elif setting != "fernetKey":
            fresh = random.token_urlsafe(32)
            out[setting] = ({secret_key: fresh}, "a fresh random value (the chart drew the running one at random; "
                                                 "users log in again)")
    redis_password = _get(values, "redis.password")
    if redis_password:
        out["redisPassword"] = ({"password": str(redis_password)}, "redis.password")
        out["brokerUrl"] = ({"connection": f"redis://:{quote(str(redis_password), safe='')}@{release}-redis:6379/0"},
                            "redis.password")
    elif _get(values, "data.brokerUrl"):
        out["brokerUrl"] = ({"connection": str(_get(values, "data.brokerUrl"))}, "data.brokerUrl")
    password = _get(values, credentials.ADMIN_PASSWORD_PATH) or _get(values, "webserver.defaultUser.password")
    if password:
        out["adminPassword"] = ({"password": str(password)}, "webserver.defaultUser.password"
                                if _get(values, "webserver.defaultUser.password") else credentials.ADMIN_PASSWORD_PATH)
    else:
        out["adminPassword"] = ({"password": random.token_urlsafe(24)}, "a fresh random value (used only if the "
                                                                          "admin user does not exist yet)")
    return out


def _default_user(values: Mapping[str, Any]) -> dict[str, Any]:
    """webserver.defaultUser (deprecated in chart 1.19) becomes createUserJob.defaultUser, password left out."""
    old = _get(values, "webserver.defaultUser")
    if not isinstance(old, Mapping):
        return {}
    moved: dict[str, Any] = {"createUserJob": {}}
    user = {k: v for k, v in old.items() if k not in ("enabled", "password")}
    if user:
        moved["createUserJob"]["defaultUser"] = user
    if "enabled" in old:
        moved["createUserJob"]["enabled"] = bool(old["enabled"])
    return moved if moved["createUserJob"] else {}


def _split_values(values: Mapping[str, Any], found: _Found) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """(values for charts/airflow/values.yaml, the credential paths left out, the gen-owned paths mapped,
    the paths passed through unchanged)."""
    kept: dict[str, Any] = {}
    left_credentials, mapped, passed = [], [], []
    for path_parts, value in helm_values.leaves(values):
        path = ".".join(path_parts)
        if _is_credential(path, value):
            if value not in (None, ""):
                left_credentials.append(path)
            continue
        if _under(path, ("webserver.defaultUser",)):
            continue  # moved to createUserJob.defaultUser below (the password is a credential)
        if _under(path, GENERATED) or path in SECRET_NAME_KEYS:
            mapped.append(path)
            continue
        kept = helm_values.deep_merge(kept, helm_values.unflatten({path: value}))
        passed.append(path)
    moved = _default_user(values)
    if moved:
        found.notes.append("webserver.defaultUser (deprecated in chart 1.19) moves to createUserJob.defaultUser, "
                           "where chart 1.19 reads it; its password comes from the admin password Secret")
    kept = helm_values.deep_merge(kept, moved)
    return kept, left_credentials, mapped, passed


# --- assembling -----------------------------------------------------------------------------------

def _airflow_version(values: Mapping[str, Any]) -> tuple[str | None, str]:
    version = values.get("airflowVersion")
    if isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version):
        return version, "airflowVersion"
    for key in ("defaultAirflowTag", "images.airflow.tag"):
        match = re.match(r"^(\d+\.\d+\.\d+)", str(_get(values, key) or ""))
        if match:
            return match[1], key
    return None, ""


def _namespace(objects: list[tuple[str, dict]], given: str | None, found: _Found) -> str:
    seen = sorted({d["metadata"]["namespace"] for _, d in objects if isinstance(d["metadata"].get("namespace"), str)})
    if given is not None:
        for where, doc in objects:
            theirs = doc["metadata"].get("namespace")
            if isinstance(theirs, str) and theirs != given:
                found.problems.append(f"{where}: metadata.namespace: is {theirs!r} but --namespace is {given!r}; the "
                                      f"release, its claims and its route live in one namespace")
        return given
    if len(seen) > 1:
        found.problems.append(f"--manifests: objects sit in several namespaces ({', '.join(seen)}); pass the "
                              f"release's with --namespace")
    return seen[0] if seen else "airflow"


def build(values: dict[str, Any], objects: list[tuple[str, dict]], *, values_label: str, project_dir: Path,
          release: str | None = None, namespace: str | None = None, distribution: str | None = None,
          flux_cluster: str | None = None, flux_url: str | None = None, chart_path: Path | None = None) -> Imported:
    """Map the inputs onto a gen project; raise ConfigError with every problem at once."""
    found = _Found()
    namespace = _namespace(objects, namespace, found)
    ingress, implied_release, used, stripped = _ingress(objects, release, found)
    release = release or implied_release or "airflow"

    executor = values.get("executor", airflow.CELERY)
    overlay = EXECUTOR_OVERLAYS.get(executor) if isinstance(executor, str) else None
    if overlay is None:
        found.problems.append(f"{values_label}: executor: {schema.show(executor)} has no gen overlay; gen deploys "
                              f"{airflow.CELERY}, {airflow.KUBERNETES} or both ({airflow.MULTI}): set executor to one "
                              f"of them and import again")
        overlay = airflow.CELERY_EXECUTOR
    if "executor" not in values:
        found.notes.append(f"{values_label} sets no executor: the chart's default, {airflow.CELERY}, ran; gen.yaml "
                           f"deploys the {overlay} overlay")
    version_text, version_key = _airflow_version(values)
    version = Version.parse(version_text) if version_text else PIN_AIRFLOW

    data: dict[str, Any] = {"namespace": namespace, "release": release}
    found.origins["namespace"] = "--namespace or the manifests' metadata.namespace"
    found.origins["release"] = "--release or the IngressRoute's service"
    providers = {d.get("provisioner") for _, d in objects if d["kind"] == "StorageClass"}
    if distribution is None:
        distribution = "kubeadm" if "rancher.io/local-path" in providers else "k3s"
    data["cluster"] = {"distribution": distribution}
    data["airflow"] = {}
    if version_text:
        data["airflow"]["version"] = version_text
        found.origins["airflow.version"] = f"{values_label}: {version_key}"
    image = {"repository": values.get("defaultAirflowRepository"), "tag": values.get("defaultAirflowTag")}
    image = {k: str(v) for k, v in image.items() if v not in (None, "")}
    if image:
        data["airflow"]["image"] = image
        found.origins.update({f"airflow.image.{k}": f"{values_label}: defaultAirflow{k.title()}" for k in image})
    if not data["airflow"]:
        del data["airflow"]
    storage, storage_used = _storage(objects, values, release, namespace, found)
    used += storage_used
    if storage:
        data["storage"] = storage
    if ingress:
        if stripped and version.major == 2:
            ingress["prefixMode"] = "strip"
        data["ingress"] = ingress
    if stripped:
        prefix = ingress.get("pathPrefix")
        if version.major == 2:
            found.cannot.append(
                f"The route strips {prefix} with a stripPrefix Middleware: Airflow 2's legacy mode, where base_url has "
                f"no path. gen.yaml keeps it (ingress.prefixMode: strip); the supported way on Airflow 2 and 3 is "
                f"prefixMode keep, with base_url https://{ingress.get('host')}{prefix}: set it when you can.")
        else:
            found.cannot.append(
                f"The route strips {prefix} with a stripPrefix Middleware, which Airflow {version.major} does not "
                f"support (its UI, login pages and execution API need the prefix). gen keeps the prefix (prefixMode "
                f"keep) and sets config.api.base_url to https://{ingress.get('host')}{prefix}; the address users open "
                f"stays the same, and the Middleware is no longer used (delete it after the switch).")
    if overlay == airflow.CELERY_KUBERNETES_EXECUTOR and executor == airflow.HYBRID:
        if version.major == 2:
            data["overlays"] = {overlay: {"executor": airflow.HYBRID}}
        else:
            found.cannot.append(f"executor {airflow.HYBRID} raises at start-up on Airflow 3: the overlay runs "
                                f"{airflow.MULTI} instead; tasks pick their executor with executor=")
    if workers := (_get(values, "workers.celery.replicas") if _has(values, "workers.celery.replicas")
                   else _get(values, "workers.replicas")):
        data["workers"] = {"celery": {"replicas": workers}}
    if flux_cluster is not None:
        wiring: dict[str, Any] = {"name": flux_cluster, "overlay": overlay, "url": flux_url}
        root = sync.repository_root(project_dir.resolve())
        if root is not None:
            wiring["path"] = project_dir.resolve().relative_to(root).as_posix() or "."
        data["flux"] = {"cluster": wiring}

    base, left_credentials, mapped, passed = _split_values(values, found)
    secret_names: dict[str, str] = {}
    for chart_key, setting in SECRET_NAME_KEYS.items():
        if isinstance(_get(values, chart_key), str):
            secret_names[setting] = _get(values, chart_key)
        elif setting in RELEASE_OWNED:
            secret_names[setting] = f"{release}-{credentials.spec(setting).suffix}-{RENAMED_SUFFIX}"
    data["secrets"] = secret_names

    problems = _schema_problems(data, found)
    if found.problems or problems:
        raise ConfigError(found.problems + problems)
    files = {
        scaffold.GEN_YAML: _gen_yaml(data, values_label, overlay, executor),
        str(config_module.CHART_PIN): scaffold.CHART_PIN,
        str(config_module.BASE_VALUES): scaffold.VALUES_HEADER + (dump_documents([base]) if base else ""),
    }
    config = scaffold.check(project_dir, files)
    secrets_out = _secrets(values, config, overlay)
    plan = _plan(config, overlay, values, objects, used, passed, left_credentials, mapped, found, secrets_out,
                 version_text, values_label, _rendered_change(config, overlay, values, chart_path))
    return Imported(files=files, secrets=[s for s, _ in secrets_out], plan=plan, overlay=overlay, config=config)


def _schema_problems(data: dict[str, Any], found: _Found) -> list[str]:
    """The schema's verdict on the assembled gen.yaml, each line naming the input the value came from."""
    lines = []
    for line in schema.problems(schema.load("config"), data, "gen.yaml"):
        path, _, message = line.removeprefix("gen.yaml: ").partition(": ")
        origin = next((found.origins[k] for k in sorted(found.origins, key=len, reverse=True)
                       if path == k or path.startswith(k + ".") or path.startswith(k + "[")), None)
        lines.append(f"{origin}: becomes gen.yaml {path}: {message}" if origin else f"gen.yaml: {path}: {message}")
    return lines


SECTION_ORDER = ("namespace", "release", "cluster", "airflow", "storage", "ingress", "flux", "workers", "overlays",
                 "secrets")


def _gen_yaml(data: dict[str, Any], values_label: str, overlay: str, executor: Any) -> str:
    head = scaffold.modeline() + (
        f"# gen.yaml: imported by `gen import` from {scaffold.comment_text(values_label)} and the manifests applied by "
        f"hand.\n# Unset settings take their defaults: see docs/configuration.md, or `gen schema`.\n"
        f"# The release ran executor {scaffold.comment_text(str(executor))}: deploy the {overlay} overlay "
        f"(gen synth --overlay {overlay}).\n")
    body = "".join("\n" + dump_documents([{key: data[key]}]) for key in SECTION_ORDER if key in data and data[key] != {})
    return head + body


def _secrets(values: Mapping[str, Any], config: Config, overlay: str) -> list[tuple[dict[str, Any], str]]:
    """The Secret manifests the new release reads that this import can fill, each with where its values came from."""
    contents = _secret_contents(values, config.release, config.namespace)
    out = []
    for spec, name in credentials.required(config, [overlay]):
        if spec.chart_key and isinstance(_get(values, spec.chart_key), str):
            continue  # the user's own Secret, already in the cluster
        if spec.setting not in contents:
            continue  # a hook Secret the chart made at install: the new release reads it as it is
        data, source = contents[spec.setting]
        out.append(({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                     "metadata": {"name": name, "namespace": credentials.secret_namespace(config, spec)},
                     "stringData": data}, source))
    return out


def secrets_text(imported: Imported, values_label: str) -> str:
    """What gen import prints on standard output: the Secret manifests, with a recommendation to rotate."""
    config = imported.config
    return (f"# Secrets the imported release {config.namespace}/{config.release} reads, with the values from "
            f"{scaffold.comment_text(values_label)}. Do not commit this output.\n"
            f"# Apply them before the first reconcile, e.g. gen import ... | kubectl apply -f -\n"
            f"# Rotate these credentials once Flux runs the release: they were written in plain text in "
            f"{scaffold.comment_text(values_label)}.\n" + dump_documents(imported.secrets))


def _show_value(path: str, value: Any) -> str:
    return "<credential>" if _is_credential(path, value) else schema.show(value)


def _values_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines = []
    for path, was, now in changed_leaves(old, new, leaves=True):
        key = ".".join(path)
        if now is UNSET:
            lines.append(f"  - {key}: {_show_value(key, was)} (removed)")
        elif was is UNSET:
            lines.append(f"  + {key}: {_show_value(key, now)}")
        else:
            lines.append(f"  ~ {key}: {_show_value(key, was)} -> {_show_value(key, now)}")
    return lines


_SECRET_PART = re.compile(r"pass|secret|key|token|cert", re.I)


def _masked(line: str, values: Mapping[str, Any]) -> str:
    """A plan line with every credential of the installed values replaced, wherever the chart put it."""
    for path, value in helm_values.leaves(values):
        # Only the secret parts (passwords, keys, tokens): a host or a database name is no secret, and masking
        # a word as common as `postgresql` would garble the names of objects.
        if isinstance(value, str) and value and _SECRET_PART.search(path[-1]) and _is_credential(".".join(path), value):
            line = line.replace(value, "<credential>")
        elif isinstance(value, str):  # a token inside JSON or YAML text: the chart shows it apart from the rest
            for secret in credentials.secrets_inside(value):
                line = line.replace(secret, "<credential>")
    return line


def _rendered_change(config: Config, overlay: str, values: Mapping[str, Any], chart_path: Path | None) -> list[str]:
    """The chart's objects as installed (the values file) against what the new release renders, field by field."""
    try:
        chart = render.load_chart(config, chart_path)
    except ChartUnavailable as exc:
        return [f"  The chart's objects were not rendered ({exc.problems[0]}); give --chart PATH (the chart's "
                f".tgz) to see which objects change, or run `gen diff` / `gen render` later."]
    installed = render.Release(config.release, config.namespace, dict(values))
    try:
        before = render.OverlayRender(overlay, [
            render.RenderedObject(overlay, source, obj, config.namespace)
            for source, obj in chart.objects(installed, render.DEFAULT_KUBE_VERSION, cached=False)], installed)
    except render.RenderError as exc:
        return [f"  The installed values do not render with chart {config.chart.version}: {exc.problems[0]}"]
    after = render.config_renders(config, [overlay], chart)[overlay]
    section = rendered_diff.compare(overlay, before, after)
    title = f"  The chart's objects, rendered by chart {config.chart.version} from the installed values and from the new:"
    summary = [f"    {_masked(line, values)}" for line in rendered_diff.summary_lines(section)]
    return [title] + (summary or ["    (no object changes)"])


def _plan(config: Config, overlay: str, values: Mapping[str, Any], objects: list[tuple[str, dict]], used: list[str],
          passed: list[str], left_credentials: list[str], mapped: list[str], found: _Found,
          secrets_out: list[tuple[dict[str, Any], str]], version_text: str | None, values_label: str,
          rendered: list[str]) -> list[str]:
    ns, release = config.namespace, config.release
    dist = f"dist/{overlay}"
    lines = [f"gen: adoption plan for Helm release {release} in namespace {ns}: overlay {overlay}, chart "
             f"{config.chart.name} {config.chart.version}", ""]
    lines += [
        "1. Flux takes the release over without reinstalling it",
        f"  - {dist} holds a Flux HelmRelease {ns}/{names.helm_release(release)} with spec.releaseName {release}; "
        f"Helm's release records stay in namespace {ns} (storageNamespace defaults to the HelmRelease's namespace, "
        f"where `helm install -n {ns}` put them). helm-controller finds release {release} there and upgrades it "
        f"instead of installing a new one: same release, same objects, same claims.",
        f"  - Before the first reconcile: `helm status {release} -n {ns}` must say deployed (fix a failed or pending "
        f"release with `helm rollback {release} -n {ns}` first), and `helm upgrade` by hand stops for good.",
        f"  - Flux needs its controllers in the cluster (flux install or flux bootstrap), the chart repository "
        f"{config.chart.repository} reachable, the Secrets printed on standard output applied in {ns}, and a "
        f"Kustomization that applies {dist}" + (f" (gen synth writes it: clusters/{config.flux.cluster.name}/airflow.yaml)."
                                                if config.flux.cluster else " (set flux.cluster in gen.yaml and gen synth writes it)."),
        "  - The first reconcile is a Helm upgrade of the running release to the values under 3 (RetryOnFailure: "
        "never a rollback of the database).",
        "",
        "2. The volumes keep their data",
    ]
    lines += [f"  - {line}" for line in found.plan_volumes]
    postgres_claim = f"data-{release}-postgresql-0"
    lines.append(f"  - The bundled PostgreSQL keeps its claim {ns}/{postgres_claim}: the release name is the same, so "
                 f"the StatefulSet and its claim are the same objects.")
    for where, doc in objects:
        if doc["kind"] == "StorageClass" and doc["metadata"]["name"] == config.storage.class_name:
            used.append(where)
            lines.append(f"  - {_describe(doc)}: gen writes its own class of that name (kubernetes.io/no-provisioner, "
                         f"reclaimPolicy {config.storage.reclaim_policy}) with Flux's force annotation: Flux recreates "
                         f"it where the fields differ; volumes already bound keep their data.")
        elif doc["kind"] == "StorageClass" and doc.get("provisioner") == "rancher.io/local-path":
            used.append(where)
            if cluster.profile(config).gen_installs_provisioner:
                lines.append(f"  - {_describe(doc)}: cluster.distribution {config.cluster.distribution}: gen installs "
                             f"local-path-provisioner through Flux, with this class; it takes over the copy you "
                             f"applied by hand.")
            else:
                lines.append(f"  - {_describe(doc)}: {config.cluster.distribution} ships local-path itself; gen "
                             f"leaves this class alone.")
        elif doc["kind"] == "Namespace" and doc["metadata"]["name"] == ns:
            used.append(where)
    lines += ["", "3. What changes on the running release (its values, as dotted keys; <credential> marks a value "
                  "that now comes from a Secret)"]
    service = airflow.ui_service(release, config.airflow_version)
    if found.route_service and found.route_service != service:
        lines.append(f"  - The route now sends requests to Service {service} (it sent them to "
                     f"{found.route_service}): on Airflow {config.airflow_version.major} the chart serves the UI "
                     f"from it.")
    new = chart_values.release_values(config, overlay)
    lines += _values_diff(values, new) or ["  (no value changes)"]
    lines += rendered
    lines += ["", "4. What cannot carry over, and the way through"]
    cannot = list(found.cannot)
    if version_text is None:
        cannot.insert(0, f"The values name no Airflow version, so the running one is the default of the chart you "
                         f"installed (chart 1.10.0: Airflow 2.6.2); gen pins chart {config.chart.version}, whose "
                         f"default is Airflow {config.chart.airflow_version}. Adopting as written upgrades Airflow, "
                         f"migrating the database with no way back. Way through: to keep your version, set "
                         f"airflow.version in gen.yaml to the APP VERSION `helm list -n {ns}` shows (chart "
                         f"{config.chart.version} renders Airflow 2 and 3); to upgrade, back the database up first.")
    tag = _get(values, "postgresql.image.tag")
    if tag is not None and re.match(r"^(\d+)", str(tag)) and int(re.match(r"^(\d+)", str(tag))[1]) < 16:
        major = re.match(r"^(\d+)", str(tag))[1]
        cannot.append(f"postgresql.image.tag {schema.show(tag)}: the database files are PostgreSQL {major}; chart "
                      f"{config.chart.version} bundles PostgreSQL 16, which cannot open them. gen keeps the pin in "
                      f"charts/airflow/values.yaml so the adopted release runs the same major on the same files (check "
                      f"that the image {_get(values, 'postgresql.image.repository') or 'bitnamilegacy/postgresql'}:"
                      f"{tag} can be pulled). Way through to 16: pg_dumpall from the running pod, then restore into a "
                      f"fresh PostgreSQL 16 volume, then remove the pin.")
    lines += [f"  - {line}" for line in cannot] or ["  (nothing)"]
    lines += ["", "5. Credentials (printed on standard output as Secrets, in no written file)"]
    for secret, source in secrets_out:
        lines.append(f"  - Secret {secret['metadata']['namespace']}/{secret['metadata']['name']} "
                     f"({', '.join(sorted(secret['stringData']))}): from {source}")
    for setting in HOOK_OWNED:
        spec = credentials.spec(setting)
        name = credentials.name(config, spec)
        if any(s.setting == setting for s, _ in credentials.required(config, [overlay])) and \
                not any(secret["metadata"]["name"] == name for secret, _ in secrets_out) and \
                not (spec.chart_key and _get(values, spec.chart_key)):
            lines.append(f"  - Secret {ns}/{name}: the chart made it once at install (a Helm hook, which upgrades "
                         f"never delete) and the new release reads it under the same name: keep it, never replace it"
                         + (" (it encrypts the connections and variables in the database)"
                            if setting == "fernetKey" else ""))
    if left_credentials:
        lines.append(f"  - left out of every written file: {', '.join(left_credentials)}")
    renamed = [f"{ns}/{name}" for spec, name in credentials.required(config, [overlay])
               if spec.setting in RELEASE_OWNED and name.endswith(f"-{RENAMED_SUFFIX}")]
    if renamed:
        lines.append(f"  - New names ({', '.join(renamed)}): the chart's own Secrets of the default names belong to "
                     f"the release, and Helm deletes them in the upgrade once gen names Secrets instead.")
    lines.append("  - Rotate these credentials once the release runs under Flux: they were in plain text.")
    lines += ["", "6. Not mapped"]
    if passed:
        lines.append(f"  - passed through unchanged to charts/airflow/values.yaml: {', '.join(passed)}")
    if mapped:
        lines.append(f"  - values gen generates itself, read for their meaning and left out: {', '.join(mapped)}")
    lines += [f"  - {line}" for line in found.left_out]
    for where, doc in objects:
        if where not in used:
            lines.append(f"  - {where}: not mapped; gen writes no object of this kind, keep applying it by hand")
    lines += [f"  - note: {line}" for line in found.notes]
    return lines


def write(project_dir: Path, imported: Imported) -> list[Path]:
    return scaffold.write_project(project_dir, imported.files)


def run(values_path: Path, manifest_paths: Sequence[Path], project_dir: Path, *, release: str | None = None,
        namespace: str | None = None, distribution: str | None = None, flux_cluster: str | None = None,
        flux_url: str | None = None, chart_path: Path | None = None) -> tuple[Imported, list[Path]]:
    """gen import end to end: read, map, check, then write the project (all or nothing)."""
    refuse_existing(project_dir, [scaffold.GEN_YAML, str(config_module.CHART_PIN), str(config_module.BASE_VALUES)])
    values, objects = read(values_path, manifest_paths)
    imported = build(values, objects, values_label=str(values_path), project_dir=project_dir, release=release,
                     namespace=namespace, distribution=distribution, flux_cluster=flux_cluster, flux_url=flux_url,
                     chart_path=chart_path)
    return imported, write(project_dir, imported)
