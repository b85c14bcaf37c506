"""gen synth from end to end: configs -> cdk8s objects -> files -> kustomize -> atomic swap.

Everything is first written to a staging directory; a project's dist/ and overlays/ change only in
the final swap, so a failure at any earlier step leaves them exactly as they were. Several configs
are rendered in one process (one Node.js start), then their overlays are built together.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator import config as config_module
from generator.knowledge import changes, secret_providers, sync
from generator.knowledge.airflow import OVERLAYS
from generator.model import Config
from generator.plumbing import cache, interrupts, lock, notices, output, swap
from generator.plumbing.errors import ConfigError, OutputError
from generator.plumbing.yamlio import GENERATED_MAX_BYTES, dump_documents, read_text
from generator.synth import app, freshness, kustomize, overlays, secret_files

HYDRATED_FILE = "manifests.yaml"


@dataclass(frozen=True)
class SynthResult:
    project_dir: Path
    overlays: tuple[str, ...]
    files: tuple[str, ...]  # relative to project_dir, sorted
    findings: tuple[changes.Finding, ...] = ()  # what replacing the files on disk does in the cluster


@dataclass(frozen=True)
class Drift:
    """How a project's files differ from what `gen synth` would write (relative paths)."""

    changed: dict[str, tuple[str, str]]  # path -> (on disk, generated)
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    refused: tuple[str, ...] = ()  # one line per file not read: a link, a pipe or device, too large
    secrets: tuple[str, ...] = ()  # secrets.provider sops: one line per Secret file missing or not encrypted

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.extra or self.refused or self.secrets)


def _kustomization(resources: list[str]) -> dict:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}


def render_sources(config: Config, selected: Sequence[str]) -> dict[str, str]:
    """dist/base and overlays/<selected>: relative path -> text."""
    head = output.header(config.source.name)
    files, separate = {}, {}
    for chart, objects in app.build(config).items():
        if chart in app.SEPARATE:
            directory = app.SEPARATE[chart]
            separate[f"{directory}/{chart}.yaml"] = head + dump_documents(objects)
            separate[f"{directory}/{overlays.KUSTOMIZATION}"] = head + dump_documents([_kustomization([f"{chart}.yaml"])])
        else:
            files[f"dist/base/{chart}.yaml"] = head + dump_documents(objects)
    base_files = sorted(Path(p).name for p in files)
    files[f"dist/base/{overlays.KUSTOMIZATION}"] = head + dump_documents([_kustomization(base_files)])
    files.update(separate)
    overlay_kustomization = head + dump_documents([overlays.kustomization(config)])  # the same for every overlay
    for name in selected:
        files[f"overlays/{name}/{overlays.KUSTOMIZATION}"] = overlay_kustomization
        patch_file = overlays.target(config).patch_file
        files[f"overlays/{name}/{patch_file}"] = head + dump_documents([overlays.patch(name, config)])
    return files


def render_sync(config: Config) -> dict[str, str]:
    """clusters/<name>/airflow.yaml, or nothing without `flux.cluster`."""
    path = sync.file_path(config)
    if path is None:
        return {}
    return {path: output.header(config.source.name) + dump_documents(app.build_sync(config))}


_HYDRATED_KUSTOMIZATION = dump_documents([_kustomization([HYDRATED_FILE])])


def _hydrated(config: Config, name: str, manifests: str) -> dict[str, str]:
    head = output.header(config.source.name)
    return {
        f"dist/{name}/{HYDRATED_FILE}": head + manifests,
        f"dist/{name}/{overlays.KUSTOMIZATION}": head + _HYDRATED_KUSTOMIZATION,
    }


def _overlay_key(tool: str, name: str, files: dict[str, str]) -> str:
    """A digest of everything `kubectl kustomize overlays/<name>` reads, and of the kubectl that runs it."""
    inputs = sorted((p, t) for p, t in files.items() if p.startswith(("dist/base/", f"overlays/{name}/")))
    return cache.key("kustomize-1", tool, name, inputs)


def generate_many(jobs: Sequence[tuple[Config, Path]], selected: Sequence[str]) -> list[dict[str, str]]:
    """Write every config's dist/ and overlays/ below its root (an empty or staging dir); return the files.

    kustomize runs only for overlays the cache does not hold: with one config unchanged since the
    last run, the cache saves all of kustomize (bench/run, 2 cores: 0.25 s of a 1.59 s single-config synth,
    0.45 s for five configs).
    """
    tool = cache.tool_version()
    rendered, hydrated, missing = [], {}, []
    for config, root in jobs:
        files = render_sources(config, selected)
        output.write_files(root, files)
        rendered.append(files)
        for name in selected:
            key = _overlay_key(tool, name, files)
            text = cache.read("kustomize", key)
            if text is None:
                missing.append((root, name, key))
            else:
                hydrated[(root, name)] = text
    built = kustomize.build_overlays([root / "overlays" / name for root, name, _key in missing])
    for (root, name, key), text in zip(missing, built, strict=True):
        cache.write("kustomize", key, text)
        hydrated[(root, name)] = text
    for (config, root), files in zip(jobs, rendered, strict=True):
        for name in selected:
            overlay_files = _hydrated(config, name, hydrated[(root, name)])
            output.write_files(root, overlay_files)
            files.update(overlay_files)
    return rendered


def generate(config: Config, root: Path, selected: Sequence[str]) -> dict[str, str]:
    """Write and return every generated file for `selected` below `root` (an empty or staging dir)."""
    return generate_many([(config, root)], selected)[0]


def _carry_over(project_dir: Path, stage: Path, selected: Sequence[str]) -> list[str]:
    """With --overlay, the other overlays' files stay exactly as they are: copied into the stage as they
    are (links as links, never followed). A pipe, socket or device there cannot be copied: one line each."""
    problems = []
    for name in _unselected(selected):
        for tree in output.TREES:
            previous = project_dir / tree / name
            if not previous.is_dir() or previous.is_symlink():
                continue
            special = []
            for directory, subdirectories, files in os.walk(previous):
                for entry in [*subdirectories, *files]:
                    path = Path(directory) / entry
                    mode = path.lstat().st_mode
                    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                        special.append(f"{path.relative_to(project_dir).as_posix()}: is not a regular file (a pipe, "
                                       f"socket or device); gen keeps the other overlays' files as they are and "
                                       f"cannot copy it: remove it, or run gen synth without --overlay")
            problems += special
            if not special:
                try:
                    shutil.copytree(previous, stage / tree / name, symlinks=True)
                except (OSError, shutil.Error) as exc:
                    problems.append(f"{tree}/{name}/: cannot be kept as it is: {exc}")
    return problems


def _unselected(selected: Sequence[str]) -> list[str]:
    return [name for name in OVERLAYS if name not in selected]


def _kept(selected: Sequence[str] | None) -> list[str]:
    """The directories an --overlay run leaves alone, which a check therefore ignores."""
    return [f"{tree}/{name}" for name in _unselected(selected) for tree in output.TREES] if selected else []


def _sync_target_problems(config: Config, stage: Path) -> list[str]:
    """The cluster's Kustomization must point at an overlay that exists after this run."""
    cluster = config.flux.cluster
    if cluster is None or (stage / "dist" / cluster.overlay / HYDRATED_FILE).is_file():
        return []
    return [f"{config.source.label}: flux.cluster.overlay: {cluster.overlay} is not generated (this run builds "
            f"only the overlays given with --overlay, and dist/{cluster.overlay} does not exist yet); "
            f"run gen synth without --overlay, or add --overlay {cluster.overlay}"]


def _owned_sync_files(config: Config) -> list[str]:
    """clusters/*/airflow.yaml files that this config generated earlier (they carry its header)."""
    return sync.owned_files(config.source.project_dir, output.header(config.source.name))


def _overlap_problems(configs: Sequence[Config]) -> list[str]:
    """Two configs may not write the same files: each needs its own directory, outside the other's output."""
    found = []
    resolved = [str(config.source.project_dir.resolve()) for config in configs]  # once: resolve() is slow
    trees = (*output.TREES, sync.CLUSTERS)
    for index, first in enumerate(configs):
        for offset, second in enumerate(configs[index + 1:], start=index + 1):
            a, b = resolved[index], resolved[offset]
            if a == b:
                found.append(f"{first.source.label} and {second.source.label}: both would write dist/ and "
                             f"overlays/ in {first.source.project_dir}; put each config in its own directory")
                continue
            for outer, inner, label in ((a, b, second.source.label), (b, a, first.source.label)):
                for tree in trees:
                    replaced = os.path.join(outer, tree)
                    if inner == replaced or inner.startswith(replaced + os.sep):
                        found.append(f"{label}: lies inside {replaced}, which another config's synth "
                                     f"replaces; move it out of {tree}/")
    return list(dict.fromkeys(found))


def load_many(config_paths: Sequence[Path], labels: Sequence[str] | None = None) -> list[Config]:
    """Every config, all problems of all of them at once; the same file named twice counts once."""
    seen, configs, found = set(), [], []
    for index, path in enumerate(config_paths):
        try:
            key = path.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop: load() names it in one line
            key = path.absolute()
        if key in seen:
            continue
        seen.add(key)
        try:
            configs.append(config_module.load(path, labels[index] if labels else None))
        except ConfigError as exc:
            found += exc.problems
    found += _overlap_problems(configs)
    if found:
        raise ConfigError(found)
    return configs


def synth_many(configs: Sequence[Config], selected: Sequence[str] | None = None) -> list[SynthResult]:
    """Regenerate every config's dist/, overlays/ and cluster wiring for the selected overlays (default: all).

    Nothing is replaced until every config has rendered and built; then each project is swapped in.
    """
    names = tuple(selected) if selected else OVERLAYS
    problems = []
    for config in configs:
        try:
            output.check_trees(config.source.project_dir)
        except OutputError as exc:
            problems += exc.problems
    if problems:
        raise OutputError(problems)
    with ExitStack() as stack:
        finishing = stack.enter_context(interrupts.Finishing())  # exits last: after the staging is removed
        # One run at a time per project: a second run would remove this one's staging or swap in between.
        for project_dir in dict.fromkeys(config.source.project_dir for config in configs):
            stack.enter_context(lock.project_lock(project_dir))
            _recover(project_dir)
        stages = [stack.enter_context(output.staging(c.source.project_dir)) for c in configs]
        rendered = generate_many(list(zip(configs, stages, strict=True)), names)
        syncs = [render_sync(config) for config in configs]
        for config, stage in zip(configs, stages, strict=True):
            if selected:
                problems += _carry_over(config.source.project_dir, stage, names)
            problems += _sync_target_problems(config, stage)
        if problems:
            raise ConfigError(problems)
        findings = [_replaced(config, files, sync_files, names)
                    for config, files, sync_files in zip(configs, rendered, syncs, strict=True)]
        # Everything that can be checked is checked before the first rename: a tree that cannot be
        # replaced, a directory or a link where a wiring file goes. The wiring files are written beside
        # their targets now, so that putting them in place is one rename each.
        prepared = []
        for config, stage, sync_files in zip(configs, stages, syncs, strict=True):
            project_dir = config.source.project_dir
            problems += swap.swap_problems(project_dir, stage)
            stale = [p for p in _owned_sync_files(config) if p not in sync_files]
            try:
                prepared.append(stack.enter_context(swap.prepared_files(project_dir, sync_files, stale)))
            except OutputError as exc:
                problems += exc.problems
        if problems:
            raise OutputError(problems)
        finishing.hold()  # from the first rename on, a Ctrl-C waits until the output and its record are in place
        swap.replace_all([(config.source.project_dir, stage) for config, stage in zip(configs, stages, strict=True)],
                           prepared)
        for config, files, sync_files in zip(configs, rendered, syncs, strict=True):
            _record(config, names, {**files, **sync_files})
    return [SynthResult(project_dir=config.source.project_dir, overlays=names,
                        files=tuple(sorted({**files, **sync_files})), findings=found)
            for config, files, sync_files, found in zip(configs, rendered, syncs, findings, strict=True)]


def _replaced(config: Config, files: dict[str, str], sync_files: dict[str, str],
              names: Sequence[str]) -> tuple[changes.Finding, ...]:
    """The findings of each hydrated overlay (and the cluster wiring) on disk against what replaces it."""
    project_dir = config.source.project_dir
    pairs = [(name, _existing(project_dir, f"dist/{name}/{HYDRATED_FILE}"), files[f"dist/{name}/{HYDRATED_FILE}"])
             for name in names]
    wiring = [_existing(project_dir, path) for path in _owned_sync_files(config)]
    if any(text is not None for text in wiring):
        pairs.append((changes.WIRING, "".join(text for text in wiring if text), "".join(sync_files.values())))
    found = []
    for name, before, after in pairs:
        # kustomize never writes anchors: a file on disk with one is not gen's, and may be an alias bomb.
        if before is None or before == after or _ANCHOR.search(before):
            continue
        try:
            found += changes.classify_text(name, before, after, None, config)
        except yaml.YAMLError:
            continue  # a hand-edited file gen cannot read: the diff of the files is all there is to see
    return tuple(found)


_ANCHOR = re.compile(r"(?m)(?:^|:|-|[\[{,])[ \t]*&[A-Za-z0-9_.-]+(?:[ \t]|$)")  # `key: &name` (not `a && b`)


def _existing(project_dir: Path, relative: str) -> str | None:
    """The file gen is about to replace, when it is a regular file reached without following a link."""
    try:
        return read_text(Path(relative), relative, max_bytes=GENERATED_MAX_BYTES, within=project_dir)
    except ConfigError:
        return None


def synth(config_path: Path, selected: Sequence[str] | None = None, label: str | None = None) -> SynthResult:
    """Regenerate dist/ and overlays/ beside `config_path` for the selected overlays (default: all)."""
    return synth_many([config_module.load(config_path, label)], selected)[0]


def _recover(project_dir: Path) -> None:
    """A run stopped between two renames is finished first (see swap.recover), and the user is told."""
    for line in swap.recover(project_dir):
        notices.note(line)


def check(config: Config, selected: Sequence[str] | None = None) -> Drift:
    """Compare the project's files with what `gen synth` would write for `selected`; write nothing there but
    to finish a run that was stopped between two renames."""
    names = tuple(selected) if selected else OVERLAYS
    project_dir = config.source.project_dir
    if swap.interrupted(project_dir):
        with lock.project_lock(project_dir):
            _recover(project_dir)
    output.check_trees(project_dir)
    with tempfile.TemporaryDirectory(prefix="gen-check-") as scratch:
        expected = {**generate(config, Path(scratch), names), **render_sync(config)}
    kept = _kept(selected)
    on_disk = set(output.tree_entries(project_dir, kept))
    on_disk.update(_owned_sync_files(config))
    sync_path = sync.file_path(config)
    if sync_path and os.path.lexists(project_dir / sync_path):
        on_disk.add(sync_path)
    changed, refused = {}, []
    for relative in sorted(expected.keys() & on_disk):
        try:
            # A regular file inside the project, within a size limit: never a link out of it (its target's
            # content would be printed in a CI log), a FIFO (a hang) or a device (memory runs out).
            current = read_text(Path(relative), relative, max_bytes=GENERATED_MAX_BYTES, within=project_dir)
        except ConfigError as exc:
            refused += exc.problems
            continue
        if current != expected[relative]:
            changed[relative] = (current, expected[relative])
    drift = Drift(changed=changed, missing=tuple(sorted(expected.keys() - on_disk)),
                  extra=tuple(sorted(on_disk - expected.keys())), refused=tuple(refused),
                  secrets=tuple(secret_files.problems(config, secret_providers.tree_overlays(config))))
    if not drift:
        _record(config, names, expected)
    return drift


def _record(config: Config, names: Sequence[str], files: dict[str, str]) -> None:
    """Remember the inputs' output for `--check`; never with sops, whose Secret files the digests do not cover."""
    if secret_providers.provider(config) != secret_providers.SOPS:
        freshness.record(freshness.inputs_key(config, names), files)


def known_current(config_paths: Sequence[Path], selected: Sequence[str] | None = None) -> bool:
    """True when the files beside every config are certainly what `gen synth` would write: the same inputs
    were seen before and generated exactly these files (no config load, no Node.js, no kustomize).

    Configs in one directory, or inside another's trees, always take the full path, which refuses them.
    """
    names = tuple(selected) if selected else OVERLAYS
    directories = [str(path.parent.resolve()) for path in config_paths]
    if any(a == b or b.startswith(a + os.sep) for a in directories for b in directories if a is not b):
        return False
    return all(freshness.is_current(path, freshness.key_on_disk(path, names), _kept(selected))
               for path in config_paths)
