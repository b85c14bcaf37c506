"""The lean chart archive: the files no template reads are left out, and a render is the same byte for byte."""

from __future__ import annotations

import dataclasses
import tarfile
import tempfile
from pathlib import Path

import pytest
from support import CHART_ARCHIVE, chart_archive

from generator import config as config_module
from generator.knowledge.airflow import CELERY_EXECUTOR
from generator.plumbing.yamlio import generated_objects
from generator.review import helm, lean_chart, render
from generator.synth import pipeline

REPO = Path(__file__).resolve().parents[1]


def test_only_literal_file_reads_let_files_go():
    assert lean_chart.read_paths(['{{ tpl (.Files.Get "files/a.yml") . }}', '{{ $.Files.Lines  "b" }}']) == {
        "files/a.yml", "b"}
    assert lean_chart.read_paths(["{{ range .Files.Glob \"files/*\" }}{{ end }}"]) is None
    assert lean_chart.read_paths(["{{ .Files.Get $path }}"]) is None
    assert lean_chart.read_paths(["{{ $f := .Files }}"]) is None
    assert lean_chart.read_paths(["{{ .Values.dagFiles }}"]) == set()  # another word
    assert lean_chart.mentions_files({"podTemplate": '{{ .Files.Get "files/x" }}'})
    assert not lean_chart.mentions_files({"dags": {"dagFiles": 1}})


@pytest.mark.parametrize("version", ["1.19.0", "1.22.0"])
def test_the_lean_archive_keeps_the_chart_its_templates_and_the_files_they_read(version):
    data = lean_chart.lean(chart_archive(version))
    assert data is not None
    with tempfile.TemporaryDirectory() as scratch:
        lean = Path(scratch) / "lean.tgz"
        lean.write_bytes(data)
        with tarfile.open(lean) as kept, tarfile.open(chart_archive(version)) as whole:
            names, every = set(kept.getnames()), {m.name for m in whole.getmembers() if m.isfile()}
    assert "airflow/RELEASE_NOTES.rst" in every and "airflow/RELEASE_NOTES.rst" not in names
    assert {"airflow/Chart.yaml", "airflow/values.yaml", "airflow/values.schema.json",
            "airflow/files/pod-template-file.kubernetes-helm-yaml", "airflow/files/statsd-mappings.yml"} <= names
    assert {n for n in every if n.startswith(("airflow/templates/", "airflow/charts/"))} <= names
    loaded = helm.library().Chart.load_archive(data)
    assert sorted(f["name"] for f in loaded.files) == ["files/pod-template-file.kubernetes-helm-yaml",
                                                      "files/statsd-mappings.yml"]


def test_a_chart_directory_or_a_chart_that_globs_its_files_stays_whole(tmp_path):
    with tarfile.open(CHART_ARCHIVE) as whole:
        whole.extractall(tmp_path, filter="data")
    assert lean_chart.lean(tmp_path / "airflow") is None
    template = tmp_path / "airflow" / "templates" / "extra.yaml"
    template.write_text('{{ range $path, $_ := .Files.Glob "docs/*" }}{{ end }}\n')
    archive = tmp_path / "globbing.tgz"
    with tarfile.open(archive, "w:gz") as target:
        target.add(tmp_path / "airflow", arcname="airflow")
    assert lean_chart.lean(archive) is None


def test_a_release_renders_the_same_from_the_lean_archive_and_from_the_whole_one():
    config = config_module.load(REPO / "gen.yaml", "gen.yaml")
    chart = render.load_chart(config, CHART_ARCHIVE)
    with tempfile.TemporaryDirectory() as scratch:
        files = pipeline.generate(config, Path(scratch), [CELERY_EXECUTOR])
    release = render.release(generated_objects(files[f"dist/{CELERY_EXECUTOR}/{pipeline.HYDRATED_FILE}"]), config)
    assert release is not None and not lean_chart.mentions_files(release.values)
    lean = chart._render(release, render.DEFAULT_KUBE_VERSION)
    assert chart._lean_archive[0] is not None  # the render took the lean archive
    whole = dataclasses.replace(chart, _lean_archive=[None])
    assert whole._render(release, render.DEFAULT_KUBE_VERSION) == lean
