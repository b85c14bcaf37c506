"""gen upgrade: a project moved to another chart release (and Airflow version), all or nothing.

It rewrites the pin in charts/airflow/chart.yaml (and airflow.version in gen.yaml when set), moves
the user's values that the target release deprecated to their new homes (charts/airflow/values.yaml
and each overlay's values in gen.yaml), and, on Airflow 3, rewrites the `config:` options Airflow 3
renamed or removed (config_renames). Comments stay where ruamel.yaml keeps them. The upgraded project
is loaded exactly as `gen synth` loads it before anything is written; then every file is replaced
together or none is. Downgrades are refused: the chart and Airflow migrate the database forward only.
"""

from __future__ import annotations

import copy
import difflib
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from generator import config as config_module
from generator import schema
from generator.knowledge import airflow, charts, config_renames
from generator.model import Version
from generator.onboarding import scaffold
from generator.plumbing import lock, swap
from generator.plumbing.errors import ConfigError, GenError
from generator.plumbing.yamlio import load_file, read_text
from generator.review import diff

GEN_YAML = "gen.yaml"
PIN = str(config_module.CHART_PIN)
VALUES = str(config_module.BASE_VALUES)
# Sequence layouts tried in turn: the first that gives a file back unchanged is kept for writing it.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4))


@dataclass
class Upgrade:
    """What an upgrade changes: each file's text before and after, and one line per key it touched."""

    chart: tuple[Version, Version]  # pinned, target
    airflow: tuple[Version, Version]
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # relative path -> (before, after)
    moved: list[str] = field(default_factory=list)
    unmoved: list[str] = field(default_factory=list)


class _Document:
    """One YAML file, round-tripped by ruamel.yaml in the layout the file already uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.yaml = YAML()
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096
        self.data = self._load_in_its_layout()

    def _load_in_its_layout(self) -> Any:
        for mapping, sequence, offset in _LAYOUTS:
            self.yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
            data = self.yaml.load(self.text)
            if self.dump(data) == self.text:
                return data
        self.yaml.indent(mapping=2, sequence=4, offset=2)
        return self.yaml.load(self.text)

    def dump(self, data: Any = None) -> str:
        stream = io.StringIO()
        self.yaml.dump(self.data if data is None else data, stream)
        return stream.getvalue()


def _parent(root: Any, dotted: str, create: bool = False) -> tuple[Any, str] | None:
    """The mapping that holds the last part of `dotted`, and that part; None where the path is missing."""
    parts = dotted.split(".")
    node = root
    for part in parts[:-1]:
        if not isinstance(node, dict):
            return None
        if part not in node:
            if not create:
                return None
            node[part] = CommentedMap()
        node = node[part]
    return (node, parts[-1]) if isinstance(node, dict) else None


def _take(root: Any, dotted: str) -> Any:
    """Remove `dotted` and return its value with the comment of its line; drop parents left empty."""
    parent, key = _parent(root, dotted)  # type: ignore[misc]
    comment = parent.ca.items.pop(key, None) if hasattr(parent, "ca") else None
    value = parent.pop(key)
    if "." in dotted and not parent:
        _take(root, dotted.rsplit(".", 1)[0])
    return value, comment


def _put(root: Any, dotted: str, value: Any, comment: Any) -> None:
    parent, key = _parent(root, dotted, create=True)  # type: ignore[misc]
    parent[key] = value
    if comment is not None and hasattr(parent, "ca"):
        parent.ca.items[key] = comment


def _has(root: Any, dotted: str) -> bool:
    found = _parent(root, dotted)
    return found is not None and found[1] in found[0]


def _move_keys(root: Any, where: str, target: Version, generated: set[str], upgrade: Upgrade) -> None:
    """The values `target` deprecated, each moved to every home it has there (a copy for each), except a
    home gen sets itself from gen.yaml (the task pods' workers.kubernetes.*)."""
    for move in charts.moves_until(target):
        if not _has(root, move.old):
            continue
        taken = [home for home in move.homes if _has(root, home)]
        if taken:
            upgrade.unmoved.append(f"{where}: {move.old}: not moved: {', '.join(taken)} is already set; merge the "
                                   f"two by hand (chart {move.since} reads only {' and '.join(move.homes)})")
            continue
        homes = [home for home in move.homes if home not in generated]
        value, comment = _take(root, move.old)
        for index, home in enumerate(homes):
            _put(root, home, value if index == 0 else copy.deepcopy(value), comment if index == 0 else None)
        skipped = "".join(f"; not to {home}: gen sets it from gen.yaml {home}" for home in move.homes
                          if home in generated)
        upgrade.moved.append(f"{where}: {move.old} -> {' and '.join(homes) or '(nowhere)'} (deprecated in chart "
                             f"{move.since}){skipped}")


def _rewrite_config(root: Any, where: str, generated: set[str], upgrade: Upgrade) -> None:
    """`config:` options Airflow 3 renamed (moved to their new section/name) or removed (dropped, listed)."""
    config = root.get("config") if isinstance(root, dict) else None
    if not isinstance(config, dict):
        return
    for section in list(config):
        options = config[section]
        if not isinstance(options, dict):
            continue
        for option in list(options):
            old = f"config.{section}.{option}"
            new_option = config_renames.renamed((str(section), str(option)))
            if new_option is not None and not config_renames.removed(new_option):
                new = f"config.{new_option[0]}.{new_option[1]}"
                if new in generated:
                    _take(root, old)
                    upgrade.moved.append(f"{where}: {old} removed: Airflow 3 reads it as {new}, which gen sets")
                elif _has(root, new):
                    upgrade.unmoved.append(f"{where}: {old}: not moved: {new} is already set; keep one of the two")
                else:
                    _put(root, new, *_take(root, old))
                    upgrade.moved.append(f"{where}: {old} -> {new} (renamed in Airflow {config_renames.SINCE})")
            elif new_option is not None or config_renames.removed((str(section), str(option))):
                _take(root, old)
                upgrade.moved.append(f"{where}: {old} removed: Airflow {config_renames.SINCE} no longer reads it")


def _refusals(pinned: Version, target: Version, current: Version, airflow_target: Version) -> list[str]:
    if charts.release(target) is None:
        return [f"--chart-version: {target} is not a chart release gen knows; gen knows {charts.known()}"]
    found = []
    if target < pinned:
        found.append(f"--chart-version: {target} is older than the pinned {pinned}; gen upgrade only goes forward "
                     f"(the database was migrated by the newer release; restore a backup taken before it instead)")
    if airflow_target < current:
        found.append(f"--airflow-version: {airflow_target} is older than the project's Airflow {current}; Airflow's "
                     f"database migrations only go forward (restore a backup taken before the upgrade instead)")
    row = charts.release(target)
    assert row is not None
    if not found and not row.airflow_min <= airflow_target < row.airflow_below:
        found.append(f"--airflow-version: chart {target} runs Airflow {row.airflow_min} up to (not including) "
                     f"{row.airflow_below}, not {airflow_target}; pass --airflow-version, such as "
                     f"{charts.suggested(target)}")
    return found


def _pin_text(text: str, chart: Version, airflow_version: Version) -> str:
    text = re.sub(r"(?m)^(version:\s*)\S+", lambda m: f"{m.group(1)}{chart}", text, count=1)
    return re.sub(r"(?m)^(airflowVersion:\s*)\S+", lambda m: f"{m.group(1)}{airflow_version}", text, count=1)


def _read(project_dir: Path, relative: str) -> str:
    # The project's own files: a link there (planted in a pull request) is not followed.
    return read_text(Path(relative), relative, within=project_dir) if (project_dir / relative).exists() else ""


def plan(config_path: Path, chart_version: Version | None, airflow_version: Version | None) -> Upgrade:
    """Every change of the upgrade, checked by loading the upgraded project; nothing is written."""
    project_dir = config_path.parent
    pin = load_file(Path(PIN), PIN, within=project_dir)
    found = schema.problems(schema.load("chart-pin"), pin, PIN)
    if found:
        raise ConfigError(found)
    raw_config = load_file(Path(config_path.name), GEN_YAML, within=project_dir)
    set_version = ((raw_config or {}).get("airflow") or {}).get("version") if isinstance(raw_config, dict) else None
    pinned, current = Version.parse(pin["version"]), Version.parse(str(set_version or pin["airflowVersion"]))
    target = chart_version or charts.CURRENT.version
    airflow_target = airflow_version or current
    refused = _refusals(pinned, target, current, airflow_target)
    if refused:
        raise GenError(refused)
    upgrade = Upgrade((pinned, target), (current, airflow_target))
    texts = {name: _read(project_dir, name) for name in (config_path.name, PIN, VALUES)}
    new = dict(texts)
    new[PIN] = _pin_text(texts[PIN], target, airflow_target)
    new[config_path.name], new[VALUES] = _upgraded_values(texts[config_path.name], texts[VALUES], upgrade,
                                                          set_version is not None)
    upgrade.files = {name: (texts[name], new[name]) for name in texts if texts[name] != new[name]}
    _check(project_dir, config_path.name, new)
    return upgrade


def _upgraded_values(config_text: str, values_text: str, upgrade: Upgrade, sets_version: bool) -> tuple[str, str]:
    """gen.yaml (airflow.version, each overlay's values) and the base values file, upgraded."""
    target, airflow_target = upgrade.chart[1], upgrade.airflow[1]
    generated = {airflow.base_url_key(airflow_target)}  # gen sets it from ingress: a user's copy goes
    raw = _Document(config_text).data if config_text.strip() else {}
    pods = ((raw.get("workers") or {}).get("kubernetes") or {}) if isinstance(raw, dict) else {}
    generated |= {f"workers.kubernetes.{key}" for key in pods if pods[key]}
    documents = {}
    for name, text, roots in ((GEN_YAML, config_text, "overlays"), (VALUES, values_text, None)):
        document = _Document(text) if text.strip() else None
        documents[name] = document
        if document is None:
            continue
        places = [(name, document.data)] if roots is None else [
            (f"{GEN_YAML}: overlays.{overlay}.values", spec["values"])
            for overlay, spec in (document.data.get(roots) or {}).items()
            if isinstance(spec, dict) and isinstance(spec.get("values"), dict)]
        for where, root in places:
            _move_keys(root, where, target, generated, upgrade)
            if airflow.is_airflow_3(airflow_target):
                _rewrite_config(root, where, generated, upgrade)
    config_document = documents[GEN_YAML]
    if sets_version and config_document is not None:
        config_document.data["airflow"]["version"] = str(airflow_target)
    texts = [document.dump() if document is not None else text
             for document, text in ((config_document, config_text), (documents[VALUES], values_text))]
    return texts[0], texts[1]


def _check(project_dir: Path, config_name: str, files: dict[str, str]) -> None:
    """The upgraded project loads as `gen synth` loads it, or the upgrade is refused with its problems."""
    with scaffold.scratch_project(files, "gen-upgrade-") as root:
        try:
            config_module.load(root / config_name, config_name)
        except ConfigError as exc:
            raise ConfigError([f"after the upgrade: {line}" for line in exc.problems]) from None


def copy_project(project_dir: Path, config_name: str, upgrade: Upgrade, scratch: Path) -> Path:
    """The upgraded project's config files in `scratch` (for a review that writes nothing)."""
    for name in (config_name, PIN, VALUES):
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in upgrade.files:
            target.write_text(upgrade.files[name][1], encoding="utf-8")
        elif (project_dir / name).is_file():
            shutil.copyfile(project_dir / name, target)
    return scratch / config_name


def changes_text(upgrade: Upgrade) -> str:
    """The file changes as unified diffs, then one `moved:` or `not moved:` line per key."""
    out = ["".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}")) for name, (before, after) in upgrade.files.items()]
    out += [f"moved: {line}\n" for line in upgrade.moved] + [f"not moved: {line}\n" for line in upgrade.unmoved]
    return "".join(out)


def review(config_path: Path, upgrade: Upgrade, chart_path: Path | None, *,
           rendered: bool) -> tuple[list[str], diff.Review]:
    """The project before against after, as gen diff reviews a change, and the notes that go with it."""
    notes = []
    try:
        config_module.load(config_path, str(config_path))
    except GenError as exc:  # a pin Renovate bumped ahead of the values: there is no before side to compare
        notes.append(f"the project before the upgrade does not load ({exc.problems[0]}); the review shows every "
                     f"object as added")
    with tempfile.TemporaryDirectory(prefix="gen-upgrade-") as scratch:
        new_path = copy_project(config_path.parent, config_path.name, upgrade, Path(scratch))
        result = diff.review(new_path, "HEAD", list(airflow.OVERLAYS), label=str(config_path), rendered=rendered,
                             chart_path=chart_path, base=config_path)
    return [*notes, result.note], result


def write(project_dir: Path, upgrade: Upgrade) -> None:
    """Every changed file replaced together, or none (each rename undone if a later one fails)."""
    with lock.project_lock(project_dir), \
            swap.prepared_files(project_dir, {name: after for name, (_before, after) in upgrade.files.items()}) \
            as prepared:
        swap.replace_all([], [prepared])
