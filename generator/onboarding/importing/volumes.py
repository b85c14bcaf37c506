"""gen import, storage: gen.yaml `storage` from the install's PersistentVolumes, claims and persistence
values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator import schema
from generator.knowledge import airflow, names
from generator.onboarding.importing import findings

# --- storage --------------------------------------------------------------------------------------

def _volume_of(doc: Mapping[str, Any], values: Mapping[str, Any]) -> str | None:
    name = doc["metadata"]["name"]
    for volume in names.VOLUMES:
        if findings.get(values, f"{volume}.persistence.existingClaim") == name:
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


def storage(objects: list[tuple[str, dict]], values: Mapping[str, Any], release: str, namespace: str,
             found: findings.Found) -> tuple[dict[str, Any], list[str]]:
    """gen.yaml `storage` from the claims and volumes, and the objects used.

    Long (carried over from the flat importer): claim, bound volume and class are read together per volume;
    cutting it would hand the claim, its volume and the classes seen around."""
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
        gen_names = (claim["metadata"]["name"] == names.claim(release, volume),
                     bound is not None and bound[1]["metadata"]["name"] == names.volume(namespace, release, volume))
        # Both of gen's names: the pair gen wrote before (a project rendered, then imported), written again as it is.
        own = all(gen_names) and ("hostPath" in pv or "nfs" in pv)
        taken = any(gen_names) and not own
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
                f"{volume}: PersistentVolume {gen_pv} and claim {namespace}/{gen_pvc} have gen's names: gen writes "
                f"them again as they are, and nothing moves." if own else
                f"{volume}: gen writes PersistentVolume {gen_pv} and claim {namespace}/{gen_pvc} on the same "
                f"{'directory ' + spec['hostPath'] if 'hostPath' in spec else 'NFS export'}, so the files stay where "
                f"they are; the pods move to the new claim in the upgrade. The old {findings.describe(bound[1])} and "
                f"{findings.describe(claim)} stay bound until you delete them after the switch "
                f"({'Retain: deleting them leaves the files alone' if pv.get('persistentVolumeReclaimPolicy') == 'Retain' else 'set persistentVolumeReclaimPolicy Retain on the old volume first, so deleting its claim leaves the files alone'}).")
        else:
            spec["type"] = "existingClaim"
            spec["existingClaim"] = claim["metadata"]["name"]
            found.origins[f"{key}.existingClaim"] = f"{where}: metadata.name"
            how = f"bound to {findings.describe(bound[1])}" if bound else "provisioned by its StorageClass"
            found.plan_volumes.append(
                f"{volume}: the claim {findings.describe(claim)} ({how}) keeps its volume: gen.yaml mounts it as "
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


def _unclaimed(volume: str, values: Mapping[str, Any], release: str, namespace: str, found: findings.Found) -> dict[str, Any]:
    """A volume without a claim in the manifests: a chart-made claim, git-sync, or none."""
    persistence = findings.get(values, f"{volume}.persistence") or {}
    if volume == "dags" and findings.get(values, "dags.gitSync.enabled"):
        sync_values = findings.get(values, "dags.gitSync") or {}
        spec: dict[str, Any] = {"type": "gitSync", "gitSync": {"repository": sync_values.get("repo")}}
        found.origins["storage.dags.gitSync.repository"] = "values: dags.gitSync.repo"
        # git-sync v4 reads `ref`; v3 reads `branch`, pinned by a `rev` other than HEAD. gen writes one ref for
        # both, so a pin (a tag, a commit) becomes that ref and the DAGs stay where the install had them.
        pinned = sync_values.get("rev") if sync_values.get("rev") not in (None, "", "HEAD") else None
        branch = sync_values.get("ref") or pinned or sync_values.get("branch")
        if pinned and not sync_values.get("ref"):
            found.notes.append(f"dags.gitSync.rev {schema.show(pinned)} pins the DAGs: gen.yaml "
                               f"storage.dags.gitSync.branch gets it, and gen writes it as the chart's ref and branch")
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
    return _volumeless(volume, values, found)


def _volumeless(volume: str, values: Mapping[str, Any], found: findings.Found) -> dict[str, Any]:
    """No claim and no git-sync: the DAGs are the image's, and Celery workers keep logs in their own claims."""
    if volume == "dags":
        found.notes.append("dags: no claim or git-sync for the DAG folder, so the DAGs are the image's: gen.yaml gets "
                           "storage.dags.type image (no volume, nothing mounted over the DAG folder)")
        return {"type": "image"}
    executor = str(values.get("executor", airflow.CELERY))
    if "Celery" in executor and findings.get(values, "workers.persistence.enabled") is not False:
        found.plan_volumes.append("logs: the Celery workers keep their task logs in the claims of their StatefulSet's "
                                  "volumeClaimTemplates (workers.persistence, on by default): gen.yaml keeps them "
                                  "(storage.logs.type workers), so the StatefulSet's claims stay as the API server "
                                  "requires and no logs-* claim is orphaned.")
        return {"type": "workers"}
    found.notes.append("logs: the values keep task logs in no volume; gen.yaml gets gen's default, a hostPath at "
                       "/srv/airflow/logs: change storage.logs (or use type none with remote logging)")
    return {}
