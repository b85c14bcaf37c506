"""Helm values as nested mappings: deep merge, and the conflicts between user and generated values."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from generator.plumbing.yamlio import load_generated
from generator.schema import show


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: mappings merge key by key, anything else (lists too) is replaced, as Helm does."""
    merged = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def leaves(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every non-mapping value with its key path; an empty mapping counts as a leaf."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def value_at(values: Mapping[str, Any], dotted_key: str, default: Any = None) -> Any:
    """The value at a dotted key (`workers.keda.enabled`) of nested values, or `default` when it is not set."""
    node: Any = values
    for key in dotted_key.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> tuple[tuple[str, ...], Any] | None:
    """The user's value that sits at `path`, at a prefix of it, or below it; None when the user set nothing there."""
    node: Any = values
    for depth, key in enumerate(path):
        if not isinstance(node, Mapping):
            return path[:depth], node
        if key not in node:
            return None
        node = node[key]
    return path, node


def conflicts(user: Mapping[str, Any], generated: Mapping[str, tuple[Any, str]], label: str) -> list[str]:
    """One message per generated value that `user` sets differently.

    `generated` maps a dotted key to (value, what generates it); `label` names where the user's value lives.
    """
    problems = []
    for dotted_key, (value, origin) in sorted(generated.items()):
        found = lookup(user, tuple(dotted_key.split(".")))
        if found is None or found[1] == value:
            continue
        where, theirs = found
        problems.append(
            f"{label}: {'.'.join(where)}: {show(theirs)} conflicts with the value gen generates for {dotted_key} "
            f"({show(value)}, from {origin}); remove it here and change {origin} instead"
        )
    return problems


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"a.b": 1}` -> `{"a": {"b": 1}}`: dotted chart keys to nested Helm values."""
    return nest((tuple(dotted_key.split(".")), value) for dotted_key, value in sorted(flat.items()))


def nest(pairs: Iterable[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """Key paths and their values (as `leaves` yields them) back to nested values; a key may hold dots."""
    nested: dict[str, Any] = {}
    for path, value in pairs:
        *parents, last = path
        node = nested
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = copy.deepcopy(value)
    return nested


def helm_chart_values(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A k3s HelmChart's values: its `valuesContent` text, with the structured `values` on top, as k3s merges them."""
    content = spec.get("valuesContent")
    parsed = (load_generated(content) or [None])[0] if isinstance(content, str) else None
    return deep_merge(parsed if isinstance(parsed, dict) else {}, spec.get("values") or {})
