"""Hostile input through the real command: one line naming the problem, exit 1, no traceback, and
dist/ and overlays/ byte-identical afterwards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import tree

from generator.commands import cli
from generator.plumbing import output
from generator.plumbing.errors import OutputError

VALID = "ingress: {host: airflow.example.com, tls: {certResolver: le}}\n"


def _alias_bomb() -> bytes:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]" for i in range(1, 10)]
    return ("\n".join(lines) + "\n").encode()


# name -> (gen.yaml bytes, what the one error line must contain after "error: gen.yaml: ")
HOSTILE_CONFIGS = {
    "alias bomb": (_alias_bomb(), "anchors and aliases (*name) are not allowed"),
    "over 1 MiB": (b"# " + b"x" * (1024 * 1024) + b"\n", "at most 1048576 (1 MiB) is allowed"),
    "not UTF-8": (VALID.encode() + b"namespace: \xc3\x28\n", "not UTF-8 text"),
    "duplicate key": (VALID.encode() + b"ingress: {}\n", "ingress: duplicate key; each key may appear once"),
    "empty": (b"", "file is empty"),
    "only a comment": (b"# nothing\n", "file is empty"),
    "python object tag": (b"namespace: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
                          "namespace: the tag '!!python/object/apply:os.system' is not allowed"),
    "python name tag": (b"namespace: !!python/name:os.system\n", "is not allowed; use plain YAML values"),
    "binary tag": (VALID.encode() + b"overlays: {celery-executor: {values: {a: !!binary aGk=}}}\n",
                   "overlays.celery-executor.values.a: the tag '!!binary' is not allowed"),
    "set tag": (VALID.encode() + b"overlays: {celery-executor: {values: {a: !!set {b: null}}}}\n",
                "overlays.celery-executor.values.a: the tag '!!set' is not allowed"),
    "not a number": (VALID.encode() + b"overlays: {celery-executor: {values: {a: .nan}}}\n",
                     "overlays.celery-executor.values.a: .nan is not a finite number"),
    "huge integer": (VALID.encode() + b"overlays: {celery-executor: {values: {a: 99999999999999999999}}}\n",
                     "overlays.celery-executor.values.a: 99999999999999999999 does not fit in 64 bits"),
    "non-text key": (VALID.encode() + b"overlays: {celery-executor: {values: {1: a}}}\n", "overlays.celery-executor.values.1: the key 1 is not text"),
    "nested too deep": (VALID.encode() + b"overlays: {celery-executor: {values: " + b"{a: " * 80 + b"1" + b"}" * 80
                        + b"}}\n", "nested more than 64 levels deep"),
    "several documents": (VALID.encode() + b"---\n" + VALID.encode(), "holds 2 YAML documents"),
    "host into the rule": (b"ingress: {host: 'a.example.com`) || Host(`evil.example.com', tls: {certResolver: le}}\n",
                           "ingress.host: "),
    "path into the rule": (b"ingress: {host: a.example.com, pathPrefix: '/a`) || PathPrefix(`/', "
                           b"tls: {certResolver: le}}\n", "ingress.pathPrefix: "),
    "entry point into the route": (VALID.encode() + b"  entryPoints: ['web`']\n", None),
    "namespace as a path": (VALID.encode() + b"namespace: ../../etc\n", "namespace: '../../etc' must be a DNS-1123"),
    "release as a path": (VALID.encode() + b"release: ../dist\n", "release: '../dist' must be a DNS-1123"),
    "host path with ..": (VALID.encode() + b"storage: {logs: {hostPath: /srv/airflow/../airflow-logs}}\n",
                          "storage.logs.hostPath: '/srv/airflow/../airflow-logs' contains '..'"),
    "host path in /etc": (VALID.encode() + b"storage: {dags: {hostPath: /etc}}\n",
                          "storage.dags.hostPath: '/etc' is a system directory of the node"),
    "overlapping volumes": (VALID.encode() + b"storage: {dags: {hostPath: /srv/airflow}, "
                            b"logs: {hostPath: /srv/airflow/logs}}\n", "storage.logs.hostPath: '/srv/airflow/logs' "
                                                                      "overlaps storage.dags.hostPath"),
}


@pytest.fixture
def project(synthesized, tmp_path) -> Path:
    """A copy of the synthesized example, so every case starts from complete output on disk."""
    root = tmp_path / "project"
    shutil.copytree(synthesized["example"], root)
    return root


def run_synth(project: Path, *args: str):
    config = project / "gen.yaml"
    return CliRunner().invoke(cli, ["synth", "--config", str(config), *args], catch_exceptions=False)


def assert_refused(project: Path, before: dict, result, expected: str | None, *, label: str = "gen.yaml") -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    assert label in lines[0]
    if expected:
        assert expected in lines[0]
    assert tree(project, "dist", "overlays") == before
    assert not list(project.glob(".gen-staging-*"))


@pytest.mark.parametrize("case", sorted(HOSTILE_CONFIGS))
def test_hostile_configs_are_refused_in_one_line_and_change_nothing(project, case):
    content, expected = HOSTILE_CONFIGS[case]
    before = tree(project, "dist", "overlays")
    (project / "gen.yaml").write_bytes(content)
    assert_refused(project, before, run_synth(project), expected, label=str(project / "gen.yaml"))


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("values.yaml", b"a: 1\na: 2\n", "a: duplicate key; each key may appear once"),
    ("values.yaml", b"a: !!python/object/new:os.system [id]\n", "is not allowed; use plain YAML values"),
    ("values.yaml", b"a: 2001-12-14\nb: !!timestamp 2001-12-14\n", "b: the tag '!!timestamp' is not allowed"),
    ("values.yaml", b"on: true\n", "on: the key on is not text; quote it ('on')"),
    ("chart.yaml", b"\xff\xfe", "not UTF-8 text"),
    ("chart.yaml", b"", "file is empty"),
])
def test_hostile_chart_files_are_refused_in_one_line_and_change_nothing(project, name, content, expected):
    before = tree(project, "dist", "overlays")
    (project / "charts" / "airflow" / name).write_bytes(content)
    assert_refused(project, before, run_synth(project), expected, label=f"charts/airflow/{name}")


def test_a_directory_or_a_missing_file_as_config_is_one_line(project):
    before = tree(project, "dist", "overlays")
    result = CliRunner().invoke(cli, ["synth", "--config", str(project / "charts")], catch_exceptions=False)
    assert_refused(project, before, result, "is not a regular file", label=str(project / "charts"))
    result = CliRunner().invoke(cli, ["synth", "--config", str(project / "nope.yaml")], catch_exceptions=False)
    assert_refused(project, before, result, "file not found", label=str(project / "nope.yaml"))


@pytest.mark.parametrize("tree_name", output.TREES)
def test_an_output_tree_that_is_a_file_is_refused(project, tree_name):
    shutil.rmtree(project / tree_name)
    (project / tree_name).write_text("not a directory\n")
    other = "overlays" if tree_name == "dist" else "dist"
    before = tree(project, other)
    result = run_synth(project)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {tree_name}/: exists and is not a directory; move it away so gen can write "
                             f"{tree_name}/\n")
    assert tree(project, other) == before
    assert (project / tree_name).read_text() == "not a directory\n"


def test_an_overlays_tree_that_links_outside_the_project_is_refused(project, tmp_path):
    outside = tmp_path / "outside"
    shutil.move(project / "overlays", outside)
    (project / "overlays").symlink_to(outside)
    before = tree(outside, ".")
    result = run_synth(project)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: overlays/: is a symbolic link (to ")
    assert tree(outside, ".") == before


@pytest.mark.parametrize("relative", ["../escape.yaml", "dist/../../escape.yaml", "/tmp/escape.yaml",
                                      "dist/base/../../../escape.yaml", "dist/a\0b.yaml", "."])
def test_write_files_refuses_paths_that_leave_the_root(tmp_path, relative):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(OutputError) as caught:
        output.write_files(root, {relative: "x"})
    assert len(caught.value.problems) == 1
    assert list(root.rglob("*")) == [] and not (tmp_path / "escape.yaml").exists()


def test_write_files_does_not_follow_a_symlink_out_of_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "dist").symlink_to(outside)
    with pytest.raises(OutputError) as caught:
        output.write_files(root, {"dist/base/airflow.yaml": "x"})
    assert caught.value.problems == [f"dist/base/airflow.yaml: would be written outside {root}"]
    assert list(outside.iterdir()) == []


def test_write_files_reports_a_file_in_the_way_in_one_line(tmp_path):
    (tmp_path / "dist").write_text("a file where a directory should be")
    with pytest.raises(OutputError) as caught:
        output.write_files(tmp_path, {"dist/base/airflow.yaml": "x"})
    assert caught.value.problems == ["'dist/base/airflow.yaml': cannot be written: Not a directory"]


def test_links_inside_the_output_trees_are_never_followed(project, tmp_path):
    """A link planted in dist/ (say, by a pull request) neither receives output nor gets its target deleted."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me\n")
    shutil.rmtree(project / "dist" / "celery-executor")
    (project / "dist" / "celery-executor").symlink_to(outside)
    (project / "dist" / "base" / "evil.yaml").symlink_to(outside / "precious.txt")
    assert run_synth(project, "--overlay", "kubernetes-executor").exit_code == 0
    assert run_synth(project).exit_code == 0
    assert [p.name for p in outside.iterdir()] == ["precious.txt"]
    assert (outside / "precious.txt").read_text() == "keep me\n"
    assert not (project / "dist" / "celery-executor").is_symlink()
    assert not (project / "dist" / "base" / "evil.yaml").exists()
