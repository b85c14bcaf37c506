"""gen import: the post's hand-made install becomes a gen project that deploys the same Airflow.

The post's three files are cut out of ../shared/seed at test time and their ${...} placeholders filled
with values of our own (credentials with characters that need escaping in a URL).
"""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from click.testing import CliRunner
from support import CHART_ARCHIVE, CHART_REFERENCE, CRDS, SHARED, documents, make_project

from generator import config
from generator.commands import cli
from generator.knowledge import credentials
from generator.onboarding.importing import assembly, findings, ingresses, passthrough, routes, volumes

POST = SHARED / "seed" / "000_da1c5e88897799af.txt"
FILLED = {
    "PATH": "/srv/airflow-data", "DDNS": "airflow.home.example.net", "RESOLVER": "homeresolver",
    "USERNAME": "airflow_admin", "EMAIL": "ops@example.org", "FIRSTNAME": "Ada", "LASTNAME": "Lovelace",
    "PASSWORD": "Op3n,Se@same=now/x", "POSTGRESPASSWORD": "pg-R00t!pass%21",
}
CREDENTIALS = (FILLED["PASSWORD"], FILLED["POSTGRESPASSWORD"])


def _blocks() -> dict[str, list[str]]:
    """The post's ```yaml <file> blocks, by file name, in order."""
    blocks: dict[str, list[str]] = {}
    for name, body in re.findall(r"```yaml (\S+)\n(.*?)```", POST.read_text(), re.S):
        blocks.setdefault(name, []).append(body)
    return blocks


def _fill(text: str, filled: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: filled[m[1]], text)


@pytest.fixture
def post(tmp_path) -> dict[str, Path]:
    """values.yaml, storage.yaml (both of the post's storage blocks) and traefik.yaml, filled."""
    blocks = _blocks()
    files = {"values": "\n".join(blocks["values.yaml"]), "storage": "---\n".join(blocks["storage.yaml"]),
             "traefik": "\n".join(blocks["traefik.yaml"])}
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / "inputs" / f"{name}.yaml"
        paths[name].parent.mkdir(exist_ok=True)
        paths[name].write_text(_fill(text, FILLED))
    return paths


def gen(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def gen_import(post: dict[str, Path], project: Path, *extra: str, values: Path | None = None):
    return gen("import", "--values", str(values or post["values"]), "--manifests", str(post["storage"]),
               "--manifests", str(post["traefik"]), *extra, str(project))


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _forms(secret: str) -> list[str]:
    """A credential as it could leak: raw, URL-encoded, base64."""
    return [secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()]


@pytest.fixture
def imported(post, tmp_path):
    project = tmp_path / "project"
    result = gen_import(post, project)
    assert result.exit_code == 0, result.output
    return project, result


def test_the_post_imports_synthesizes_and_validates(imported):
    project, _ = imported
    assert gen("synth", "--config", str(project / "gen.yaml")).exit_code == 0
    result = gen("validate", "--config", str(project / "gen.yaml"), "--crds", str(CRDS),
                 "--chart-schema", str(CHART_REFERENCE / "values.schema.json"))
    assert result.exit_code == 0 and ", 0 problems" in result.stdout, result.stdout


def test_the_project_keeps_the_posts_route_paths_sizes_and_modes(imported):
    project, _ = imported
    loaded = config.load(project / "gen.yaml")
    assert (loaded.namespace, loaded.release) == ("airflow", "airflow")
    assert (loaded.ingress.host, loaded.ingress.path_prefix, loaded.ingress.tls.cert_resolver) == \
        ("airflow.home.example.net", "/airflow", "homeresolver")
    assert loaded.ingress.entry_points == ("websecure",)
    assert loaded.ingress.api_group == "traefik.containo.us"  # the post's Traefik v2 API
    dags, logs = loaded.storage.dags, loaded.storage.logs
    assert (dags.host_path, dags.size, dags.access_mode) == ("/srv/airflow-data/dags", "1Gi", "ReadOnlyMany")
    assert (logs.host_path, logs.size, logs.access_mode) == ("/srv/airflow-data/logs", "10Gi", "ReadWriteMany")
    assert loaded.storage.class_name == "airflow-storage"
    assert loaded.cluster.distribution == "kubeadm"  # the post installed local-path-provisioner by hand


def test_the_synthesized_objects_carry_them(imported):
    project, _ = imported
    gen("synth", "--config", str(project / "gen.yaml"), "--overlay", "celery-executor")
    objects = documents((project / "dist" / "celery-executor" / "manifests.yaml").read_text())
    volumes = {o["spec"]["hostPath"]["path"]: o["spec"] for o in objects if o["kind"] == "PersistentVolume"
               and "hostPath" in o["spec"]}
    assert volumes["/srv/airflow-data/dags"]["capacity"] == {"storage": "1Gi"}
    assert volumes["/srv/airflow-data/dags"]["accessModes"] == ["ReadOnlyMany"]
    assert volumes["/srv/airflow-data/logs"]["capacity"] == {"storage": "10Gi"}
    assert volumes["/srv/airflow-data/logs"]["accessModes"] == ["ReadWriteMany"]
    route = next(o for o in objects if o["kind"] == "IngressRoute")
    assert route["spec"]["routes"][0]["match"] == "Host(`airflow.home.example.net`) && PathPrefix(`/airflow`)"
    assert route["spec"]["tls"] == {"certResolver": "homeresolver"}
    release = next(o for o in objects if o["kind"] == "HelmRelease")
    assert release["spec"]["releaseName"] == "airflow" and release["metadata"]["namespace"] == "airflow"
    assert release["spec"]["values"]["postgresql"]["image"]["tag"] == "11"


def test_credentials_go_to_standard_output_and_into_no_written_file(imported):
    project, result = imported
    gen("synth", "--config", str(project / "gen.yaml"))
    for path, text in _files(project).items():
        for secret in CREDENTIALS:
            for form in _forms(secret):
                assert form not in text, f"{path} holds a credential"
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(result.stdout) if d}
    assert secrets["airflow-postgresql-gitops"]["stringData"] == {"postgres-password": FILLED["POSTGRESPASSWORD"],
                                                                  "password": FILLED["PASSWORD"]}
    assert secrets["airflow-metadata-gitops"]["stringData"]["connection"] == (
        f"postgresql://airflow_admin:{quote(FILLED['PASSWORD'], safe='')}@airflow-postgresql.airflow:5432/postgres"
        f"?sslmode=disable")
    assert secrets["airflow-admin-password"]["stringData"] == {"password": FILLED["PASSWORD"]}
    assert all(d["kind"] == "Secret" and d["metadata"]["namespace"] == "airflow" for d in secrets.values())
    assert "# Rotate these credentials" in result.stdout
    for secret in CREDENTIALS:
        assert secret not in result.stderr  # the plan names where credentials went, never their values


def test_the_new_release_reads_exactly_the_secrets_printed_or_kept(imported):
    project, result = imported
    loaded = config.load(project / "gen.yaml")
    printed = {d["metadata"]["name"] for d in yaml.safe_load_all(result.stdout) if d}
    kept = {"airflow-fernet-key", "airflow-redis-password", "airflow-broker-url"}  # the chart's hook Secrets
    needed = {name for _spec, name in credentials.required(loaded, ["celery-executor"])}
    assert needed == printed | kept
    for name in kept:
        assert f"Secret airflow/{name}: the chart made it once at install" in result.stderr


def test_the_plan_covers_adoption_volumes_changes_and_what_cannot_carry_over(imported):
    _, result = imported
    plan = result.stderr
    assert "spec.releaseName airflow" in plan and "storageNamespace" in plan and "upgrades it" in plan
    assert "PersistentVolume airflow-airflow-dags" in plan and "/srv/airflow-data/dags" in plan
    assert "data-airflow-postgresql-0" in plan
    assert "postgresql.image.tag '11'" in plan and "PostgreSQL 16" in plan
    assert "stripPrefix" in plan and "prefixMode keep" in plan  # and what it means on Airflow 3
    assert "+ executor: 'CeleryExecutor'" in plan and "- postgresql.auth.password: <credential> (removed)" in plan
    assert "gen render" in plan
    assert "passed through unchanged to charts/airflow/values.yaml: postgresql.enabled, postgresql.image.tag" in plan
    # chart 1.22 reads webserver.defaultUser at createUserJob.defaultUser: the plan shows the move, and no
    # webserver: {} is left behind
    assert "moved webserver.defaultUser -> createUserJob.defaultUser (deprecated in chart 1.19.0)" in plan
    assert "  moved: webserver.defaultUser.username -> createUserJob.defaultUser.username\n" in plan
    assert "+ webserver: {}" not in plan and "+ createUserJob.defaultUser.username" not in plan


def test_a_second_import_refuses_and_changes_nothing(imported, post):
    project, _ = imported
    before = _files(project)
    result = gen_import(post, project)
    assert result.exit_code == 1 and result.stdout == ""
    assert "gen.yaml: already exists; gen never overwrites a file" in result.stderr
    assert _files(project) == before


def test_every_value_not_mapped_is_named(post, tmp_path):
    values = post["values"].read_text() + ("scheduler:\n  replicas: 2\nconfig:\n  smtp:\n    smtp_password: "
                                           "mailpw-9\nexecutor: KubernetesExecutor\n")
    post["values"].write_text(values)
    extra = tmp_path / "inputs" / "extra.yaml"
    extra.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: airflow-extra, namespace: airflow}\n")
    result = gen("import", "--values", str(post["values"]), "--manifests", str(post["storage"]), "--manifests",
                 str(post["traefik"]), "--manifests", str(extra), str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert "scheduler.replicas" in result.stderr and "ConfigMap airflow/airflow-extra: not mapped" in result.stderr
    assert "config.smtp.smtp_password" in result.stderr  # a credential gen has no Secret for: left out, named
    assert all("mailpw-9" not in text for text in _files(tmp_path / "p").values())
    assert config.load(tmp_path / "p" / "gen.yaml").base_values["scheduler"] == {"replicas": 2}
    assert "deploy the kubernetes-executor overlay" in (tmp_path / "p" / "gen.yaml").read_text()


def test_flux_cluster_gets_the_imported_overlay_when_asked_for(post, tmp_path):
    result = gen_import(post, tmp_path / "p", "--flux-cluster", "home", "--flux-url", "https://git.example.org/x.git")
    assert result.exit_code == 0, result.output
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert (loaded.flux.cluster.name, loaded.flux.cluster.overlay) == ("home", "celery-executor")
    assert gen_import(post, tmp_path / "q", "--flux-cluster", "home").exit_code == 2


def test_airflow_2_keeps_the_stripped_prefix_and_its_executor(post, tmp_path):
    post["values"].write_text(post["values"].read_text() + "airflowVersion: 2.9.3\nexecutor: CeleryKubernetesExecutor\n")
    result = gen_import(post, tmp_path / "p")
    assert result.exit_code == 0, result.output
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert loaded.ingress.prefix_mode == "strip" and loaded.airflow.version == "2.9.3"
    assert loaded.overlays["celery-kubernetes-executor"].executor == "CeleryKubernetesExecutor"
    assert "Airflow 2's legacy mode" in result.stderr


def test_a_claim_without_a_static_volume_is_mounted_as_it_is(post, tmp_path):
    post["storage"].write_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: airflow-dags-claim, namespace: airflow}\n"
        "spec: {storageClassName: longhorn, accessModes: [ReadWriteMany], resources: {requests: {storage: 5Gi}}}\n")
    result = gen_import(post, tmp_path / "p")
    assert result.exit_code == 0, result.output
    dags = config.load(tmp_path / "p" / "gen.yaml").storage.dags
    assert (dags.type, dags.existing_claim) == ("existingClaim", "airflow-dags-claim")
    assert "keeps its volume" in result.stderr


def _one_line_errors(result) -> list[str]:
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and lines and all(line.startswith("error: ") for line in lines), result.output
    assert "Traceback" not in result.output
    return lines


HOSTILE = {
    "a route that widens the rule": ("traefik", "Host(`airflow.home.example.net`) && PathPrefix(`/airflow`)",
                                     "Host(`a.example.net`) || Host(`b.example.net`)", "is not a rule gen can carry"),
    "a host that breaks out of the rule": ("traefik", "Host(`airflow.home.example.net`)",
                                           'Host("a.example.net`) || Host(`x")', "becomes gen.yaml ingress.host"),
    "an upper-case host": ("traefik", "airflow.home.example.net", "Airflow.Example.NET",
                           "spec.routes.match: becomes gen.yaml ingress.host"),
    "no tls": ("traefik", "  tls:\n    certResolver: homeresolver\n", "", "spec.tls: has no certResolver"),
    "a size gen cannot write": ("storage", "storage: 10Gi", "storage: 10.5Gi",
                                "spec.capacity.storage: becomes gen.yaml storage.logs.size"),
    "an access mode logs cannot have": ("storage", "    - ReadWriteMany", "    - ReadOnlyMany",
                                        "becomes gen.yaml storage.logs.accessMode"),
    "a system directory": ("storage", "/srv/airflow-data/logs", "/etc/airflow", "system directory of the node"),
    "an executor gen has no overlay for": ("values", "postgresql:\n", "executor: LocalExecutor\npostgresql:\n",
                                           "has no gen overlay"),
    "an anchor": ("values", "  enabled: true\n  image:", "  enabled: &on true\n  x: *on\n  image:",
                  "anchors and aliases"),
    "a list instead of values": ("values", None, "- a\n- b\n", "must be a mapping of Helm values"),
    "an object without a kind": ("storage", "kind: StorageClass\n", "", "is not a Kubernetes object"),
    "routes that are text": ("traefik", "  routes:\n", "  routes: oops\n  x:\n", "spec.routes: must be a list"),
    "a connection that is text": ("values", "  metadataConnection:\n", "  metadataConnection: oops\n  x:\n",
                                  "data.metadataConnection: must be a mapping"),
    "a middleware name that is a list": ("traefik", "    - name: airflow-webserver\n    services:",
                                         "    - name: [airflow-webserver]\n    services:",
                                         "middlewares[0].name: must be a string"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_half_filled_inputs_get_one_line_errors_and_nothing_is_written(post, tmp_path, case):
    which, old, new, expected = HOSTILE[case]
    text = post[which].read_text()
    if old is not None:
        assert old in text
    post[which].write_text(new if old is None else text.replace(old, new, 1))
    result = gen_import(post, tmp_path / "p")
    lines = _one_line_errors(result)
    assert any(expected in line for line in lines), lines
    assert not (tmp_path / "p").exists()
    assert all(secret not in result.output for secret in CREDENTIALS)


def test_a_missing_values_file_and_a_clashing_namespace_are_reported_together(post, tmp_path):
    result = gen("import", "--values", str(tmp_path / "nope.yaml"), "--manifests", str(post["storage"]),
                 str(tmp_path / "p"))
    assert _one_line_errors(result) == [f"error: {tmp_path / 'nope.yaml'}: file not found"]
    result = gen_import(post, tmp_path / "p", "--namespace", "other")
    lines = _one_line_errors(result)
    assert len(lines) >= 3 and all("--namespace is 'other'" in line for line in lines)


def test_the_values_option_is_required(tmp_path):
    result = gen("import", str(tmp_path))
    assert result.exit_code == 2 and "--values" in result.stderr


V3_VALUES = """\
executor: KubernetesExecutor
airflowVersion: 3.1.7
fernetKey: ZmVybmV0LWtleS1mb3ItdGVzdHMtMzItYnl0ZXMtb2s=
dags:
  persistence: {enabled: true, existingClaim: team-dags}
scheduler: {replicas: 2}
"""
V3_MANIFESTS = """\
apiVersion: v1
kind: PersistentVolume
metadata: {name: nfs-dags}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteMany]
  nfs: {server: nfs.lan, path: /exports/dags}
  storageClassName: nfs-static
  persistentVolumeReclaimPolicy: Retain
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: team-dags, namespace: data}
spec: {volumeName: nfs-dags, storageClassName: nfs-static, accessModes: [ReadWriteMany]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: task-logs, namespace: data}
spec: {storageClassName: longhorn, accessModes: [ReadWriteMany]}
---
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: wf, namespace: data}
spec:
  entryPoints: [websecure]
  routes:
    - match: PathPrefix(`/tools/airflow`) && Host(`wf.corp.example`)
      kind: Rule
      services: [{name: wf-api-server, port: 8080}]
  tls: {secretName: wf-tls}
"""


def test_another_install_traefik_v3_nfs_and_a_provisioned_claim(tmp_path):
    (tmp_path / "values.yaml").write_text(V3_VALUES)
    (tmp_path / "all.yaml").write_text(V3_MANIFESTS)
    project = tmp_path / "p"
    result = gen("import", "--values", str(tmp_path / "values.yaml"), "--manifests", str(tmp_path / "all.yaml"),
                 str(project))
    assert result.exit_code == 0, result.output
    loaded = config.load(project / "gen.yaml")
    assert (loaded.namespace, loaded.release, loaded.ingress.host, loaded.ingress.path_prefix) == \
        ("data", "wf", "wf.corp.example", "/tools/airflow")
    assert loaded.ingress.tls.secret_name == "wf-tls" and loaded.ingress.api_group == "traefik.io"
    assert (loaded.storage.dags.type, loaded.storage.dags.nfs.server, loaded.storage.dags.size) == ("nfs", "nfs.lan", "5Gi")
    assert (loaded.storage.logs.type, loaded.storage.logs.existing_claim) == ("existingClaim", "task-logs")
    fernet = next(d for d in yaml.safe_load_all(result.stdout) if d and d["metadata"]["name"] == "wf-fernet-key")
    assert fernet["stringData"] == {"fernet-key": "ZmVybmV0LWtleS1mb3ItdGVzdHMtMzItYnl0ZXMtb2s="}
    assert gen("synth", "--config", str(project / "gen.yaml"), "--overlay", "kubernetes-executor").exit_code == 0
    checked = gen("validate", "--config", str(project / "gen.yaml"), "--overlay", "kubernetes-executor",
                  "--crds", str(CRDS), "--chart-schema", str(CHART_REFERENCE / "values.schema.json"))
    assert checked.exit_code == 0, checked.stdout
    assert all("ZmVybmV0" not in text for text in _files(project).values())


def test_a_claim_with_gens_own_name_is_mounted_as_it_is(post, tmp_path):
    post["storage"].write_text(post["storage"].read_text().replace("airflow-local-dags-folder", "airflow-dags"))
    result = gen_import(post, tmp_path / "p")
    assert result.exit_code == 0, result.output
    dags = config.load(tmp_path / "p" / "gen.yaml").storage.dags
    assert (dags.type, dags.existing_claim) == ("existingClaim", "airflow-dags")


def test_with_the_chart_the_plan_shows_the_rendered_change_and_no_credential(post, tmp_path):
    result = gen_import(post, tmp_path / "project", "--chart", str(CHART_ARCHIVE))
    assert result.exit_code == 0, result.stderr
    plan = result.stderr
    assert ("The chart's objects, rendered from the installed values by chart 1.22.0 and from the new by chart "
            "1.22.0 [stand-in: the installed chart's version was not given") in plan
    # gen diff's danger rules run first: the post's workers kept logs in their volumeClaimTemplates
    dangers = plan.split("0. Danger", 1)[1].split("\n1. ", 1)[0]
    assert "danger: celery-executor StatefulSet airflow-worker: spec.volumeClaimTemplates" in dangers, dangers
    # gen names the Secrets, so the chart stops making its own; the workloads read the renamed ones.
    assert "    removed: Secret airflow/airflow-fernet-key\n" in plan
    assert "valueFrom.secretKeyRef.name: airflow-metadata -> airflow-metadata-gitops" in plan
    assert "added: NetworkPolicy airflow/airflow-postgresql-ingress" in plan
    for secret in CREDENTIALS:
        assert all(form not in plan for form in _forms(secret)), "a credential reached the plan"


def test_without_the_chart_the_plan_says_how_to_see_the_rendered_change(post, tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_OFFLINE", "1")
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = gen_import(post, tmp_path / "project")
    assert result.exit_code == 0, result.stderr
    assert "The chart's objects were not rendered (" in result.stderr and "give --chart PATH" in result.stderr


PASSED_THROUGH = """\
nodeSelector: {kubernetes.io/os: linux}
webserver:
  serviceAccount:
    annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/airflow"}
images:
  airflow: {tag: ~}
workers:
  resources: {limits: {memory: 2Gi}}
dags:
  gitSync:
    enabled: true
    repo: https://git.example.org/team/dags.git
    branch: main
    rev: refs/tags/dags-v1.3.18
    wait: 30
    maxFailures: 3
    resources: {limits: {memory: 256Mi}}
"""


def test_keys_gen_does_not_set_pass_through_as_they_are(tmp_path):
    (tmp_path / "values.yaml").write_text(V3_VALUES.replace("dags:\n  persistence: {enabled: true, existingClaim: "
                                                            "team-dags}\n", "") + PASSED_THROUGH)
    (tmp_path / "all.yaml").write_text("---\n".join(V3_MANIFESTS.split("---\n")[2:]))  # the logs claim, the route
    result = gen("import", "--values", str(tmp_path / "values.yaml"), "--manifests", str(tmp_path / "all.yaml"),
                 str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    base = config.load(tmp_path / "p" / "gen.yaml").base_values
    assert base["nodeSelector"] == {"kubernetes.io/os": "linux"}  # a key with dots stays one key
    assert base["webserver"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/airflow"}
    # chart 1.22 reads workers.resources at workers.celery.resources and workers.kubernetes.resources: moved there
    assert base["images"] == {"airflow": {"tag": None}} and base["workers"] == {
        "celery": {"resources": {"limits": {"memory": "2Gi"}}},
        "kubernetes": {"resources": {"limits": {"memory": "2Gi"}}}}
    assert "moved workers.resources -> workers.celery.resources and workers.kubernetes.resources" in result.stderr
    assert ("\n  moved: workers.resources.limits.memory -> workers.celery.resources.limits.memory and "
            "workers.kubernetes.resources.limits.memory\n") in result.stderr
    # every git-sync key gen does not generate is the user's; the pinned tag becomes the ref gen writes
    assert base["dags"]["gitSync"] == {"rev": "refs/tags/dags-v1.3.18", "wait": 30, "maxFailures": 3,
                                       "resources": {"limits": {"memory": "256Mi"}}}
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert loaded.storage.dags.git_sync.branch == "refs/tags/dags-v1.3.18"
    assert "dags.gitSync.repo" in result.stderr and "pins the DAGs" in result.stderr


def test_the_installed_chart_renders_the_old_side_and_names_the_airflow_that_runs(post, tmp_path):
    installed = CHART_REFERENCE.parent / "airflow-chart-1.20.0" / "airflow-1.20.0.tgz"
    result = gen_import(post, tmp_path / "p", "--chart", str(CHART_ARCHIVE),
                        "--installed-chart", str(installed))
    assert result.exit_code == 0, result.stderr
    assert "rendered from the installed values by chart 1.20.0 and from the new by chart 1.22.0:" in result.stderr
    assert "[stand-in" not in result.stderr and "names no Airflow version and the installed chart" not in result.stderr
    # the values name no version: the installed chart's appVersion is the one that runs, and gen.yaml keeps it
    assert str(config.load(tmp_path / "p" / "gen.yaml").airflow_version) == "3.1.8"


def test_an_installed_version_that_cannot_be_had_is_said_once_and_marks_the_findings(post, tmp_path, monkeypatch):
    monkeypatch.setenv("GEN_OFFLINE", "1")
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    result = gen_import(post, tmp_path / "p", "--chart", str(CHART_ARCHIVE),
                        "--installed-version", "1.10.0")
    assert result.exit_code == 0, result.stderr
    assert "[stand-in: chart airflow 1.10.0 cannot be had (" in result.stderr
    dangers = result.stderr.split("0. Danger", 1)[1].split("\n1. ", 1)[0]
    assert all(line.endswith("]") and "[stand-in: " in line for line in dangers.splitlines()[1:]), dangers
    assert gen_import(post, tmp_path / "q", "--installed-version", "one.ten").exit_code == 1


def test_an_unpinned_bundled_postgresql_keeps_the_installed_charts_postgresql_11(post, tmp_path, monkeypatch):
    """Charts up to 1.11 run PostgreSQL 11 by their own values' pin: the values need not say it."""
    monkeypatch.setenv("GEN_OFFLINE", "1")
    monkeypatch.setenv("GEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    post["values"].write_text(post["values"].read_text().replace('  image:\n    tag: "11"\n', ""))
    assert "tag: \"11\"" not in post["values"].read_text()
    result = gen_import(post, tmp_path / "p", "--installed-version", "1.10.0")
    assert result.exit_code == 0, result.stderr
    base = config.load(tmp_path / "p" / "gen.yaml").base_values
    assert base["postgresql"]["image"] == {"tag": "11"}
    assert "chart 1.10.0 runs its bundled PostgreSQL from image tag '11'" in result.stderr
    cannot = result.stderr.split("4. What cannot carry over", 1)[1]
    assert "the database files are PostgreSQL 11; chart 1.22.0 bundles PostgreSQL 16, which cannot open them" in cannot
    # a release from 1.12 on bundles PostgreSQL 16: nothing to keep
    result = gen_import(post, tmp_path / "q", "--installed-version", "1.20.0")
    assert result.exit_code == 0, result.stderr
    assert "image" not in config.load(tmp_path / "q" / "gen.yaml").base_values.get("postgresql", {})


def _settings(project: Path) -> tuple:
    """What a project deploys, as gen.yaml and the values file set it: the loaded config without where it was read,
    each Secret by the name the release reads, the Airflow version it runs."""
    loaded = config.load(project / "gen.yaml")
    bare = dataclasses.replace(loaded, source=None, secrets=None,
                               airflow=dataclasses.replace(loaded.airflow, version=None))
    names = {spec.setting: credentials.name(loaded, spec) for spec in credentials.SPECS}
    return bare, names, loaded.airflow_version


def test_a_round_trip_imports_the_rendered_new_side_to_the_same_settings(imported, tmp_path):
    project, _result = imported
    overlay = "celery-executor"
    assert gen("synth", "--config", str(project / "gen.yaml"), "--overlay", overlay).exit_code == 0
    rendered = gen("render", "--config", str(project / "gen.yaml"), "--overlay", overlay, "--chart", str(CHART_ARCHIVE))
    assert rendered.exit_code == 0, rendered.output
    # gen's own objects, as the render marks them; the HelmRelease's values are what the release is installed with
    own = [yaml.safe_load(chunk) for chunk in re.split(r"^---\n", rendered.stdout, flags=re.MULTILINE)
           if "# source: gen\n" in chunk]
    release = next(d for d in own if d["kind"] == "HelmRelease")
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(release["spec"]["values"]))
    # what a cluster holds in the release's namespace, and the volumes and classes (Flux's own objects aside)
    applied = [d for d in own if d["kind"] not in ("HelmRelease", "Namespace")
               and d["metadata"].get("namespace") in (None, "airflow")]
    (tmp_path / "applied.yaml").write_text(yaml.safe_dump_all(applied))
    again = gen("import", "--values", str(tmp_path / "values.yaml"), "--manifests", str(tmp_path / "applied.yaml"),
                "--distribution", "kubeadm", str(tmp_path / "again"))  # the render cannot say which distribution
    assert again.exit_code == 0, again.output
    assert _settings(tmp_path / "again") == _settings(project)
    assert "have gen's names: gen writes them again as they are, and nothing moves" in again.stderr


# --- the Traefik route, read without an import: each part gen cannot carry over is named -------------------


@pytest.mark.parametrize("rule, expected", [
    ("Host(`airflow.example`)", ("airflow.example", None)),
    ("PathPrefix(`/airflow`) && Host(`a.example`)", ("a.example", "/airflow")),
    ('Host("a\\"b.example") && PathPrefix("/p")', ('a"b.example', "/p")),
    ("Host(`a`) || Host(`b`)", (None, None)),
    ("Host(`a`) && Host(`b`)", (None, None)),
    ("Host(`a`) && PathPrefix(`/x`) && PathPrefix(`/y`)", (None, None)),
])
def test_a_route_rule_gives_its_host_and_prefix_only_in_the_form_gen_writes(rule, expected):
    assert routes.parse_match(rule) == expected


def _route(name: str, spec: dict, api: str = "traefik.io/v1alpha1") -> dict:
    return {"apiVersion": api, "kind": "IngressRoute", "metadata": {"name": name, "namespace": "airflow"}, "spec": spec}


def test_each_part_of_a_traefik_route_gen_does_not_write_is_named():
    web = {"name": "airflow-api-server", "port": 9999}
    spec = {"routes": [{"match": "Host(`a.example`) && PathPrefix(`/airflow/`)", "services": [web],
                        "middlewares": [{"name": "strip"}, {"name": "auth"}, {"name": "absent"}]}],
            "tls": {"secretName": "cert", "options": {"name": "modern"}}}
    other = _route("other", {"routes": [{"match": "Host(`b`)", "services": [web]}]})
    objects = [("m.yaml", {"kind": "Middleware", "metadata": {"name": "strip"},
                           "spec": {"stripPrefix": {"prefixes": ["/airflow"]}}}),
               ("m.yaml", {"kind": "Middleware", "metadata": {"name": "auth"}, "spec": {"basicAuth": {}}})]
    found = findings.Found()
    ingress, implied, used, stripped = routes.traefik(
        [("r.yaml", _route("airflow", spec, "traefik.containo.us/v1alpha1")), ("o.yaml", other)], objects, None, found)
    assert ingress == {"host": "a.example", "pathPrefix": "/airflow", "tls": {"secretName": "cert"},
                       "apiGroup": "traefik.containo.us"}
    assert (implied, used, stripped, found.problems) == ("airflow", ["r.yaml", "m.yaml"], True, [])
    assert found.left_out == [
        "o.yaml: a second route to Airflow; gen writes one",
        "r.yaml: spec.tls.options (gen writes certResolver or secretName only)",
        "m.yaml (used by the route; gen writes no middleware of this kind: add it by hand beside dist/ if you need it)",
        "r.yaml: middleware 'absent' (not in the manifests; gen does not carry it over)"]
    assert found.notes == [
        "r.yaml names no entryPoints (Traefik then uses all of them); gen.yaml gets ingress.entryPoints [websecure]",
        "r.yaml: service port 9999; gen routes to the chart's port 8080"]


def test_a_route_gen_cannot_read_is_a_problem_and_routes_to_no_airflow_service_are_refused():
    found = findings.Found()
    only = _route("only", {"routes": [{"match": "Host(`a`) || Host(`b`)", "services": [{"name": "other"}]}],
                           "entryPoints": ["web"], "tls": {}})
    ingress, _implied, used, _stripped = routes.traefik([("r.yaml", only)], [], "airflow", found)
    assert ingress == {"entryPoints": ["web"]} and used == ["r.yaml"]  # the only route, though it goes elsewhere
    assert found.problems == [
        "r.yaml: spec.routes.match: 'Host(`a`) || Host(`b`)' is not a rule gen can carry over; gen writes "
        "Host(`HOST`) && PathPrefix(`/PREFIX`): reduce the route to that form",
        "r.yaml: spec.tls: has no certResolver or secretName; gen serves the UI over https only: add "
        "tls.certResolver (an ACME resolver) or tls.secretName to the IngressRoute"]
    found = findings.Found()
    assert routes.traefik([("r.yaml", only), ("s.yaml", only)], [], "airflow", found) == ({}, None, [], False)
    assert found.problems == [
        "--manifests: none of the IngressRoutes (IngressRoute airflow/only, IngressRoute airflow/only) sends a route "
        "to the chart's <release>-webserver or <release>-api-server Service; pass the one that serves Airflow"]


def test_an_ingress_gives_its_first_rule_to_airflow_and_names_its_annotations():
    doc = {"metadata": {"annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "0",
                                        "kubernetes.io/ingress.class": "nginx"}},
           "spec": {"rules": [{"host": "other", "http": {"paths": [{"backend": {"service": {"name": "other"}}}]}},
                              {"http": {"paths": [{"backend": {"service": {"name": "airflow-webserver"}}}]}},
                              {"host": "a.example", "http": {"paths": [
                                  {"path": "/airflow/*", "backend": {"service": {"name": "airflow-api-server"}}}]}}],
                    "tls": [{"hosts": ["b.example"], "secretName": "wrong"}, {"secretName": "cert"}]}}
    found = findings.Found()
    assert ingresses._kube_ingress("i.yaml", doc, found) == (
        {"kind": "Ingress", "host": "a.example", "pathPrefix": "/airflow", "className": "nginx",
         "tls": {"secretName": "cert"}}, "airflow")
    assert found.cannot == [
        "i.yaml: metadata.annotations (kubernetes.io/ingress.class, nginx.ingress.kubernetes.io/proxy-body-size): "
        "gen's Ingress carries none. Way through: set them on your Ingress controller, or keep applying this "
        "Ingress by hand and set ingress: false."]
    assert ingresses._kube_ingress("i.yaml", {"spec": {"rules": doc["spec"]["rules"][:2]}}, found) == ({}, None)


def test_an_http_route_gives_one_host_and_names_the_others():
    doc = {"spec": {"hostnames": ["a.example", "b.example"], "parentRefs": [{"name": "gw", "kind": "Gateway"}],
                    "rules": [{"backendRefs": [{"name": "other"}]},
                              {"backendRefs": [{"name": "airflow-api-server"}],
                               "matches": [{"path": {"value": "/"}}]}]}}
    found = findings.Found()
    assert ingresses._http_route("h.yaml", doc, found) == (
        {"kind": "HTTPRoute", "host": "a.example", "pathPrefix": "/", "parentRefs": [{"name": "gw"}]}, "airflow")
    assert found.left_out == ["h.yaml: spec.hostnames b.example (gen routes one host)"]
    assert ingresses._http_route("h.yaml", {"spec": {"rules": doc["spec"]["rules"]}}, found) == ({}, None)


def test_the_charts_own_ingress_needs_a_host_and_its_annotations_are_named():
    values = {"ingress": {"enabled": True, "apiServer": {"hosts": []},
                          "web": {"host": "a.example", "path": "/x/", "ingressClassName": "nginx",
                                  "tls": {"enabled": True, "secretName": "cert"}, "annotations": {"b": "1", "a": "2"}}}}
    found = findings.Found()
    assert ingresses._chart_route(values, found) == {"kind": "Ingress", "host": "a.example", "pathPrefix": "/x",
                                                     "className": "nginx", "tls": {"secretName": "cert"}}
    assert found.cannot == ["ingress.web.annotations (a, b): gen's Ingress carries none. Way through: set them on "
                            "your Ingress controller."]


def _claim(name: str, **spec) -> tuple[str, dict]:
    return f"{name}.yaml", {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "airflow"},
                            "spec": spec}


def _volume(name: str, **spec) -> tuple[str, dict]:
    return f"{name}.yaml", {"kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec}


def test_two_claims_for_one_volume_are_a_problem_and_a_claim_for_neither_is_passed_by():
    found = findings.Found()
    objects = [_claim("dags-a"), _claim("dags-b"), _claim("cache")]
    storage, used = volumes.storage(objects, {}, "airflow", "airflow", found)
    assert found.problems == ["dags-b.yaml: both this claim and dags-a.yaml look like the dags volume; set "
                              "dags.persistence.existingClaim in the values file to the one Airflow mounts"]
    assert used == ["dags-a.yaml"] and storage["dags"]["existingClaim"] == "dags-a"


def test_a_volume_bound_by_its_claim_ref_keeps_one_access_mode_and_one_class():
    objects = [_claim("my-dags"), _claim("my-logs", storageClassName="slow"),
               _volume("pv-dags", claimRef={"name": "my-dags"}, hostPath={"path": "/srv/dags/"},
                       accessModes=["ReadWriteMany", "ReadOnlyMany"], storageClassName="fast"),
               _volume("pv-logs", storageClassName="slow", nfs={"server": "nas", "path": "/logs"})]
    found = findings.Found()
    storage, used = volumes.storage(objects, {}, "airflow", "airflow", found)
    assert storage == {"dags": {"hostPath": "/srv/dags", "accessMode": "ReadWriteMany"},
                       "logs": {"type": "nfs", "nfs": {"server": "nas", "path": "/logs"}}, "className": "fast"}
    assert used == ["my-dags.yaml", "pv-dags.yaml", "my-logs.yaml", "pv-logs.yaml"]
    assert found.notes == ["pv-dags.yaml: access modes ReadWriteMany, ReadOnlyMany; gen writes one, ReadWriteMany",
                           "pv-logs.yaml: storage class slow; gen puts both volumes in one class, fast"]


def test_claims_not_in_the_manifests_are_mounted_or_named_as_the_charts_own():
    values = {"dags": {"persistence": {"enabled": True, "existingClaim": "shared-dags"}},
              "logs": {"persistence": {"enabled": True}}}
    found = findings.Found()
    storage, used = volumes.storage([], values, "airflow", "ns", found)
    assert storage == {"dags": {"type": "existingClaim", "existingClaim": "shared-dags"},
                       "logs": {"type": "existingClaim", "existingClaim": "airflow-logs"}}
    assert used == [] and found.plan_volumes == [
        "dags: the claim ns/shared-dags (not in the manifests) keeps its volume: gen.yaml mounts it as "
        "storage.dags.existingClaim."]
    [cannot] = found.cannot
    assert cannot.startswith("logs: the chart made the claim ns/airflow-logs itself; under gen the chart no longer")
    assert "kubectl annotate pvc airflow-logs -n ns helm.sh/resource-policy=keep" in cannot


def test_git_sync_over_ssh_cannot_carry_over_and_its_period_is_kept():
    values = {"dags": {"gitSync": {"enabled": True, "repo": "git@example:dags.git", "period": 30,
                                   "sshKeySecret": "key"}}}
    found = findings.Found()
    assert volumes._unclaimed("dags", values, "airflow", "airflow", found) == {
        "type": "gitSync", "gitSync": {"repository": "git@example:dags.git", "period": "30"}}
    assert found.cannot == ["dags.gitSync over ssh: gen clones over https only. Way through: give dags.gitSync an "
                            "https URL and a credentialsSecret, then import again."]


@pytest.mark.parametrize("values, expected", [
    ({"airflowVersion": "2.10.5", "defaultAirflowTag": "3.0.0"}, ("2.10.5", "airflowVersion")),
    ({"airflowVersion": "latest", "images": {"airflow": {"tag": "3.1.7-python3.12"}}}, ("3.1.7", "images.airflow.tag")),
    ({"defaultAirflowTag": "2025.07.1"}, (None, "")),  # a company build's calendar tag names no Airflow
    ({"defaultAirflowTag": "2.10.5.1"}, (None, "")),
])
def test_the_airflow_an_install_runs_comes_from_its_version_or_its_image_tag(values, expected):
    assert assembly._airflow_version(values) == expected


def test_objects_in_several_namespaces_need_the_namespace_given():
    found = findings.Found()
    objects = [("a.yaml", {"metadata": {"namespace": "one"}}), ("b.yaml", {"metadata": {"namespace": "two"}})]
    assert assembly._namespace(objects, None, found) == "one"
    assert found.problems == ["--manifests: objects sit in several namespaces (one, two); pass the release's with "
                              "--namespace"]


def test_the_hybrid_executor_on_airflow_3_cannot_carry_over():
    found = findings.Found()
    assert assembly._executor_settings({}, "celery-kubernetes-executor", "CeleryKubernetesExecutor", 3, found) == {}
    assert found.cannot == ["executor CeleryKubernetesExecutor raises at start-up on Airflow 3: the overlay runs "
                            "CeleryExecutor,KubernetesExecutor instead; tasks pick their executor with executor="]


def test_the_flux_wiring_names_the_projects_path_in_its_repository(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy" / "airflow").mkdir(parents=True)
    assert assembly._flux(tmp_path / "deploy" / "airflow", "celery-executor", "home", None) == {
        "cluster": {"name": "home", "overlay": "celery-executor", "url": None, "path": "deploy/airflow"}}


@pytest.mark.parametrize("data, expected", [
    ({}, "values.yaml: postgresql.enabled: is false but the values name no database (data.metadataConnection or "
         "data.metadataSecretName); name the one Airflow uses"),
    ({"metadataSecretName": "db"}, "values.yaml: data.metadataSecretName: the external database's connection is only "
                                   "in that Secret, and gen.yaml needs its server: add data.metadataConnection.host "
                                   "(and port) to the values file and import again"),
])
def test_an_external_database_gen_cannot_name_is_a_problem(data, expected):
    found = findings.Found()
    assert assembly._database({"postgresql": {"enabled": False}, "data": data}, "values.yaml", found) == {}
    assert found.problems == [expected]


def test_values_another_overlay_generates_are_kept_for_the_imported_overlay_only():
    data = {"overlays": {"celery-executor": {"executor": "x"}}}
    assert assembly._with_overlay_values(data, "celery-executor", {"a": 1}) == {
        "overlays": {"celery-executor": {"executor": "x", "values": {"a": 1}}}}
    assert assembly._with_overlay_values(data, "celery-executor", {}) is data


@pytest.mark.parametrize("old, moved", [
    ({"enabled": False, "username": "ada", "password": "secret"},
     {"createUserJob": {"defaultUser": {"username": "ada"}, "enabled": False}}),
    ({"enabled": 1}, {"createUserJob": {"enabled": True}}),
    ({"password": "secret"}, {}),
    ("not a mapping", {}),
])
def test_the_deprecated_default_user_moves_to_create_user_job_without_its_password(old, moved):
    assert passthrough._default_user({"webserver": {"defaultUser": old}}) == moved


def test_a_value_only_another_overlay_generates_is_kept_for_the_imported_one(tmp_path):
    imported = config.load(make_project(tmp_path / "project"))
    found = findings.Found()
    values = {"flower": {"enabled": True}, "webserver": {"defaultUser": {"username": "ada", "password": "pw"}},
              "custom": {"key": 1}}
    split = passthrough.split_values(values, imported, "celery-executor", found)
    assert split.overlay == {"flower": {"enabled": True}} and split.moved == ("flower.enabled",)
    assert split.base == {"custom": {"key": 1}, "createUserJob": {"defaultUser": {"username": "ada"}}}
    assert split.passed == ("custom.key",) and split.credentials == ("webserver.defaultUser.password",)
    assert found.notes == ["webserver.defaultUser (deprecated in chart 1.19) moves to createUserJob.defaultUser, "
                           "where chart 1.19 reads it; its password comes from the admin password Secret"]
