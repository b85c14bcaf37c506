"""gen render and the rendered review, on the real archive of the chart the example pins (1.22.0), rendered by
Helm's Go SDK."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import tarfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from support import CHART_ARCHIVE, CONFIGS, documents, make_project, tar_gz
from test_review import wire

from generator import config as config_module
from generator.commands import cli
from generator.knowledge import credentials
from generator.plumbing.objects import object_key
from generator.review import chart_source, diff, render, renders, report
from generator.review.rendered_diff import field_changes
from generator.synth import pipeline

ARCHIVE = CHART_ARCHIVE
OVERLAYS = ("celery-executor", "kubernetes-executor", "celery-kubernetes-executor")


def gen(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.com",
                           *args], capture_output=True, text=True, check=True).stdout


def repository(root: Path, fixture: str = "example") -> Path:
    """A Git repository holding the config files only (gen diff generates both sides itself)."""
    config = make_project(root, fixture=fixture)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "airflow")
    return config


def stream_objects(text: str) -> list[tuple[str, str, dict]]:
    """gen render's stream as (overlay, source, object), read from the comments before each object."""
    found = []
    for chunk in text.split("\n---\n")[1:]:
        lines = chunk.splitlines()
        assert lines[0].startswith("# overlay: ") and lines[1].startswith("# source: "), chunk[:200]
        found.append((lines[0].removeprefix("# overlay: "), lines[1].removeprefix("# source: "),
                      yaml.safe_load("\n".join(lines[2:]))))
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[str, list[tuple[str, str, dict]]]:
    """`gen render` of the example, every overlay, from the chart archive."""
    config = make_project(tmp_path_factory.mktemp("render"))
    result = gen("render", "--config", str(config), "--chart", str(ARCHIVE))
    assert result.exit_code == 0, result.output
    return result.stdout, stream_objects(result.stdout)


def chart_objects(objects, overlay: str) -> dict[tuple[str, str], dict]:
    return {(o["kind"], o["metadata"]["name"]): o for name, source, o in objects
            if name == overlay and source != render.GEN}


def test_every_overlay_renders_gen_objects_then_the_charts(rendered):
    _, objects = rendered
    for overlay in OVERLAYS:
        sources = [source for name, source, _ in objects if name == overlay]
        gen_count = sources.count(render.GEN)
        assert gen_count >= 5 and sources[:gen_count] == [render.GEN] * gen_count
        assert all(s.startswith("airflow/templates/") or s.startswith("airflow/charts/") for s in sources[gen_count:])
    assert len(chart_objects(objects, "kubernetes-executor")) == 28  # what the helm 3.19 CLI renders too
    assert ("HelmRelease", "airflow") in {(o["kind"], o["metadata"]["name"]) for n, s, o in objects if s == render.GEN}


def test_the_executor_overlays_differ_by_redis_and_workers(rendered):
    _, objects = rendered
    celery, kubernetes = chart_objects(objects, "celery-executor"), chart_objects(objects, "kubernetes-executor")
    assert celery.keys() - kubernetes.keys() == {
        ("StatefulSet", "airflow-redis"), ("Service", "airflow-redis"), ("ServiceAccount", "airflow-redis"),
        ("StatefulSet", "airflow-worker"), ("Service", "airflow-worker")}
    # gen names the broker Secret in every overlay, so the chart writes none of its own, not even without Celery.
    assert kubernetes.keys() - celery.keys() == set()
    assert celery.keys() == chart_objects(objects, "celery-kubernetes-executor").keys()
    config = celery[("ConfigMap", "airflow-config")]["data"]["airflow.cfg"]
    assert "executor = CeleryExecutor" in config
    assert "executor = KubernetesExecutor" in kubernetes[("ConfigMap", "airflow-config")]["data"]["airflow.cfg"]


def test_render_output_is_deterministic_and_carries_no_secret_value(rendered, tmp_path):
    text, objects = rendered
    config = make_project(tmp_path)
    again = gen("render", "--config", str(config), "--chart", str(ARCHIVE))
    assert again.stdout == text
    loaded = config_module.load(config, "gen.yaml")
    for secret in credentials.fill(loaded, list(OVERLAYS)):  # fresh random values: none may appear
        for value in (secret.get("stringData") or {}).values():
            assert value not in text
    placeholder = render.placeholder("Secret", "airflow", "airflow-admin-password", "password")
    values = [o for n, s, o in objects if o["kind"] == "HelmRelease"][0]["spec"]["valuesFrom"]
    assert values[0]["targetPath"] == "createUserJob.defaultUser.password"
    assert placeholder in text  # the create-user job gets the placeholder, as Flux would pass the Secret's value


def test_one_chart_renders_a_release_without_a_subchart_and_then_one_with_it(tmp_path, monkeypatch):
    """Helm drops disabled subcharts from the chart it renders: each render must start from the archive."""
    monkeypatch.setenv("GEN_CACHE_DIR", "off")
    external = make_project(tmp_path / "external", fixture="database-external")
    bundled = make_project(tmp_path / "bundled")
    chart = render.load_chart(config_module.load(bundled), ARCHIVE)

    def statefulsets(path):
        rendered = renders.config_renders(config_module.load(path), ["kubernetes-executor"], chart)
        return {o["metadata"]["name"] for o in rendered["kubernetes-executor"].chart_objects if o["kind"] == "StatefulSet"}

    assert "airflow-postgresql" not in statefulsets(external)
    assert "airflow-postgresql" in statefulsets(bundled)


def test_the_k3s_helmchart_renders_with_the_secret_placeholder(tmp_path):
    config = make_project(tmp_path, fixture="k3s-helmchart")
    result = gen("render", "--config", str(config), "--chart", str(ARCHIVE), "--overlay", "kubernetes-executor")
    assert result.exit_code == 0, result.output
    objects = stream_objects(result.stdout)
    assert [o["kind"] for _, s, o in objects if s == render.GEN].count("HelmChart") == 1
    assert len([o for _, s, o in objects if s != render.GEN]) == 32  # 4 of them PodDisruptionBudgets (availability)
    assert render.placeholder("Secret", "kube-system", "airflow-admin-password", "values.yaml") in result.stdout


def test_a_chart_that_is_not_the_pin_is_refused_in_one_line(tmp_path):
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(tmp_path / "chart", filter="data")
    chart_yaml = tmp_path / "chart" / "airflow" / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 1.22.0", "version: 1.21.0"))
    config = make_project(tmp_path / "project")
    result = gen("render", "--config", str(config), "--chart", str(tmp_path / "chart" / "airflow"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: chart {tmp_path / 'chart' / 'airflow'}: is airflow 1.21.0, but charts/airflow/chart.yaml pins "
        f"airflow 1.22.0; give the pinned chart"]
    missing = gen("render", "--config", str(config), "--chart", str(tmp_path / "nothing.tgz"))
    assert missing.exit_code == 1 and len(missing.stderr.splitlines()) == 1


def test_without_a_chart_render_says_so_in_one_line(tmp_path):
    config = make_project(tmp_path)
    result = gen("render", "--config", str(config))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: chart airflow 1.22.0 is not cached and GEN_OFFLINE is set; give the chart with --chart PATH"]


def test_bad_kube_version_is_a_usage_error(tmp_path):
    result = gen("render", "--config", str(make_project(tmp_path)), "--kube-version", "one")
    assert result.exit_code == 2 and "--kube-version" in result.stderr


# --- the chart from its repository ---------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_the_chart_comes_from_the_repository_index_checked_and_cached(tmp_path, monkeypatch):
    """A chart repository on the loopback address: index.yaml and the archive, as source-controller reads them."""
    served = tmp_path / "repo"
    served.mkdir()
    shutil.copy(ARCHIVE, served / "airflow-1.22.0.tgz")
    digest = chart_source.hashlib.sha256(ARCHIVE.read_bytes()).hexdigest()
    index = {"apiVersion": "v1", "entries": {"airflow": [{"name": "airflow", "version": "1.22.0",
                                                         "urls": ["airflow-1.22.0.tgz"], "digest": digest}]}}
    (served / "index.yaml").write_text(yaml.safe_dump(index))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.delenv("GEN_OFFLINE")
        pin = config_module.load(make_project(tmp_path / "project"), "gen.yaml").chart
        pin = type(pin)(f"http://127.0.0.1:{server.server_address[1]}", pin.name, pin.version, pin.airflow_version)
        fetched = chart_source.fetch(pin)
        assert fetched.digest == digest and fetched.path == tmp_path / "cache" / "charts" / "airflow-1.22.0.tgz"
        index["entries"]["airflow"][0]["digest"] = "0" * 64
        (served / "index.yaml").write_text(yaml.safe_dump(index))
        assert chart_source.fetch(pin).origin.startswith("cache")  # cached: the repository is not asked again
        fetched.path.unlink()
        with pytest.raises(chart_source.ChartUnavailable, match="differs from the index's digest"):
            chart_source.fetch(pin)
        assert not fetched.path.exists()
    finally:
        server.shutdown()
        server.server_close()


# --- the rendered review -------------------------------------------------------------------------

def review(config: Path, *args: str):
    return gen("diff", "--config", str(config), "--chart", str(ARCHIVE), *args)


def test_a_replicas_change_names_the_worker_statefulset(tmp_path):
    config = repository(tmp_path)
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 3\n"))
    result = review(config, "--overlay", "celery-executor")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "== celery-executor, chart objects: 0 added, 0 removed, 1 changed" in lines
    assert "StatefulSet airflow/airflow-worker: spec.replicas: 1 -> 3" in lines
    assert not any(line.startswith("rolls:") for line in lines)  # more pods, none replaced
    assert result.stderr.startswith("gen: chart objects rendered with airflow 1.22.0")


def test_an_image_tag_change_shows_every_workload_that_rolls(tmp_path):
    config = repository(tmp_path)
    config.write_text(config.read_text().replace("  version: 3.3.2", "  version: 3.3.2\n  image:\n    tag: 3.3.2-python3.12", 1))
    result = review(config, "--overlay", "kubernetes-executor")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    rolls = [line for line in lines if line.startswith("rolls: ")]
    assert "rolls: Deployment airflow/airflow-scheduler: apache/airflow:3.3.2 -> apache/airflow:3.3.2-python3.12" in rolls
    assert any(line.startswith("rolls: StatefulSet airflow/airflow-triggerer") for line in rolls)
    assert ("Deployment airflow/airflow-scheduler: spec.template.spec.containers[scheduler].image: "
            "apache/airflow:3.3.2 -> apache/airflow:3.3.2-python3.12") in lines
    assert not any("checksum/" in line for line in lines if line.startswith(("Deployment", "StatefulSet", "Job")))


def test_an_airflow_cfg_change_shows_as_section_and_key(tmp_path):
    config = repository(tmp_path)
    values = tmp_path / "charts" / "airflow" / "values.yaml"
    values.write_text(values.read_text() + "\nconfig:\n  core:\n    load_examples: 'True'\n    parallelism: 64\n")
    result = review(config, "--overlay", "kubernetes-executor")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "ConfigMap airflow/airflow-config: [core] load_examples: False -> True" in lines
    assert "ConfigMap airflow/airflow-config: [core] parallelism: (unset) -> 64" in lines
    assert any(line.startswith("rolls: Deployment airflow/airflow-scheduler (") for line in lines)  # checksum
    assert any(line.startswith("left out of the summary: checksum annotations and chart labels") for line in lines)
    assert not any(line.startswith("Deployment") and "checksum/" in line for line in lines)


def test_without_the_chart_diff_says_so_and_shows_the_values_diff(tmp_path):
    config = repository(tmp_path)
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 3\n"))
    result = gen("diff", "--config", str(config), "--overlay", "celery-executor")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "gen: chart not rendered: chart airflow 1.22.0 is not cached and GEN_OFFLINE is set; showing the values "
        "diff only (give --chart PATH)"]
    assert "  values.workers.celery.replicas: 1 -> 3" in result.stdout.splitlines()
    assert "chart objects" not in result.stdout
    skipped = gen("diff", "--config", str(config), "--chart", str(ARCHIVE), "--no-render")
    assert skipped.exit_code == 1 and "chart objects" not in skipped.stdout
    assert skipped.stderr.splitlines() == ["gen: reviewing celery-executor, kubernetes-executor, "
                                           "celery-kubernetes-executor: flux.cluster names no deployed overlay",
                                           "gen: chart objects not rendered (--no-render)"]
    required = gen("diff", "--config", str(config), "--require-render")
    assert required.exit_code == 2 and required.stdout == ""
    assert required.stderr.splitlines()[-1].startswith("error: chart not rendered: chart airflow 1.22.0 is not cached")
    assert "--require-render refuses" in required.stderr


def test_markdown_of_a_namespace_change_stays_under_the_comment_limit(tmp_path):
    config = repository(tmp_path)
    config.write_text(config.read_text().replace("namespace: airflow", "namespace: data-platform", 1))
    result = review(config, "--format", "markdown")
    assert result.exit_code == 3, result.output  # a new namespace orphans the metadata database
    text = result.stdout
    assert len(text) < report.COMMENT_LIMIT
    assert text.startswith("### gen diff: `HEAD` → working tree\n")
    # What needs care comes first, then the summary table, then the folded details.
    assert text.index("#### Needs care before merging") < text.index("| celery-executor |") < text.index("<details")
    assert "<details" in text
    assert text.rstrip().splitlines()[-1].startswith("_Cut: ")
    assert "run `gen diff` in a terminal to see it all" in text.rstrip().splitlines()[-1]
    full = review(config)
    assert len(full.stdout) > report.COMMENT_LIMIT  # the terminal shows everything


def test_an_overlay_switch_is_reviewed_as_the_cluster_sees_it_with_two_renders(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEN_CACHE_DIR", str(cache))
    project = tmp_path / "project"
    config = wire(make_project(project))
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "airflow")):
        git(project, *args)
    config.write_text(config.read_text().replace("overlay: kubernetes-executor", "overlay: celery-executor", 1))
    result = review(config)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("gen: reviewing the deployed overlay as the cluster will see it, "
                                    "kubernetes-executor -> celery-executor")
    lines = result.stdout.splitlines()
    assert "starts: StatefulSet airflow/airflow-redis (redis:7.2-bookworm)" in lines
    assert any(line.startswith("starts: StatefulSet airflow/airflow-worker (") for line in lines)
    assert any(line.startswith("danger: kubernetes-executor -> celery-executor HelmRelease airflow/airflow: "
                               "values.executor: KubernetesExecutor -> CeleryExecutor: the scheduler stops") for line in lines)
    assert len(sorted((cache / "render").rglob("*.entry"))) == 2  # the old overlay on one side, the new on the other
    assert (cache / "charts" / "airflow-1.22.0.tgz").is_file()  # --chart filled the cache
    offline = gen("diff", "--config", str(config), "--require-render")
    assert offline.exit_code == 3 and offline.stdout == result.stdout


def test_synth_refuses_a_values_typo_whenever_the_chart_is_at_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    config = make_project(tmp_path / "project", values="schedular:\n  replicas: 2\n")
    unchecked = gen("synth", "--config", str(config), "--overlay", "kubernetes-executor")
    assert unchecked.exit_code == 0
    assert unchecked.stdout.splitlines()[1] == (
        "gen: charts/airflow/values.yaml not checked against the values schema of chart airflow 1.22.0: it is not "
        "cached (give --chart PATH once, or run gen diff, which fetches it)")
    for args in (("--chart", str(ARCHIVE)), ()):  # given, then from the cache --chart filled
        refused = gen("synth", "--config", str(config), *args)
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr == (f"error: {config}: charts/airflow/values.yaml: unknown key(s) schedular; the chart "
                                  f"has no such values and Helm would ignore them silently (the values schema of "
                                  f"chart airflow 1.22.0)\n")
    (tmp_path / "project" / "charts" / "airflow" / "values.yaml").write_text("scheduler:\n  replicas: 2\n")
    checked = gen("synth", "--config", str(config), "--overlay", "kubernetes-executor")
    assert checked.exit_code == 0
    assert checked.stdout.splitlines()[1] == ("gen: charts/airflow/values.yaml checked against the values schema of "
                                              "chart airflow 1.22.0")


def test_markdown_cuts_at_any_limit_and_says_so():
    before = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "n"},
              "spec": {"replicas": 1}}
    after = {**before, "spec": {"replicas": 2}}
    section = diff.compare("x", yaml.safe_dump(before), yaml.safe_dump(after))
    for limit in (1_500, 3_000, 6_000):
        text = report.markdown([section] * 20, "HEAD", limit=limit)
        assert len(text) < limit
        assert text.rstrip().splitlines()[-1].startswith("_Cut: ")


def test_a_huge_change_in_one_overlay_leaves_room_for_the_first_changes_of_the_others():
    def deployment(name: str, payload: str) -> dict:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "n"},
                "spec": {"template": {"metadata": {"annotations": {"x": payload}}}}}

    def dump(obj: dict) -> str:  # libyaml: PyYAML's own emitter takes seconds over the 2 MB text
        return yaml.dump(obj, Dumper=yaml.CSafeDumper)

    huge = "\n".join(f"line {i} " + "x" * 60 for i in range(30_000))  # about 2 MB of YAML diff
    sections = [diff.compare("celery-executor", dump(deployment("big", "a")), dump(deployment("big", huge))),
                *(diff.compare(name, dump(deployment("small", "a")), dump(deployment("small", "b")))
                  for name in ("kubernetes-executor", "celery-kubernetes-executor"))]
    text = report.markdown(sections, "HEAD")
    assert len(text) < report.COMMENT_LIMIT
    for name in ("celery-executor", "kubernetes-executor", "celery-kubernetes-executor"):
        assert f"#### {name}: gen objects" in text
    assert "<summary>changed: Deployment n/big</summary>" in text and "more line(s): run gen diff" in text
    assert text.count("<summary>changed: Deployment n/small</summary>") == 2


def test_lists_are_matched_by_name_not_position():
    before = {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}
    after = {"containers": [{"name": "b", "image": "y:2"}, {"name": "a", "image": "x:1"}]}
    assert field_changes(before, after) == [(("containers", "[b]", "image"), "y:1", "y:2")]


# --- against the helm CLI ------------------------------------------------------------------------

HELM = os.environ.get("GEN_HELM") or shutil.which("helm")


@pytest.mark.skipif(not HELM, reason="no helm CLI (set GEN_HELM to a helm binary to compare with helm template)")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_render_matches_helm_template_object_by_object(rendered, overlay, tmp_path):
    _, objects = rendered
    release = render.release([o for n, s, o in objects if n == overlay and s == render.GEN])
    values = tmp_path / "values.json"
    values.write_text(json.dumps(release.values))
    out = subprocess.run([HELM, "template", release.name, str(ARCHIVE), "--namespace", release.namespace,
                          "-f", str(values), "--kube-version", render.DEFAULT_KUBE_VERSION],
                         capture_output=True, text=True, check=True).stdout
    theirs = {object_key(d): d for d in documents(out)}
    ours = {object_key(o): o for n, s, o in objects if n == overlay and s != render.GEN}
    assert ours == theirs


def test_a_warm_review_renders_nothing_and_prints_the_same(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GEN_CACHE_DIR", str(cache))
    config = repository(tmp_path / "project")
    config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", "  celery:\n    replicas: 2\n"))
    cold = review(config, "--overlay", "celery-executor")
    assert cold.exit_code == 1, cold.output
    renders, generated = sorted((cache / "render").rglob("*.entry")), sorted((cache / "generated").rglob("*.entry"))
    assert len(renders) == 2 and len(generated) == 2  # each side rendered once, each side generated once
    stamps = {path: path.stat().st_mtime_ns for path in renders + generated}
    warm = review(config, "--overlay", "celery-executor")
    assert warm.stdout == cold.stdout and warm.exit_code == 1
    assert {path: path.stat().st_mtime_ns for path in renders + generated} == stamps
    assert sorted((cache / "render").rglob("*.entry")) == renders
    for entry in renders:  # the cache holds rendered objects, and never a secret value either
        assert render.placeholder("Secret", "airflow", "airflow-admin-password", "password") in entry.read_text()


# --- the release Flux or k3s installs, read from the objects; the chart's Chart.yaml; no render ---------------

@pytest.mark.parametrize("text, expected", [(None, render.DEFAULT_KUBE_VERSION), ("v1.30", "1.30"),
                                            ("1.31.2", "1.31"), ("1.07", "1.7")])
def test_a_kubernetes_version_is_x_y(text, expected):
    assert render.kube_version(text) == expected


@pytest.mark.parametrize("text", ["2.0", "1", "1.x", "1.30.0.1", "latest"])
def test_anything_else_is_no_kubernetes_version(text):
    with pytest.raises(ValueError, match=r"is not a Kubernetes version; give X.Y such as 1.37"):
        render.kube_version(text)


def _helm_release(spec: dict) -> dict:
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "airflow", "namespace": "flux"}, "spec": spec}


def test_a_helm_release_composes_its_values_as_flux_does():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "extra", "namespace": "flux"},
                  "data": {"values.yaml": "a: {b: 1, c: 1}\nlist: [x]\n", "port": "8080"}}
    spec = {"targetNamespace": "airflow", "values": {"a": {"c": 2}},
            "valuesFrom": [{"kind": "ConfigMap", "name": "extra"},
                           {"kind": "ConfigMap", "name": "missing", "optional": True},
                           {"kind": "ConfigMap", "name": "extra", "valuesKey": "port", "targetPath": "web.ports[0]"},
                           {"kind": "Secret", "name": "creds", "valuesKey": "pw", "targetPath": "auth.password"},
                           {"kind": "Secret", "name": "whole"}]}
    rel = render.release([config_map, _helm_release(spec)])
    assert (rel.name, rel.namespace) == ("airflow-airflow", "airflow")
    assert rel.values == {"a": {"b": 1, "c": 2}, "list": ["x"], "web": {"ports": [8080]},  # typed, as --set
                          "auth": {"password": "<Secret flux/creds key pw>"}}
    assert rel.notes == ("values file Secret flux/whole key values.yaml is read by Flux at reconcile time and not "
                         "rendered here",)


def test_a_long_release_name_is_shortened_with_a_hash_as_helm_controller_does():
    rel = render.release([_helm_release({"releaseName": "r" * 60})])
    assert len(rel.name) == 53 and rel.name.startswith("r" * 40 + "-")
    assert render.release([_helm_release({"releaseName": "r" * 60})]).name == rel.name


def test_a_target_path_helm_cannot_parse_is_one_line():
    spec = {"valuesFrom": [{"kind": "Secret", "name": "s", "targetPath": "a[x]", "valuesKey": "k"}]}
    with pytest.raises(render.RenderError, match=r"^valuesFrom targetPath 'a\[x\]': Helm cannot parse it \(error "
                                                 r"parsing index"):
        render.release([_helm_release(spec)])


def test_k3s_values_secrets_gen_does_not_write_are_noted_and_no_release_is_none():
    chart = {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": {"name": "airflow"},
             "spec": {"valuesContent": "a: 1\n", "valuesSecrets": [{"name": "mine", "keys": ["values.yaml"]}]}}
    rel = render.release([chart])
    assert (rel.name, rel.namespace, rel.values) == ("airflow", "kube-system", {"a": 1})
    assert rel.notes == ("values file Secret kube-system/mine key values.yaml is read by k3s at install time and "
                         "not rendered here",)
    assert render.release([{"apiVersion": "v1", "kind": "ConfigMap"}]) is None
    assert renders.stream([renders.OverlayRender("k3s", [], rel)], "head\nline") == (
        "# head line\n# k3s: values file Secret kube-system/mine key values.yaml is read by k3s at install time and "
        "not rendered here\n")


@pytest.mark.parametrize("members, reason", [
    ({"airflow/values.yaml": b"a: 1\n"}, "no Chart.yaml in the archive"),
    ({"airflow/Chart.yaml": b"name: [unclosed\n"}, "while parsing a flow sequence"),
    ({"airflow/Chart.yaml": b"- a list\n"}, "Chart.yaml is not a mapping"),
])
def test_a_chart_yaml_gen_cannot_read_is_one_line(tmp_path, members, reason):
    path = tar_gz(tmp_path / "chart.tgz", members)
    with pytest.raises(chart_source.ChartError) as caught:
        render.chart_pin(path, "https://charts.example")
    [line] = caught.value.problems
    assert line.startswith(f"chart {path}: Helm cannot load it (") and reason in line


def test_a_truncated_chart_is_one_line(tmp_path):
    path = tmp_path / "chart.tgz"
    path.write_bytes(ARCHIVE.read_bytes()[:300])
    with pytest.raises(chart_source.ChartError, match=r"^chart .*chart.tgz: Helm cannot load it \("):
        render.chart_files(path, ("Chart.yaml",))


def test_a_chart_pin_needs_a_version_and_an_app_version(tmp_path):
    path = tar_gz(tmp_path / "chart.tgz", {"airflow/Chart.yaml": b"name: airflow\nversion: 1.22.0\n"})
    with pytest.raises(chart_source.ChartError) as caught:
        render.chart_pin(path, "https://charts.example")
    assert caught.value.problems == [f"chart {path}: Chart.yaml names no version X.Y.Z and appVersion X.Y.Z"]
    pin = render.chart_pin(ARCHIVE, "https://charts.example")
    assert (pin.name, str(pin.version)) == ("airflow", "1.22.0")


@pytest.mark.parametrize("name", CONFIGS)
def test_the_expected_release_is_the_one_the_generated_objects_hold(synthesized, name):
    """gen diff starts each render from the release it expects, before cdk8s and kustomize run: for every
    fixture and overlay the guess is the release read from the hydrated manifests, so no render is wasted."""
    config = config_module.load(synthesized[name] / "gen.yaml")
    for overlay in OVERLAYS:
        generated = render.release(documents((synthesized[name] / "dist" / overlay / "manifests.yaml").read_text()),
                                   config)
        expected = render.expected_release(config, overlay)
        assert expected == (None if credentials.k3s_engine(config) else generated), overlay


def test_a_wrong_expectation_costs_a_render_never_the_review(tmp_path, monkeypatch):
    """A render started from a guess that the generated release does not match is not used: the real one renders."""
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "cache"))
    config = config_module.load(make_project(tmp_path / "project"))
    monkeypatch.setattr(render, "expected_release", lambda config, overlay: render.Release("guess", "elsewhere", {}))
    chart = render.load_chart(config, ARCHIVE)
    with ThreadPoolExecutor(max_workers=2) as pool:
        on_pool = renders.Renders(pool)
        on_pool.expect(chart, config, ["kubernetes-executor"])
        files = pipeline.generate(config, tmp_path / "out", ["kubernetes-executor"])
        pending = on_pool.submit(chart, {"kubernetes-executor": files["dist/kubernetes-executor/manifests.yaml"]},
                                 config)
        result = on_pool.result(pending)["kubernetes-executor"]
    assert result.release.name == "airflow" and result.release.namespace == "airflow"
    assert {o.body["kind"] for o in result.objects if o.source != render.GEN} >= {"Deployment", "StatefulSet"}
    assert all(o.namespace == "airflow" for o in result.objects if o.source != render.GEN)
