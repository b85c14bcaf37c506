"""Every chart release gen knows, rendered by its real archive: keys where each release reads them, and no
deprecation warning in NOTES.txt for anything gen writes.

One session fixture renders each release with each executor overlay once (4 x 3 renders of NOTES.txt and the
chart's value checks: the other templates print no warning); the tests read those renders. The project sets
every task-pod setting gen writes (resources, nodeSelector, tolerations, env) so that the keys whose home moved
between releases are all written.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from support import CHART_VERSIONS, chart_archive, chart_reference, chart_showing, make_project

from generator.config import load
from generator.knowledge import airflow, charts
from generator.model import Version
from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import generated_objects
from generator.review import chart_source, render, validate
from generator.synth import pipeline

TASK_PODS = """\
workers:
  celery:
    replicas: 1
  kubernetes:
    resources:
      requests: {cpu: 250m, memory: 512Mi}
    nodeSelector: {disktype: ssd}
    tolerations: [{key: dedicated, operator: Equal, value: airflow, effect: NoSchedule}]
    env: [{name: TZ, value: UTC}]
"""


def _project(root: Path, version: str) -> Path:
    path = make_project(root)
    airflow_version = charts.suggested(Version.parse(version))
    text = re.sub(r"(?ms)^workers:.*?(?=^\S)", TASK_PODS, path.read_text())
    path.write_text(text.replace("  version: 3.3.2", f"  version: {airflow_version}"))
    pin = path.parent / "charts" / "airflow" / "chart.yaml"
    pin.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}",
                          re.sub(r"(?m)^airflowVersion: .*$", f"airflowVersion: {airflow_version}", pin.read_text())))
    return path


@pytest.fixture(scope="session")
def renders(tmp_path_factory):
    """(version, overlay) -> (the HelmRelease values, NOTES.txt): each rendered once by the real archive."""
    found, archives = {}, tmp_path_factory.mktemp("charts")
    for version in CHART_VERSIONS:
        config = load(_project(tmp_path_factory.mktemp(f"chart-{version}"), version))
        # Chart.load, not load_chart: a chart of a few templates must never be kept in the cache as the release.
        shown = chart_showing(version, ("NOTES.txt", "check-values.yaml"), archives)
        chart = render.Chart.load(chart_source.given(shown), config.chart)
        with tempfile.TemporaryDirectory() as scratch:
            files = pipeline.generate(config, Path(scratch), list(airflow.OVERLAYS))
        for overlay in airflow.OVERLAYS:
            objects = generated_objects(files[f"dist/{overlay}/{pipeline.HYDRATED_FILE}"])
            release = render.release(objects, config)
            found[version, overlay] = (release.values, chart.notes(release, render.DEFAULT_KUBE_VERSION))
    return found


@pytest.mark.parametrize("version", CHART_VERSIONS)
@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
def test_every_overlay_renders_with_every_release_without_a_deprecation_warning(renders, version, overlay):
    values, notes = renders[version, overlay]
    assert notes, "the chart printed no NOTES.txt"
    warnings = [block.strip().splitlines()[1].strip() for block in notes.split("DEPRECATION WARNING:")[1:]
                if block.strip()]
    assert "DEPRECATION WARNING" not in notes, warnings


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_the_values_of_every_release_pass_its_own_schema(renders, version):
    schema = validate.ChartSchema.load(chart_reference(version) / "values.schema.json")
    for overlay in airflow.OVERLAYS:
        assert schema.problems(renders[version, overlay][0]) == [], overlay


def test_task_pod_settings_move_home_with_the_release_that_moved_them(renders):
    old, moved, new = (renders[v, airflow.KUBERNETES_EXECUTOR][0]["workers"] for v in ("1.19.0", "1.20.0", "1.22.0"))
    assert {"resources", "nodeSelector", "tolerations", "env"} <= old.keys() and "kubernetes" not in old
    assert {"tolerations", "env"} <= moved.keys() and {"resources", "nodeSelector"} <= moved["kubernetes"].keys()
    assert new.keys() == {"kubernetes"} and new["kubernetes"].keys() == {"resources", "nodeSelector", "tolerations",
                                                                          "env"}


def test_the_release_switches_appear_only_in_the_releases_that_read_them(renders):
    first, current = renders["1.19.0", airflow.CELERY_EXECUTOR][0], renders["1.22.0", airflow.CELERY_EXECUTOR][0]
    assert "enableServiceLinks" not in first and "recommendedProbeSetting" not in first["dags"].get("gitSync", {})
    assert current["enableServiceLinks"] is False and current["dags"]["gitSync"]["recommendedProbeSetting"] is True


def test_the_table_matches_each_archive(tmp_path):
    """Default Airflow (appVersion) and the bundled PostgreSQL's major version, read from each archive."""
    for row in charts.RELEASES:
        meta = render._chart_yaml(chart_archive(str(row.version)))
        assert Version.parse(meta["appVersion"]) == row.default_airflow
        defaults = validate.ChartSchema.load(chart_reference(str(row.version)) / "values.schema.json").defaults
        assert int(defaults["postgresql"]["image"]["tag"].split(".")[0]) == row.postgresql_major


def test_a_pin_outside_the_table_is_refused_in_one_line_naming_the_known_releases(tmp_path):
    path = _project(tmp_path, "1.19.0")
    pin = path.parent / "charts" / "airflow" / "chart.yaml"
    pin.write_text(pin.read_text().replace("version: 1.19.0", "version: 1.18.0"))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [
        "charts/airflow/chart.yaml: version: chart 1.18.0 is not one gen knows; gen knows 1.19.0, 1.20.0, 1.21.0, "
        "1.22.0 (gen upgrade --chart-version 1.22.0 moves a project to the newest)"]


def test_an_airflow_version_the_pinned_release_does_not_run_is_refused(tmp_path):
    path = _project(tmp_path, "1.20.0")
    path.write_text(path.read_text().replace("  version: 3.1.8", "  version: 2.10.5"))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.problems == [
        f"{path}: airflow.version: 2.10.5 is not supported by chart 1.20.0, which runs Airflow 2.11.0 up to (not "
        f"including) 4.0.0; use a version such as 3.1.8"]


def test_airflow_3_2_under_a_sub_path_warns_with_the_upstream_issue(tmp_path):
    path = _project(tmp_path, "1.22.0")
    path.write_text(path.read_text().replace("  version: 3.3.2", "  version: 3.2.2"))
    (line,) = airflow.warnings(load(path))
    assert "apache/airflow#72344" in line and line.endswith("use 3.3.2 or later")
    assert airflow.warnings(load(_project(tmp_path / "current", "1.22.0"))) == []


def test_gen_validate_checks_the_values_against_the_pinned_releases_own_schema(tmp_path):
    from click.testing import CliRunner

    from generator.commands import cli

    path = _project(tmp_path, "1.20.0")
    runner = CliRunner()
    assert runner.invoke(cli, ["synth", "--config", str(path)]).exit_code == 0
    offline = runner.invoke(cli, ["validate", "--config", str(path), "--overlay", "celery-executor"])
    assert ("not checked: HelmRelease values: chart airflow 1.20.0 is not cached and GEN_OFFLINE is set; give "
            "--chart PATH or --chart-schema PATH") in offline.stdout.splitlines()
    pinned = runner.invoke(cli, ["validate", "--config", str(path), "--overlay", "celery-executor",
                                 "--chart", str(chart_archive("1.20.0"))])
    assert "not checked: HelmRelease values" not in pinned.stdout
    wrong = path.parent / "charts" / "airflow" / "values.yaml"
    wrong.write_text("enableServiceLinks: false\n")  # a 1.22 key: 1.20's schema refuses it, gen refuses it first
    refused = runner.invoke(cli, ["validate", "--config", str(path), "--overlay", "celery-executor",
                                  "--chart", str(chart_archive("1.20.0"))])
    assert refused.exit_code == 1 and "added in chart 1.22.0" in refused.stdout
