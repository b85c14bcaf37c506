"""Strict YAML reading and deterministic YAML writing: the one place gen parses or emits YAML.

Reading refuses what a config file never needs and an attacker could abuse: anchors and aliases
(alias bombs), duplicate keys (a silent override), tags that construct objects, non-UTF-8 bytes and
files over 1 MiB. Writing sorts keys and never wraps lines, so output is byte-identical everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

MAX_BYTES = 1024 * 1024


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without aliases and without duplicate keys."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "anchors and aliases (*name) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; each key may appear once", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


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
        data = path.read_bytes()
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


# Plain scalars that YAML 1.2 (kustomize, Go) reads as numbers, booleans or null, but PyYAML's YAML 1.1
# resolver does not, so it would leave them unquoted: `1e3`, `0o17`, `0x1F`, `+1`, `.5`, `True`...
_YAML12_NOT_STRING = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def plain_is_not_string(text: str) -> bool:
    """Whether `text`, written unquoted, would be read as something other than a string (YAML 1.1 or 1.2)."""
    if _YAML12_NOT_STRING.match(text):
        return True
    try:
        return not isinstance(yaml.safe_load(text), str)
    except yaml.YAMLError:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        # Multi-line text (a Flux patch, for one) reads as a block in a pull request, not as one "...\n..." line.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _YAML12_NOT_STRING.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


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
