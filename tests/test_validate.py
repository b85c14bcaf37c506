"""gen validate: real schemas over what is on disk, a line per problem, and no false "valid"."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner
from support import CHART_ARCHIVE, CHART_REFERENCE, CRDS, documents, make_project

from generator.commands import cli
from generator.review import render, validate
from generator.review.chart_source import ChartArchive

SCHEMA = str(CHART_REFERENCE / "values.schema.json")
ALL = "3 overlays (celery-executor, kubernetes-executor, celery-kubernetes-executor)"


def gen_validate(project, *args):
    """gen validate, given the pinned chart (offline, the tests have no cache of it) unless a schema is named."""
    chart = [] if "--chart-schema" in args else ["--chart", str(CHART_ARCHIVE)]
    result = CliRunner().invoke(cli, ["validate", "--config", str(project / "gen.yaml"), *chart, *args],
                                catch_exceptions=False)
    return result.exit_code, result.output.splitlines()


@pytest.fixture
def project(synthesized, tmp_path):
    """A copy of the synthesized example, free to break."""
    root = tmp_path / "project"
    shutil.copytree(synthesized["example"], root)
    return root


def edit_hydrated(project, overlay, change):
    path = project / "dist" / overlay / "manifests.yaml"
    objects = documents(path.read_text())
    for obj in objects:
        change(obj)
    path.write_text(yaml.safe_dump_all(objects, sort_keys=True))


def test_generated_output_passes_every_validator(project):
    code, lines = gen_validate(project, "--crds", str(CRDS), "--chart-schema", SCHEMA)
    assert (code, lines) == (0, [f"gen validate: 36 objects in {ALL}: 36 valid, 0 not checked, 0 problems"])


@pytest.mark.parametrize("kube_version", ["1.30", "1.37", "v1.33.2"])
def test_a_kubernetes_version_can_be_chosen(project, kube_version):
    assert gen_validate(project, "--kube-version", kube_version, "--crds", str(CRDS))[0] == 0


def test_an_unknown_kubernetes_version_is_a_usage_error(project):
    result = CliRunner().invoke(cli, ["validate", "--config", str(project / "gen.yaml"), "--kube-version", "1.9"])
    assert result.exit_code == 2
    assert "'1.9' is not a Kubernetes version kubernetes-validate knows; use one of 1.25 to 1.37" in result.output


def test_custom_resources_without_a_crd_are_not_checked_never_valid(project):
    code, lines = gen_validate(project, "--overlay", "kubernetes-executor")
    assert code == 0
    assert lines == [
        "not checked, no CRD given: helm.toolkit.fluxcd.io/v2 HelmRelease (1), source.toolkit.fluxcd.io/v1 "
        "HelmRepository (1), traefik.io/v1alpha1 IngressRoute (1), traefik.io/v1alpha1 Middleware (1); pass the CRDs "
        "with --crds (Flux's gotk-components.yaml, Traefik's CRDs) to check them too",
        "gen validate: 12 objects in 1 overlay (kubernetes-executor): 8 valid, 4 not checked, 0 problems",
    ]


def test_each_validator_reports_a_broken_object_by_overlay_object_and_path(project):
    def breaks(obj):
        if obj["kind"] == "PersistentVolumeClaim" and obj["metadata"]["name"] == "airflow-dags":
            obj["spec"]["bogusField"] = 1
        if obj["kind"] == "IngressRoute":
            obj["spec"]["routes"][0]["typo"] = True
        if obj["kind"] == "HelmRelease":
            obj["spec"]["timeout"] = "15 minutes"
            obj["spec"]["values"]["executor"] = "Celery, Kubernetes"
            obj["spec"]["values"]["workers"]["replicaz"] = 2
            obj["spec"]["values"]["schedular"] = {"replicas": 2}

    edit_hydrated(project, "celery-executor", breaks)
    code, lines = gen_validate(project, "--overlay", "celery-executor", "--crds", str(CRDS),
                               "--chart-schema", SCHEMA)
    assert code == 1
    joined = "\n".join(lines)
    assert ("celery-executor PersistentVolumeClaim/airflow/airflow-dags: spec: unknown key(s) bogusField; "
            "allowed: accessModes, dataSource, ") in joined
    assert "celery-executor IngressRoute/airflow/airflow: spec.routes[0]: unknown key(s) typo; allowed: " in joined
    assert "celery-executor HelmRelease/airflow/airflow: spec.timeout: '15 minutes' does not match " in joined
    assert "celery-executor HelmRelease/airflow/airflow: spec.values.executor: 'Celery, Kubernetes' does not " in joined
    assert ("celery-executor HelmRelease/airflow/airflow: spec.values.workers: unknown key(s) replicaz; "
            "allowed: ") in joined
    assert ("celery-executor HelmRelease/airflow/airflow: spec.values: unknown key(s) schedular; the chart has no "
            "such values and Helm would ignore them silently") in joined
    assert lines[-1] == ("gen validate: 12 objects in 1 overlay (celery-executor): 9 valid, 0 not checked, "
                         "6 problems")


def test_helmrelease_values_are_checked_even_without_its_crd(project):
    edit_hydrated(project, "kubernetes-executor",
                  lambda obj: obj["kind"] == "HelmRelease" and obj["spec"]["values"].update(executor=7))
    code, lines = gen_validate(project, "--overlay", "kubernetes-executor", "--chart-schema", SCHEMA)
    assert code == 1
    assert "kubernetes-executor HelmRelease/airflow/airflow: spec.values.executor: 7 is not of type 'string'" in lines


def test_crds_come_from_files_or_directories_with_other_objects_mixed_in(project, tmp_path):
    """Like Flux's gotk-components.yaml: Namespaces, Deployments and CRDs in one multi-document file."""
    bundle = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}},
              {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "helm-controller"}}]
    for path in sorted(CRDS.glob("*.toolkit.fluxcd.io_*.yaml")):
        bundle += documents(path.read_text())
    (tmp_path / "gotk-components.yaml").write_text(yaml.safe_dump_all(bundle))
    traefik = tmp_path / "traefik-crds"
    traefik.mkdir()
    for path in CRDS.glob("traefik.io_*.yaml"):
        shutil.copy(path, traefik)
    code, lines = gen_validate(project, "--crds", str(tmp_path / "gotk-components.yaml"), "--crds", str(traefik))
    assert (code, lines[-1]) == (0, f"gen validate: 36 objects in {ALL}: 36 valid, 0 not checked, 0 problems")


def test_crd_paths_that_hold_no_crd_are_refused(project, tmp_path):
    (tmp_path / "notes.yaml").write_text("kind: ConfigMap\n")
    result = CliRunner().invoke(cli, ["validate", "--config", str(project / "gen.yaml"), "--crds",
                                      str(tmp_path / "notes.yaml"), "--crds", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: {tmp_path / 'notes.yaml'}: --crds: holds no CustomResourceDefinition",
        f"error: {tmp_path / 'nope'}: --crds: file or directory not found",
    ]


def test_a_chart_schema_without_values_yaml_beside_it_skips_only_required(project, tmp_path):
    """The chart's `required` entries are met by its defaults; alone, the schema still checks the rest."""
    shutil.copy(SCHEMA, tmp_path / "values.schema.json")
    alone = str(tmp_path / "values.schema.json")
    assert gen_validate(project, "--crds", str(CRDS), "--chart-schema", alone)[0] == 0
    edit_hydrated(project, "celery-executor",
                  lambda obj: obj["kind"] == "HelmRelease" and obj["spec"]["values"].update(executor=None))
    code, lines = gen_validate(project, "--overlay", "celery-executor", "--crds", str(CRDS), "--chart-schema", alone)
    assert code == 1
    assert "celery-executor HelmRelease/airflow/airflow: spec.values.executor: None is not of type 'string'" in lines


def test_missing_output_is_a_problem_not_a_pass(tmp_path):
    config = make_project(tmp_path)
    code, lines = gen_validate(tmp_path, "--overlay", "kubernetes-executor")
    assert code == 1
    assert lines == ["kubernetes-executor: dist/kubernetes-executor/manifests.yaml: missing; run `gen synth` first",
                     "gen validate: 0 objects in 1 overlay (kubernetes-executor): 0 valid, 0 not checked, 1 problems"]
    assert config.exists()


def test_the_config_rules_run_too(project):
    config = project / "gen.yaml"
    config.write_text(config.read_text().replace("prefixMode: keep", "prefixMode: strip"))
    code, lines = gen_validate(project, "--crds", str(CRDS))
    assert code == 1
    assert lines[0].startswith(f"{config}: ingress.prefixMode: 'strip' is not supported on Airflow 3")
    assert lines[-1].endswith("36 valid, 0 not checked, 1 problems")


def test_validate_help_imports_neither_cdk8s_nor_kubernetes_validate():
    code = ("import sys; from click.testing import CliRunner; from generator.commands import cli; "
            "r = CliRunner().invoke(cli, sys.argv[1:]); assert r.exit_code == 0, r.output; "
            "assert not {'cdk8s', 'jsii', 'kubernetes_validate'} & set(sys.modules), 'heavy import'")
    for args in (["--help"], ["validate", "--help"]):
        subprocess.run([sys.executable, "-c", code, *args], check=True)


def test_validating_never_starts_node(project):
    code = ("import sys; from click.testing import CliRunner; from generator.commands import cli; "
            f"r = CliRunner().invoke(cli, ['validate', '--config', {str(project / 'gen.yaml')!r}]); "
            "assert r.exit_code == 0, r.output; assert 'cdk8s' not in sys.modules, 'cdk8s imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hostile_manifests_on_disk_are_refused_in_one_line(project):
    path = project / "dist" / "kubernetes-executor" / "manifests.yaml"
    path.write_text("a: &a [x, x]\nb: [*a, *a]\n")
    code, lines = gen_validate(project, "--overlay", "kubernetes-executor")
    assert code == 1
    assert lines[0] == ("kubernetes-executor: dist/kubernetes-executor/manifests.yaml: b[0]: anchors and aliases "
                        "(*name) are not allowed; write the value out (line 2, column 5)")


def test_the_cluster_wiring_file_is_validated_too(synthesized, tmp_path):
    root = tmp_path / "wired"
    shutil.copytree(synthesized["tls-secret"], root)
    code, lines = gen_validate(root, "--crds", str(CRDS), "--chart-schema", SCHEMA)
    assert code == 0, lines
    assert lines[-1].startswith("gen validate: ") and "0 not checked, 0 problems" in lines[-1]
    wiring = root / "clusters" / "production" / "airflow.yaml"
    text = wiring.read_text()
    wiring.write_text(text.replace("  prune: true\n", "  prune: yes please\n"))
    code, lines = gen_validate(root, "--crds", str(CRDS))
    assert code == 1
    assert any(line.startswith("clusters/production/airflow.yaml Kustomization/flux-system/data-platform-orchestrator: "
                               "spec.prune: ") for line in lines), lines


# --- the validators' edges on their own: odd schemas, objects that are none, kinds Kubernetes lacks ---------


def test_int_or_string_becomes_either_and_a_nullable_type_takes_null():
    either = [{"type": "integer"}, {"type": "string"}]
    assert validate.openapi_to_jsonschema(
        {"properties": {"port": {"x-kubernetes-int-or-string": True}, "note": {"type": "string", "nullable": True}}}
    ) == {"properties": {"port": {"x-kubernetes-int-or-string": True, "anyOf": either},
                         "note": {"type": ["string", "null"]}},
          "additionalProperties": False}


@pytest.mark.parametrize("text, expected", [
    (b"{not json", "x: not a JSON schema: Expecting property name enclosed in double quotes"),
    (b"[1]", "x: not a JSON schema: the top level must be an object"),
])
def test_a_chart_schema_that_is_no_json_object_is_one_line(tmp_path, text, expected):
    with pytest.raises(validate.GenError) as raised:
        validate.ChartSchema.build(tmp_path / "s.json", text, None, "x")
    [line] = raised.value.problems
    assert line.startswith(expected)


def test_a_chart_schema_that_cannot_be_read_or_a_chart_without_one_is_one_line(tmp_path):
    with pytest.raises(validate.GenError) as raised:
        validate.ChartSchema.load(tmp_path / "missing.json")
    assert raised.value.problems == [f"{tmp_path / 'missing.json'}: --chart-schema: cannot read: No such file or "
                                     f"directory"]
    chart_dir = tmp_path / "airflow"
    chart_dir.mkdir()
    chart = render.Chart(ChartArchive(chart_dir, "d", "here"), "airflow", "1.22.0")
    with pytest.raises(validate.GenError) as raised:
        validate.ChartSchema.from_chart(chart)
    assert raised.value.problems == ["chart airflow 1.22.0: has no values.schema.json; give --chart-schema PATH"]


def test_what_is_no_kubernetes_object_is_invalid_and_a_kind_kubernetes_lacks_is_not_checked():
    validators = validate.Validators(kube_version=validate.kube_version("1.37"))
    assert validate.check_object(["a list"], validators) == (
        validate.INVALID, [("(object)", "not a Kubernetes object: apiVersion and kind are required")])
    assert validate.object_name(["a list"]) == "(not an object)"
    assert validate.check_object({"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g"}}, validators) == (
        validate.UNCHECKED, [("apiVersion", "not checked: Kubernetes 1.37 has no v1 Gadget; pass its CRD with --crds")])
