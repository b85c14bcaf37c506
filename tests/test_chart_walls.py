"""Charts are read inside their own walls: a link leaving a --chart directory, or a pipe in it, is refused;
a truncated archive is one line, given or cached (a broken cached chart is dropped and reported); a chart
whose templates loop meets GEN_RENDER_TIMEOUT."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from support import CHART_ARCHIVE, chart_archive, make_project

from generator.model import ChartPin
from generator.plumbing import notices
from generator.review import chart_source, render
from generator.review.chart_source import ChartError, ChartUnavailable

ARCHIVE = chart_archive("1.19.0")  # the pin these tests name


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("chart")
    with tarfile.open(CHART_ARCHIVE) as archive:  # the chart the projects pin
        archive.extractall(root, filter="data")
    return root / "airflow"


@pytest.fixture
def chart_dir(unpacked, tmp_path) -> Path:
    """A copy of the unpacked chart that a case may plant things in (links stay links)."""
    copy = tmp_path / "airflow"
    subprocess.run(["cp", "-a", str(unpacked), str(copy)], check=True)
    return copy


def _outside_file(chart: Path) -> None:
    (chart / "templates" / "leak.yaml").symlink_to("/etc/hostname")


def _outside_directory(chart: Path) -> None:
    (chart / "files" / "etc").parent.mkdir(exist_ok=True)
    (chart / "files" / "etc").symlink_to("/etc")


def _up_and_out(chart: Path) -> None:
    (chart / "templates" / "up.yaml").symlink_to("../../../../../../../../proc/self/environ")


def _through_a_linked_directory(chart: Path) -> None:
    outside = chart.parent / "outside"
    outside.mkdir()
    (outside / "x.yaml").write_text("kind: ConfigMap\n")
    (chart / "templates" / "more").symlink_to(outside)


def _pipe(chart: Path) -> None:
    os.mkfifo(chart / "templates" / "hang.yaml")


PLANTED = {"a link to a file outside": (_outside_file, "outside the chart"),
           "a link to a directory outside": (_outside_directory, "outside the chart"),
           "a relative link climbing out": (_up_and_out, "outside the chart"),
           "a linked directory outside": (_through_a_linked_directory, "outside the chart"),
           "a FIFO": (_pipe, "is not a regular file (a pipe, socket or device)")}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_a_chart_directory_may_not_reach_outside_itself(chart_dir, case):
    plant, expected = PLANTED[case]
    plant(chart_dir)
    with pytest.raises(ChartError) as caught:
        chart_source.given(chart_dir)
    [line] = caught.value.problems
    assert line.startswith(f"--chart: {chart_dir}/") and expected in line


def test_a_link_that_stays_inside_the_chart_is_fine(chart_dir):
    (chart_dir / "templates" / "again.txt").symlink_to("../values.yaml")
    assert chart_source.given(chart_dir).path == chart_dir


def _cut(length: int):
    return lambda data: data[:length]


DAMAGED = {"truncated to 100000 bytes": _cut(100000), "truncated to 10 bytes": _cut(10), "empty": _cut(0),
           "not gzip": lambda data: b"PK\x03\x04 a zip file, say" + data[100:200],
           "gzip but not tar": lambda _data: gzip.compress(b"just some text\n" * 100),
           "a flipped byte": lambda data: data[:5000] + bytes([data[5000] ^ 0xFF]) + data[5001:]}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_archive_given_is_one_line(tmp_path, case):
    damaged = tmp_path / "airflow-1.19.0.tgz"
    damaged.write_bytes(DAMAGED[case](ARCHIVE.read_bytes()))
    with pytest.raises(ChartError) as caught:
        chart_source.given(damaged)
    [line] = caught.value.problems
    assert line.startswith(f"--chart: {damaged} is not a complete chart archive (")


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_cached_chart_is_dropped_and_reported(tmp_path, monkeypatch, case):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GEN_OFFLINE", "1")
    cached = tmp_path / "cache" / "charts" / "airflow-1.19.0.tgz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(DAMAGED[case](ARCHIVE.read_bytes()))
    notices.drain()
    pin = ChartPin("https://airflow.apache.org", "airflow", "1.19.0", "3.1.7")
    with pytest.raises(ChartUnavailable):
        chart_source.fetch(pin)
    [line] = notices.drain()
    assert line.startswith(f"cached chart {cached}: is not a complete chart archive") and "dropped it" in line
    assert not cached.exists()


def test_the_whole_archive_is_taken_given_or_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "charts" / "airflow-1.19.0.tgz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(ARCHIVE.read_bytes())
    pin = ChartPin("https://airflow.apache.org", "airflow", "1.19.0", "3.1.7")
    assert chart_source.fetch(pin).digest == chart_source.given(ARCHIVE).digest


def test_chart_yaml_is_read_in_the_pass_that_checks_the_archive_as_helm_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    pin = ChartPin("https://airflow.apache.org", "airflow", "1.19.0", "3.1.7")
    cached = tmp_path / "cache" / "charts" / "airflow-1.19.0.tgz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(ARCHIVE.read_bytes())
    with tarfile.open(ARCHIVE) as archive:
        expected = archive.extractfile("airflow/Chart.yaml").read()
    assert chart_source.given(ARCHIVE).chart_yaml == expected == chart_source.fetch(pin).chart_yaml
    # Two entries of one name: the last wins, as in Helm's loader and in render.chart_files; nested files are not
    # the chart's.
    twice = tmp_path / "twice.tgz"
    with tarfile.open(twice, "w:gz") as tar:
        for name, data in (("airflow/Chart.yaml", b"name: first\n"), ("airflow/templates/Chart.yaml", b"nested\n"),
                           ("airflow/Chart.yaml", b"name: last\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert chart_source.given(twice).chart_yaml == b"name: last\n" == render.chart_files(twice, ("Chart.yaml",))[0]
    assert render.chart_files(twice, ("NOTES.txt",)) == (None,)


def test_a_pipe_given_as_the_chart_is_one_line_and_no_hang(tmp_path):
    os.mkfifo(tmp_path / "chart.tgz")
    with pytest.raises(ChartError) as caught:
        chart_source.given(tmp_path / "chart.tgz")
    assert "is not a regular file or a directory" in caught.value.problems[0]


def test_a_chart_whose_templates_loop_meets_the_render_deadline(chart_dir, tmp_path):
    (chart_dir / "templates" / "loop.yaml").write_text(
        "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n")
    config = make_project(tmp_path / "project")
    # In a process of its own: the looping render cannot be stopped, only left behind until gen exits.
    result = subprocess.run([sys.executable, "-c", "from generator.launch import main; main()", "render", "--config",
                             str(config), "--chart", str(chart_dir), "--overlay", "celery-executor"],
                            env={**os.environ, "GEN_RENDER_TIMEOUT": "2", "GEN_CACHE_DIR": "off"},
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "Helm did not finish rendering within 2 s (GEN_RENDER_TIMEOUT)" in line


# --- the repository, the cache and the given chart when something is wrong: one line each -----------------

PIN = ChartPin("https://charts.example", "airflow", "1.19.0", "3.1.7")


def _repository(monkeypatch, index: bytes, archive: bytes = b"") -> list[str]:
    """The repository's answers (index.yaml, then the archive) in place of the download; the URLs asked."""
    asked: list[str] = []

    def download(url: str) -> bytes:
        asked.append(url)
        return index if url.endswith("/index.yaml") else archive

    monkeypatch.setattr(chart_source, "_download", download)
    monkeypatch.delenv("GEN_OFFLINE", raising=False)
    return asked


@pytest.mark.parametrize("index, expected", [
    (b"entries: [unclosed", "https://charts.example/index.yaml: is not a Helm repository index (not YAML)"),
    (b"- a list\n", "https://charts.example/index.yaml: has no airflow 1.19.0; check charts/airflow/chart.yaml"),
    (b"entries:\n  airflow:\n  - {version: 1.18.0, urls: [a.tgz]}\n  - {version: 1.19.0}\n",
     "https://charts.example/index.yaml: has no airflow 1.19.0; check charts/airflow/chart.yaml"),
])
def test_an_index_without_the_pinned_chart_is_one_line(tmp_path, monkeypatch, index, expected):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    _repository(monkeypatch, index)
    with pytest.raises(ChartUnavailable) as caught:
        chart_source.fetch(PIN)
    assert caught.value.problems == [expected]


def test_the_archive_url_is_taken_relative_to_the_repository(monkeypatch):
    index = b"entries:\n  airflow:\n  - {version: 1.19.0, urls: [charts/airflow-1.19.0.tgz], digest: 'sha256:ab'}\n"
    assert chart_source._archive_url(PIN, index) == ("https://charts.example/charts/airflow-1.19.0.tgz", "sha256:ab")


def test_an_unreachable_repository_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    _repository(monkeypatch, b"")

    def download(url):
        raise OSError("Connection refused")

    monkeypatch.setattr(chart_source, "_download", download)
    with pytest.raises(ChartUnavailable) as caught:
        chart_source.fetch(PIN)
    assert caught.value.problems == [
        "chart airflow 1.19.0: https://charts.example/index.yaml cannot be reached (Connection refused)"]


def test_with_the_cache_off_nothing_is_downloaded(monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", "off")
    asked = _repository(monkeypatch, b"")
    with pytest.raises(ChartUnavailable) as caught:
        chart_source.fetch(PIN)
    assert caught.value.problems == ["chart airflow 1.19.0: the cache is off (GEN_CACHE_DIR), so a downloaded chart "
                                     "could not be kept; give --chart PATH"]
    assert asked == []
    chart_source.remember(chart_source.given(ARCHIVE), PIN)  # nowhere to keep it: no error


def test_a_directory_where_the_cached_chart_goes_is_reported_and_not_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "charts" / "airflow-1.19.0.tgz"
    (target / "inside").mkdir(parents=True)
    data = ARCHIVE.read_bytes()
    index = f"entries:\n  airflow:\n  - {{version: 1.19.0, urls: [a.tgz]}}\n".encode()
    _repository(monkeypatch, index, data)
    notices.drain()
    with pytest.raises(ChartUnavailable) as caught:
        chart_source.fetch(PIN)
    [line] = caught.value.problems
    assert line.startswith(f"chart airflow 1.19.0: cannot be cached at {target} (")
    assert notices.drain() == [f"cached chart {target}: is not a regular file; could not remove it (Is a directory); "
                               f"delete it"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["airflow-1.19.0.tgz"]  # no temporary file left
    chart_source.remember(chart_source.given(ARCHIVE), PIN)  # a cache that cannot be written is no error
    assert (target / "inside").is_dir()


def test_a_chart_kept_with_remember_is_found_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").write_text("a file where the cache goes\n")
    chart_source.remember(chart_source.given(ARCHIVE), PIN)  # cannot be kept: the run goes on
    assert chart_source.cached(PIN) is None
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache2"))
    chart_source.remember(chart_source.given(ARCHIVE), PIN)
    assert chart_source.cached(PIN).digest == chart_source.given(ARCHIVE).digest


def test_an_archive_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(chart_source, "MAX_ARCHIVE_BYTES", 1000)
    with pytest.raises(ChartError) as caught:
        chart_source.given(ARCHIVE)
    assert caught.value.problems == [f"--chart: {ARCHIVE} is over 1000 bytes, which no chart archive is"]


def test_an_archive_that_cannot_be_read_is_one_line(tmp_path, monkeypatch):
    def open_(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(chart_source.os, "open", open_)
    with pytest.raises(ChartError) as caught:
        chart_source.given(ARCHIVE)
    assert caught.value.problems == [f"--chart: {ARCHIVE} cannot be read (Permission denied)"]


def test_a_link_in_the_chart_to_a_pipe_in_it_is_refused(tmp_path):
    chart = tmp_path / "chart"
    chart.mkdir()
    os.mkfifo(chart / "pipe")
    (chart / "link").symlink_to("pipe")
    with pytest.raises(ChartError) as caught:
        chart_source.given(chart)
    assert caught.value.problems == [
        f"--chart: {chart / 'link'} leads to something that is not a regular file; remove it",
        f"--chart: {chart / 'pipe'} is not a regular file (a pipe, socket or device); remove it"]
