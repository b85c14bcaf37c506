"""Strict YAML reading and deterministic YAML writing: the one place gen parses or emits YAML.

Reading refuses what a config file never needs and an attacker could abuse: anchors and aliases
(alias bombs), duplicate keys (a silent override), tags that construct objects, non-UTF-8 bytes and
files over 1 MiB. Writing sorts keys and never wraps lines, so output is byte-identical everywhere.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64


_INT64 = 2**63
# Tags that construct something JSON (and so Kubernetes, Helm and cdk8s) has no type for.
_REFUSED_TAGS = ("binary", "set", "omap", "pairs", "timestamp")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that yields only what JSON can hold: no aliases, no duplicate or non-text keys,
    no binary, sets, ordered pairs or timestamps, no NaN or infinity, no integer beyond 64 bits."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "anchors and aliases (*name) are not allowed; write the value out", event.start_mark
            )
        # Deeper input would exhaust the stack later (merging, cdk8s); real values are a dozen levels deep.
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep; flatten it", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            if not isinstance(key, str) or not key:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key_node.value} is not text; quote it ('{key_node.value}'): Helm and "
                    f"Kubernetes read every key as text" if key != "" else "an empty key is not allowed",
                    key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; each key may appear once", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


    def construct_yaml_int(self, node):  # type: ignore[override]
        value = super().construct_yaml_int(node)
        if not -_INT64 <= value < _INT64:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} does not fit in 64 bits; quote it to write text", node.start_mark)
        return value

    def construct_yaml_float(self, node):  # type: ignore[override]
        value = super().construct_yaml_float(node)
        if math.isnan(value) or math.isinf(value):
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value} is not a finite number; quote it to write text", node.start_mark)
        return value


def _refuse_tag(loader: _StrictLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {node.tag!r} is not allowed; use plain YAML values", node.start_mark)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
for _tag in _REFUSED_TAGS:
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
# A plain 2001-12-14 stays text, as Helm and Kubernetes read it (their YAML has no timestamp type).
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _problem(label: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    what = getattr(exc, "problem", None) or str(exc)
    # PyYAML names Python tags in its own words; say what is allowed instead.
    if "could not determine a constructor for the tag" in (what or ""):
        what = f"the tag {what.rsplit(' ', 1)[-1]} is not allowed; use plain YAML values"
    return f"{label}: invalid YAML{where}: {what}"


def read_text(path: Path, label: str) -> str:
    """Read a small UTF-8 text file, with one-line errors for everything that can go wrong."""
    if not path.exists():
        raise ConfigError(f"{label}: file not found")
    if not path.is_file():
        raise ConfigError(f"{label}: is not a regular file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{label}: file is {size} bytes; at most {MAX_BYTES} (1 MiB) is allowed")
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # never more, even if the file grew since stat()
        if len(data) > MAX_BYTES:
            raise ConfigError(f"{label}: file is over {MAX_BYTES} bytes; at most {MAX_BYTES} (1 MiB) is allowed")
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def load_file(path: Path, label: str, *, empty_ok: bool = False) -> Any:
    """Parse one YAML document strictly. `label` names the file in every message."""
    text = read_text(path, label)
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))  # noqa: S506 - strict SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(_problem(label, exc)) from None
    except RecursionError:
        raise ConfigError(f"{label}: invalid YAML: nested too deeply") from None
    docs = [d for d in docs if d is not None]
    if not docs:
        if empty_ok:
            return {}
        raise ConfigError(f"{label}: file is empty; see the config reference in README.md")
    if len(docs) > 1:
        raise ConfigError(f"{label}: holds {len(docs)} YAML documents; exactly one is allowed")
    return docs[0]


class _Dumper(yaml.SafeDumper):
    """Indents block lists under their key, as kustomize and kubectl do."""

    def increase_indent(self, flow=False, indentless=False):  # type: ignore[override]
        return super().increase_indent(flow, False)


def dump_documents(docs: list[Any]) -> str:
    """Deterministic multi-document YAML: sorted keys, no line folding, `---` between documents."""
    return yaml.dump_all(
        docs,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=1_000_000,
        explicit_start=False,
    )
