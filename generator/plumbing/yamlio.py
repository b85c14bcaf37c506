"""Strict YAML reading and deterministic YAML writing: the one place gen parses or emits YAML.

Reading refuses what a config file never needs and an attacker could abuse: anchors and aliases
(alias bombs), duplicate keys (a silent override), tags that construct objects, non-UTF-8 bytes,
files over 1 MiB, and anything JSON cannot hold (which would crash cdk8s or kustomize later), naming
the key path of each refusal. Writing sorts keys and never wraps lines, so output is byte-identical
everywhere. Strict reading takes its events from libyaml where PyYAML has it and composes them in
Python, where the refusals are; invalid YAML is read again by PyYAML's own parser, whose messages name
the character. YAML that gen or the tools it runs wrote (kustomize, Helm) is read wholly by libyaml,
with the same safe types.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from generator.plumbing import paths
from generator.plumbing.errors import ConfigError
from generator.schema import dotted, show

MAX_BYTES = 1024 * 1024
# Larger than any file gen writes (hydrated manifests are at most 16 MiB): such a file is not gen's.
GENERATED_MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64

_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_generated(text: str | None) -> list[Any]:
    """Every document of YAML that gen, kustomize or Helm wrote (empty ones as None), in order."""
    return list(yaml.load_all(text or "", Loader=_FAST_LOADER))  # noqa: S506 - a safe loader, in C where available


def load_one(text: str | bytes) -> Any:
    """The one document of YAML another tool wrote (a chart's Chart.yaml); more than one is a YAMLError."""
    return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader, in C where available


def generated_objects(text: str | None) -> list[dict[str, Any]]:
    """The objects (non-empty mappings) of such a multi-document text, such as a hydrated manifests.yaml."""
    return [doc for doc in load_generated(text) if isinstance(doc, dict) and doc]


_INT64 = 2**63
_CORE = "tag:yaml.org,2002:"
# JSON's types, which are all Kubernetes, Helm and cdk8s can hold; any other tag is refused.
_ALLOWED_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}
_NODE_KINDS = {"map": yaml.MappingNode, "seq": yaml.SequenceNode}  # every other tag goes on a single value


# Escapes such as "\x8d" in a double-quoted string can make characters the YAML reader refuses raw;
# kustomize then refuses the generated files, so they are refused here, where the path is known.
_FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


class _Refused(yaml.YAMLError):
    """Valid YAML that gen does not take, found at a key path."""

    def __init__(self, path: list[str | int], problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.path, self.problem, self.mark = list(path), problem, mark

    def line(self, label: str) -> str:
        where = f" (line {self.mark.line + 1}, column {self.mark.column + 1})" if self.mark else ""
        return f"{label}: {dotted(self.path)}: {self.problem}{where}"


class _Strict(yaml.composer.Composer):
    """A composer that yields only what JSON can hold, and names the key path of whatever it refuses:
    no aliases, no duplicate, empty or non-text keys, no tags beyond JSON's types (binary, sets,
    timestamps, Python objects), no NaN or infinity, no integer beyond 64 bits, no deep nesting."""

    _path: list[str | int]

    def compose_node(self, parent, index):  # type: ignore[override]
        step = index if isinstance(parent, yaml.SequenceNode) else getattr(index, "value", None)
        if step is not None:
            self._path.append(step)
        try:
            if self.check_event(yaml.AliasEvent):
                raise _Refused(self._path, "anchors and aliases (*name) are not allowed; write the value out",
                               self.peek_event().start_mark)
            # Deeper input would exhaust the stack later (merging, cdk8s); real values are a dozen levels deep.
            if len(self._path) > MAX_DEPTH:
                raise _Refused(self._path[:MAX_DEPTH], f"nested more than {MAX_DEPTH} levels deep; flatten it",
                               self.peek_event().start_mark)
            node = super().compose_node(parent, index)
            self._check_value(node)
            return node
        finally:
            if step is not None:
                self._path.pop()

    def compose_mapping_node(self, anchor):  # type: ignore[override]
        node = super().compose_mapping_node(anchor)
        seen: set[str] = set()
        for key_node, _value in node.value:
            key = getattr(key_node, "value", None)
            if not isinstance(key_node, yaml.ScalarNode):
                problem = "a mapping key must be a plain value"
            elif key_node.tag != f"{_CORE}str":
                problem = f"the key {key} is not text; quote it ('{key}'): Helm and Kubernetes read every key as text"
            elif key == "":
                problem = "an empty key is not allowed"
            elif key in seen:
                problem = "duplicate key; each key may appear once"
            else:
                seen.add(key)
                continue
            raise _Refused([*self._path, key] if isinstance(key, str) and key else self._path, problem,
                           key_node.start_mark)
        return node

    def _check_value(self, node: yaml.Node) -> None:
        if node.tag == f"{_CORE}merge":
            raise _Refused(self._path, "merge keys (<<) are not allowed; write the keys out", node.start_mark)
        if node.tag not in _ALLOWED_TAGS:
            name = "!!" + node.tag.removeprefix(_CORE) if node.tag.startswith(_CORE) else node.tag
            raise _Refused(self._path, f"the tag '{name}' is not allowed; use plain YAML values", node.start_mark)
        kind = _NODE_KINDS.get(node.tag.removeprefix(_CORE), yaml.ScalarNode)
        if not isinstance(node, kind):  # `!!str [a, b]`: an explicit tag on the wrong kind of node
            what = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}.get(type(node), "a single value")
            raise _Refused(self._path, f"the tag '!!{node.tag.removeprefix(_CORE)}' cannot be put on {what}; remove "
                           "the tag", node.start_mark)
        if node.tag == f"{_CORE}str":
            bad = _FORBIDDEN_CHARS.search(node.value)
            if bad:
                raise _Refused(self._path, f"contains the control character U+{ord(bad.group()):04X}; remove it "
                               "(kustomize and Kubernetes refuse control characters other than tab and line breaks)",
                               node.start_mark)
        elif node.tag in (f"{_CORE}int", f"{_CORE}float", f"{_CORE}bool") and isinstance(node, yaml.ScalarNode):
            # An explicit tag (`!!int abc`, `!!bool maybe`) skips the resolver: check that the text is one.
            kind = node.tag.removeprefix(_CORE)
            try:
                getattr(self, f"construct_yaml_{kind}")(node)
            except (ValueError, KeyError, TypeError, IndexError):
                wanted = {"int": "an integer such as 3", "float": "a number such as 1.5", "bool": "true or false"}[kind]
                raise _Refused(self._path, f"{show(node.value)} is not a valid !!{kind}; write {wanted}, or quote "
                               "it to keep it as text", node.start_mark) from None
        if node.tag == f"{_CORE}int" and isinstance(node, yaml.ScalarNode):
            if not -_INT64 <= self.construct_yaml_int(node) < _INT64:
                raise _Refused(self._path, f"{node.value} does not fit in 64 bits; quote it to write text",
                               node.start_mark)
        elif node.tag == f"{_CORE}float" and isinstance(node, yaml.ScalarNode):
            value = self.construct_yaml_float(node)
            if math.isnan(value) or math.isinf(value):
                raise _Refused(self._path, f"{node.value} is not a finite number; quote it to write text",
                               node.start_mark)


class _PythonLoader(_Strict, yaml.SafeLoader):
    """The strict composer over PyYAML's own scanner and parser, whose messages name the offending
    character (libyaml's do not): it reads again whatever libyaml refused, to say why."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._path = []


_StrictLoader: type = _PythonLoader
if yaml.__with_libyaml__:
    class _LibyamlLoader(_Strict, yaml.cyaml.CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The strict composer over libyaml's scanner and parser: four times as fast on a config. The nodes,
        and so every refusal, are still composed in Python by _Strict; libyaml only makes the events."""

        get_node = _Strict.get_node  # libyaml would compose the nodes itself, past the checks
        check_node = _Strict.check_node
        get_single_node = _Strict.get_single_node

        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._path = []

    _StrictLoader = _LibyamlLoader

# A plain 2001-12-14 stays text, as Helm and Kubernetes read it (their YAML has no timestamp type).
_Strict.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != f"{_CORE}timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _problem(label: str, exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return (f"{label}: invalid YAML: the character U+{exc.character:04X} at offset {exc.position} is not "
                f"allowed in YAML; remove it (tab and newline are the only control characters YAML takes)")
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    what = getattr(exc, "problem", None) or str(exc)
    # PyYAML names Python tags in its own words; say what is allowed instead.
    if "could not determine a constructor for the tag" in (what or ""):
        what = f"the tag {what.rsplit(' ', 1)[-1]} is not allowed; use plain YAML values"
    return f"{label}: invalid YAML{where}: {' '.join(str(what).split())}"  # always one line


def open_within(root: Path, relative: str) -> int:
    """A descriptor for root/relative, opened one component at a time without following any link."""
    if not paths.plain_relative(relative):
        raise OSError(errno.EINVAL, "not a plain relative path", relative)
    parts = relative.split("/")
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            os.close(directory)
            directory = inner
        return os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    finally:
        os.close(directory)


def _planted(root: Path, relative: str) -> str | None:
    """The first link or special file on the way to root/relative, as `dist/x: is a symbolic link (to ...)`."""
    path = root
    for part in relative.split("/"):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return f"{path.relative_to(root).as_posix()} is a symbolic link (to {os.readlink(path)})"
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            return f"{path.relative_to(root).as_posix()} is not a regular file"
    return None


def read_text(path: Path, label: str, *, max_bytes: int = MAX_BYTES, within: Path | None = None) -> str:
    """Read a small UTF-8 text file, with one-line errors for everything that can go wrong.

    Only a regular file is read, never a FIFO or a device (opened without blocking, checked on the open
    descriptor), and never more than `max_bytes`. With `within`, `path` is relative to that directory and
    no symbolic link on the way is followed: a link planted in generated output is reported, not read.
    """
    limit = f"at most {max_bytes} ({max_bytes // MAX_BYTES} MiB) is allowed"
    try:
        if within is not None:
            handle = open_within(within, path.as_posix())
        else:
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found") from None
    except OSError as exc:
        planted = _planted(within, path.as_posix()) if within is not None else None
        if planted:
            raise ConfigError(f"{label}: not read: {planted}; gen reads only regular files inside the project; "
                              f"remove it and run gen synth") from None
        if exc.errno == errno.EISDIR:
            raise ConfigError(f"{label}: is not a regular file") from None
        raise ConfigError(f"{label}: cannot read: {exc.strerror}") from None
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode):
            os.close(handle)
            raise ConfigError(f"{label}: is not a regular file")
        with os.fdopen(handle, "rb") as stream:
            if status.st_size > max_bytes:
                raise ConfigError(f"{label}: file is {status.st_size} bytes; {limit}")
            data = stream.read(max_bytes + 1)  # never more, even if the file grew since fstat()
        if len(data) > max_bytes:
            raise ConfigError(f"{label}: file is over {max_bytes} bytes; {limit}")
    except OSError as exc:
        raise ConfigError(f"{label}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text (invalid byte at offset {exc.start})") from None


def load_documents(path: Path, label: str, *, max_bytes: int = MAX_BYTES, within: Path | None = None,
                   digests: dict[str, str] | None = None) -> list[Any]:
    """Every non-empty YAML document in a file, parsed strictly. `label` names the file in every message;
    `within`: see read_text. `digests` receives the sha256 of exactly the bytes parsed, under `path`."""
    text = read_text(path, label, max_bytes=max_bytes, within=within)
    if digests is not None:
        digests[path.as_posix()] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return parse_documents(text, label)


def parse_documents(text: str, label: str) -> list[Any]:
    """Every non-empty YAML document of `text`, parsed strictly (see _Strict); ConfigError otherwise."""
    try:
        docs = _compose(text, label, _StrictLoader)
    except yaml.YAMLError:
        try:  # libyaml refused it: PyYAML's parser reads it again, to say which character is wrong and why
            docs = _compose(text, label, _PythonLoader)
        except yaml.YAMLError as exc:
            raise ConfigError(_problem(label, exc)) from None
    return [d for d in docs if d is not None]


def _compose(text: str, label: str, loader: type) -> list[Any]:
    """Every document of `text` read with `loader`; gen's own refusals and too deep nesting as ConfigError."""
    try:
        return list(yaml.load_all(text, Loader=loader))  # noqa: S506 - a strict safe loader
    except _Refused as exc:
        raise ConfigError(exc.line(label)) from None
    except RecursionError:
        raise ConfigError(f"{label}: invalid YAML: nested too deeply") from None


def load_file(path: Path, label: str, *, empty_ok: bool = False, within: Path | None = None,
              digests: dict[str, str] | None = None) -> Any:
    """Parse one YAML document strictly. `label` names the file in every message; `within`, `digests`: see
    load_documents."""
    docs = load_documents(path, label, within=within, digests=digests)
    if not docs:
        if empty_ok:
            return {}
        raise ConfigError(f"{label}: file is empty; see the config reference in docs/configuration.md")
    if len(docs) > 1:
        raise ConfigError(f"{label}: holds {len(docs)} YAML documents; exactly one is allowed")
    return docs[0]


class _Dumper(yaml.SafeDumper):
    """Indents block lists under their key, as kustomize and kubectl do."""

    def increase_indent(self, flow=False, indentless=False):  # type: ignore[override]
        return super().increase_indent(flow, False)


# Plain scalars that a Go reader (kustomize, Flux, the API server) takes for something other than a
# string, but PyYAML's YAML 1.1 resolver does not, so it would leave them unquoted: YAML 1.2 numbers,
# booleans and null (`1e3`, `0o17`, `0x1F`, `+1`, `.5`, `True`), and YAML 1.1's one-letter booleans
# and base-60 numbers (`y`, `n`, `0:30`), which kustomize reads as booleans in a kustomization and
# always writes quoted.
_NOT_PLAIN_STRING = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|n|N"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


@functools.lru_cache(maxsize=4096)  # the batch split asks about the same names many times
def plain_is_not_string(text: str) -> bool:
    """Whether `text`, written unquoted, would be read as something other than a string (YAML 1.1 or 1.2)."""
    if _NOT_PLAIN_STRING.match(text):
        return True
    try:
        return not isinstance(yaml.safe_load(text), str)
    except yaml.YAMLError:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        # Multi-line text (a Flux patch, for one) reads as a block in a pull request, not as one "...\n..." line.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _NOT_PLAIN_STRING.match(value):
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


# Only shown, never written (the chart's objects in a review): libyaml's emitter, ten times faster than
# gen's, with PyYAML's own list indentation.
_ShowDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_for_display(doc: Any) -> str:
    """One document as YAML for people to read: sorted keys, no line folding; not gen's file format."""
    return yaml.dump(doc, Dumper=_ShowDumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=1_000_000)
