"""The kustomize output cache: reused only for byte-identical inputs, and never required."""

from __future__ import annotations

import pytest
from support import make_project, tree

from generator.plumbing import cache
from generator.synth import kustomize, pipeline


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("GEN_CACHE_DIR", str(directory))
    return directory


def entries(directory):
    return sorted(directory.glob("kustomize/*/*.entry"))


def test_an_unchanged_overlay_is_not_built_again(tmp_path, cache_dir, monkeypatch):
    config = make_project(tmp_path / "project")
    pipeline.synth(config)
    assert len(entries(cache_dir)) == 3
    first = tree(tmp_path / "project", "dist", "overlays")

    def no_builds(directories, processes=None):
        assert directories == [], "kustomize ran although its inputs were cached"
        return []

    monkeypatch.setattr(kustomize, "build_overlays", no_builds)
    pipeline.synth(config)
    assert tree(tmp_path / "project", "dist", "overlays") == first


def test_a_changed_overlay_is_built_and_the_others_come_from_the_cache(tmp_path, cache_dir, monkeypatch):
    config = make_project(tmp_path / "project")
    pipeline.synth(config)
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 2\n"))
    built = []
    real = kustomize.build_overlays
    monkeypatch.setattr(kustomize, "build_overlays",
                        lambda dirs, processes=None: built.extend(d.name for d in dirs) or real(dirs, processes))
    pipeline.synth(config)
    assert sorted(built) == ["celery-executor", "celery-kubernetes-executor"]


def test_output_with_and_without_the_cache_is_identical(tmp_path, cache_dir, monkeypatch):
    with_cache = make_project(tmp_path / "a", fixture="tls-secret")
    pipeline.synth(with_cache)
    pipeline.synth(with_cache)
    monkeypatch.setenv("GEN_CACHE_DIR", "off")
    without = make_project(tmp_path / "b", fixture="tls-secret")
    pipeline.synth(without)
    assert tree(tmp_path / "a", "dist", "overlays") == tree(tmp_path / "b", "dist", "overlays")
    assert len(entries(cache_dir)) == 3


def test_an_unusable_cache_directory_only_means_no_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("GEN_CACHE_DIR", str(blocker / "cache"))
    config = make_project(tmp_path / "project")
    pipeline.synth(config)
    assert (tmp_path / "project" / "dist" / "kubernetes-executor" / "manifests.yaml").is_file()


@pytest.mark.parametrize(("environment", "expected"), [
    ({"GEN_CACHE_DIR": "/somewhere"}, "/somewhere"),
    ({"GEN_CACHE_DIR": "off"}, None),
    ({"GEN_CACHE_DIR": ""}, None),
    ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/gen"),
])
def test_where_the_cache_lives(monkeypatch, environment, expected):
    monkeypatch.delenv("GEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    found = cache.directory()
    assert (str(found) if found else None) == expected
