"""Many overlays in one kustomize process give exactly what one `kubectl kustomize` per overlay gives."""

from __future__ import annotations

import pytest
from support import CONFIGS, make_project

from generator.config import load
from generator.knowledge.airflow import OVERLAYS
from generator.synth import kustomize, pipeline


def synthesized_overlays(tmp_path, configs):
    directories = []
    for index, (fixture, text) in enumerate(configs):
        config = load(make_project(tmp_path / f"p{index}", text, fixture=fixture))
        pipeline.generate(config, tmp_path / f"out{index}", OVERLAYS)
        directories += [tmp_path / f"out{index}" / "overlays" / name for name in OVERLAYS]
    return directories


def test_a_batch_of_every_fixture_equals_one_build_per_overlay(tmp_path, monkeypatch):
    directories = synthesized_overlays(tmp_path, [(name, None) for name in CONFIGS])
    alone = kustomize.build_many(directories)
    fallbacks = []
    real = kustomize.build_many
    monkeypatch.setattr(kustomize, "build_many", lambda dirs: fallbacks.extend(dirs) or real(dirs))
    assert kustomize.build_overlays(directories) == alone
    assert fallbacks == [], "the batch fell back to single builds"


@pytest.mark.parametrize("namespace", ["123", "true", "null", "1e3", "y", "n"])
def test_names_that_read_as_other_types_are_built_alone_and_still_right(tmp_path, monkeypatch, namespace):
    """A prefix would change how such a name is quoted: the check sees it and builds the overlay alone."""
    text = (make_project(tmp_path / "source")).read_text().replace("namespace: airflow", f"namespace: '{namespace}'")
    directories = synthesized_overlays(tmp_path, [("example", text), ("tls-secret", None)])
    alone = kustomize.build_many(directories)
    fallbacks = []
    real = kustomize.build_many
    monkeypatch.setattr(kustomize, "build_many", lambda dirs: fallbacks.extend(dirs) or real(dirs))
    assert kustomize.build_overlays(directories) == alone
    assert fallbacks == directories[:3]


@pytest.mark.parametrize("class_name", ["n", "y"])
def test_names_that_kustomize_quotes_as_yaml_1_1_booleans_are_built_alone_and_still_right(tmp_path, monkeypatch,
                                                                                          class_name):
    """kustomize writes the names y and n quoted (YAML 1.1 booleans), though PyYAML reads them as strings."""
    text = (make_project(tmp_path / "source")).read_text().replace("className: airflow-storage",
                                                                   f"className: {class_name}")
    directories = synthesized_overlays(tmp_path, [("example", text), ("tls-secret", None)])
    alone = kustomize.build_many(directories)
    assert f'name: "{class_name}"' in alone[0]
    fallbacks = []
    real = kustomize.build_many
    monkeypatch.setattr(kustomize, "build_many", lambda dirs: fallbacks.extend(dirs) or real(dirs))
    assert kustomize.build_overlays(directories) == alone
    assert fallbacks == directories[:3]


def test_a_batch_that_kustomize_refuses_is_built_alone_with_kustomizes_own_message(tmp_path):
    directories = synthesized_overlays(tmp_path, [("example", None)])
    (directories[1] / "kustomization.yaml").write_text("resources:\n  - ../../missing\n")
    with pytest.raises(kustomize.ToolError) as caught:
        kustomize.build_overlays(directories)
    assert caught.value.problems[0].startswith("kustomize could not build kubernetes-executor: ")
