"""charts/airflow/values.yaml against the chart's values schema: the schema comes out of a chart directory or
archive, a chart without one is said not to be checked, and an unreadable archive is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CHART_ARCHIVE, CHART_REFERENCE, make_project, tar_gz

from generator import config as config_module
from generator.plumbing.errors import ConfigError
from generator.review import values_check
from generator.review.chart_source import ChartArchive


def _archive(path: Path, members: dict[str, bytes]) -> ChartArchive:
    return ChartArchive(tar_gz(path, members), "digest", str(path))


def test_a_chart_directory_gives_its_schema_and_values(tmp_path):
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "values.schema.json").write_text("{}")
    target = tmp_path / "out"
    target.mkdir()
    assert values_check._unpack(ChartArchive(chart, "d", "chart"), target) == target / "values.schema.json"
    assert sorted(p.name for p in target.iterdir()) == ["values.schema.json"]  # no values.yaml: none copied
    (chart / "values.schema.json").unlink()
    assert values_check._unpack(ChartArchive(chart, "d", "chart"), target) is None


def test_only_the_charts_own_top_level_files_come_out_of_an_archive(tmp_path):
    archive = _archive(tmp_path / "chart.tgz", {"airflow/values.yaml": b"a: 1\n",
                                                "airflow/charts/postgresql/values.schema.json": b"{}"})
    target = tmp_path / "out"
    target.mkdir()
    assert values_check._unpack(archive, target) is None  # a subchart's schema is not the chart's
    assert (target / "values.yaml").read_text() == "a: 1\n"


@pytest.fixture
def config(tmp_path):
    return config_module.load(make_project(tmp_path / "project"))


def test_a_chart_without_a_values_schema_is_said_not_to_be_checked(config, tmp_path, monkeypatch):
    archive = _archive(tmp_path / "chart.tgz", {"airflow/values.yaml": b"a: 1\n"})
    monkeypatch.setattr(values_check.chart_source, "cached", lambda pin: archive)
    assert values_check.check(config, None) == (
        f"charts/airflow/values.yaml not checked: chart airflow {config.chart.version} has no values.schema.json")


def test_an_unreadable_cached_archive_is_one_line(config, tmp_path, monkeypatch):
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(CHART_ARCHIVE.read_bytes()[:200])
    monkeypatch.setattr(values_check.chart_source, "cached", lambda pin: ChartArchive(broken, "d", "cache"))
    with pytest.raises(ConfigError) as raised:
        values_check.check(config, None)
    [line] = raised.value.problems
    assert line.startswith("chart cache: cannot be read (")


def test_a_cached_chart_directory_checks_the_values(config, monkeypatch):
    monkeypatch.setattr(values_check.chart_source, "cached", lambda pin: ChartArchive(CHART_REFERENCE, "d", "ref"))
    assert values_check.check(config, None) == (
        f"charts/airflow/values.yaml checked against the values schema of chart airflow {config.chart.version}")
