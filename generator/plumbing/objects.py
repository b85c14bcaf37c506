"""Kubernetes objects as plain dicts: their identity, how they are named on screen, their Helm values, and
the one walk over two trees that yields the leaves that differ.

gen diff, the rendered review, the danger rules and gen import all compare objects (or values) this
way; what each of them adds is only how list items are paired and how a leaf is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from generator.plumbing.values import helm_chart_values

ObjectKey = tuple[str, str, str]  # kind, namespace ("" for none), name
Path = tuple[str, ...]  # keys; a list item is "[index]" or "[its name]"
Pairs = Callable[[list[Any], list[Any]], list[tuple[str, Any, Any]] | None]

UNSET: Any = object()  # a side that has nothing at a path

CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "IngressClass",
    "RuntimeClass", "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "PodSecurityPolicy"})

RELEASE_KINDS = ("HelmRelease", "HelmChart")


# --- identity and display ------------------------------------------------------------------------

def object_key(obj: Mapping[str, Any], default_namespace: str = "") -> ObjectKey:
    """kind, namespace, name. A namespaced object that names no namespace is in `default_namespace`
    (where Helm applies it: the release's)."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    kind = str(obj.get("kind"))
    namespace = str(meta.get("namespace") or ("" if kind in CLUSTER_SCOPED else default_namespace))
    return kind, namespace, str(meta.get("name") or "")


def object_title(key: ObjectKey) -> str:
    """`Kind namespace/name`, or `Kind name` for a cluster-scoped object: how gen names an object to people."""
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def object_slug(key: ObjectKey) -> str:
    """`Kind/namespace/name` (`Kind/name` cluster-scoped): an object as one path, for diff headers and lists."""
    return "/".join(part for part in key if part)


def helm_values(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The Helm values a HelmRelease or a k3s HelmChart carries (structured, or the older valuesContent text)."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "HelmChart":
        return helm_chart_values(spec)
    return spec.get("values") or {}


# --- the walk ------------------------------------------------------------------------------------

def by_position(before: list[Any], after: list[Any]) -> list[tuple[str, Any, Any]] | None:
    """Lists of one length pair item by item; lists of another length compare whole (None)."""
    if len(before) != len(after):
        return None
    return [(f"[{index}]", old, new) for index, (old, new) in enumerate(zip(before, after, strict=True))]


def changed_leaves(before: Any, after: Any, path: Path = (), *, pairs: Pairs | None = None,
                   leaves: bool = False) -> Iterator[tuple[Path, Any, Any]]:
    """(path, old, new) of every leaf that differs; UNSET for a side that has nothing there.

    Mappings are walked key by key in sorted order. Lists are walked by `pairs` (items paired and
    labelled; None compares the lists whole, as does no `pairs`). With `leaves`, the leaves are those
    of `values.leaves` (an empty mapping is one): where one side has a mapping and the other a value,
    the value counts as removed (or added) and the mapping's leaves as added (or removed), each on
    its own; without, the two compare as one leaf.
    """
    if before == after:
        return
    # An empty mapping is a leaf in `leaves` mode, except at the root, which is always walked.
    branch_old = isinstance(before, Mapping) and (bool(before) or not leaves or not path)
    branch_new = isinstance(after, Mapping) and (bool(after) or not leaves or not path)
    if branch_old and branch_new or leaves and (branch_old or branch_new):
        if not branch_old and before is not UNSET:
            yield path, before, UNSET
        if not branch_new and after is not UNSET:
            yield path, UNSET, after
        old = before if branch_old else {}
        new = after if branch_new else {}
        for name in sorted(set(old) | set(new), key=str):
            yield from changed_leaves(old.get(name, UNSET), new.get(name, UNSET), (*path, str(name)),
                                      pairs=pairs, leaves=leaves)
        return
    if pairs is not None and isinstance(before, list) and isinstance(after, list):
        paired = pairs(before, after)
        if paired is not None:
            for label, old_item, new_item in paired:
                yield from changed_leaves(old_item, new_item, (*path, label), pairs=pairs, leaves=leaves)
            return
    yield path, before, after


def dotted(path: Path) -> str:
    """`a.b[0].c`: a path as one string, list items in brackets."""
    out = ""
    for part in path:
        out += part if part.startswith("[") else ("." if out else "") + part
    return out
