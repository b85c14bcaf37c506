"""Per-executor kustomize overlays: `../../dist/base` plus one patch of the HelmRelease (or HelmChart) values.

The patch holds only the delta: the executor, what it switches on or off, and the overlay's own
extra values. Kustomize merges it into the base HelmRelease as a JSON merge patch (maps merge,
lists are replaced whole), which is also how Helm merges values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.knowledge import chart_values, names
from generator.model import Config

PATCH_FILE = "helmrelease-values.yaml"
K3S_PATCH_FILE = "helmchart-values.yaml"
KUSTOMIZATION = "kustomization.yaml"


@dataclass(frozen=True)
class Target:
    """The object an overlay patches: the Flux HelmRelease, or the k3s HelmChart (same `spec.values`)."""

    group: str
    version: str
    kind: str
    namespace: str
    patch_file: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


def target(config: Config) -> Target:
    if config.gitops.engine == "k3s":
        return Target("helm.cattle.io", "v1", "HelmChart", names.K3S_NAMESPACE, K3S_PATCH_FILE)
    return Target("helm.toolkit.fluxcd.io", "v2", "HelmRelease", config.namespace, PATCH_FILE)


def kustomization(config: Config) -> dict[str, Any]:
    aim = target(config)
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../../dist/base"],
        "patches": [{
            "path": aim.patch_file,
            "target": {"group": aim.group, "version": aim.version, "kind": aim.kind,
                       "name": names.helm_release(config.release), "namespace": aim.namespace},
        }],
    }


def patch(overlay: str, config: Config) -> dict[str, Any]:
    aim = target(config)
    return {
        "apiVersion": aim.api_version,
        "kind": aim.kind,
        "metadata": {"name": names.helm_release(config.release), "namespace": aim.namespace},
        "spec": {"values": chart_values.overlay_patch(overlay, config)},
    }
