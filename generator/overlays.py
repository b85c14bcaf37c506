"""Per-executor kustomize overlays: `../../dist/base` plus one patch of the HelmRelease values.

The patch holds only the delta: the executor, what it switches on or off, and the overlay's own
extra values. Kustomize merges it into the base HelmRelease as a JSON merge patch (maps merge,
lists are replaced whole), which is also how Helm merges values.
"""

from __future__ import annotations

from typing import Any

from . import airflow, names, values
from .config import Config

PATCH_FILE = "helmrelease-values.yaml"
KUSTOMIZATION = "kustomization.yaml"


def patch_values(overlay: str, config: Config) -> dict[str, Any]:
    generated = {key: value for key, (value, _origin) in airflow.overlay_values(overlay, config).items()}
    return values.deep_merge(values.unflatten(generated), config.overlays[overlay].values)


def kustomization(config: Config) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../dist/base"],
        "patches": [{
            "path": PATCH_FILE,
            "target": {"group": "helm.toolkit.fluxcd.io", "version": "v2", "kind": "HelmRelease",
                       "name": names.helm_release(config.release), "namespace": config.namespace},
        }],
    }


def patch(overlay: str, config: Config) -> dict[str, Any]:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": names.helm_release(config.release), "namespace": config.namespace},
        "spec": {"values": patch_values(overlay, config)},
    }
