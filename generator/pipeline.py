"""gen synth from end to end: config -> cdk8s objects -> files -> kustomize -> atomic swap.

Everything is first written to a staging directory; the project's dist/ and overlays/ change only
in the final swap, so a failure at any earlier step leaves them exactly as they were.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import app, config as config_module, kustomize, output, overlays
from .airflow import OVERLAYS
from .config import Config
from .yamlio import dump_documents

HYDRATED_FILE = "manifests.yaml"


@dataclass(frozen=True)
class SynthResult:
    project_dir: Path
    overlays: tuple[str, ...]
    files: tuple[str, ...]  # relative to project_dir, sorted


def _kustomization(resources: list[str]) -> dict:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}


def render_sources(config: Config, selected: Sequence[str]) -> dict[str, str]:
    """dist/base and overlays/<selected>: relative path -> text."""
    head = output.header(config.source.name)
    files = {}
    for chart, objects in app.build(config).items():
        files[f"dist/base/{chart}.yaml"] = head + dump_documents(objects)
    base_files = sorted(Path(p).name for p in files)
    files[f"dist/base/{overlays.KUSTOMIZATION}"] = head + dump_documents([_kustomization(base_files)])
    for name in selected:
        files[f"overlays/{name}/{overlays.KUSTOMIZATION}"] = head + dump_documents([overlays.kustomization(config)])
        patch_file = overlays.target(config).patch_file
        files[f"overlays/{name}/{patch_file}"] = head + dump_documents([overlays.patch(name, config)])
    return files


def hydrate(config: Config, root: Path, selected: Sequence[str]) -> dict[str, str]:
    """dist/<overlay>: real kustomize output of root/overlays/<overlay>, with the header on top."""
    head = output.header(config.source.name)
    built = kustomize.build_many([root / "overlays" / name for name in selected])
    files = {}
    for name, manifests in zip(selected, built, strict=True):
        files[f"dist/{name}/{HYDRATED_FILE}"] = head + manifests
        files[f"dist/{name}/{overlays.KUSTOMIZATION}"] = head + dump_documents([_kustomization([HYDRATED_FILE])])
    return files


def generate(config: Config, root: Path, selected: Sequence[str]) -> dict[str, str]:
    """Write and return every generated file for `selected` below `root` (an empty or staging dir)."""
    files = render_sources(config, selected)
    output.write_files(root, files)
    hydrated = hydrate(config, root, selected)
    output.write_files(root, hydrated)
    return {**files, **hydrated}


def _carry_over(project_dir: Path, stage: Path, selected: Sequence[str]) -> None:
    """With --overlay, the other overlays' files stay exactly as they are."""
    for name in OVERLAYS:
        if name in selected:
            continue
        for tree in ("overlays", "dist"):
            previous = project_dir / tree / name
            if previous.is_dir() and not previous.is_symlink():
                shutil.copytree(previous, stage / tree / name, symlinks=True)


def synth(config_path: Path, selected: Sequence[str] | None = None, label: str | None = None) -> SynthResult:
    """Regenerate dist/ and overlays/ beside `config_path` for the selected overlays (default: all)."""
    config = config_module.load(config_path, label)
    names = tuple(selected) if selected else OVERLAYS
    project_dir = config.source.project_dir
    output.check_trees(project_dir)
    with output.staging(project_dir) as stage:
        files = generate(config, stage, names)
        if selected:
            _carry_over(project_dir, stage, names)
        output.replace_trees(project_dir, stage)
    return SynthResult(project_dir=project_dir, overlays=names, files=tuple(sorted(files)))
