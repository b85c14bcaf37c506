"""gen import on installs shaped like the public ones people run: chart Ingress values, a plain Ingress,
a Gateway API HTTPRoute, no route at all. The inputs under fixtures/imports/ are written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from support import CHART_ARCHIVE, CHART_REFERENCE, CRDS, FIXTURES, documents

from generator import config
from generator.commands import cli

INSTALLS = FIXTURES / "imports"


def gen(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _import(case: str, project: Path):
    manifests = [arg for path in sorted((INSTALLS / case).glob("*.yaml")) if path.name != "values.yaml"
                 for arg in ("--manifests", str(path))]
    result = gen("import", "--values", str(INSTALLS / case / "values.yaml"), *manifests, str(project))
    assert result.exit_code == 0, result.output
    return result


# case -> (kind, host, path prefix, the route's own settings as gen.yaml has them)
ROUTES = {
    "chart-ingress": ("Ingress", "airflow.data.example.com", "/", {"class_name": "nginx"}),
    "plain-ingress": ("Ingress", "airflow.ops.example.org", "/", {"class_name": "nginx"}),
    "gateway": ("HTTPRoute", "tools.example.net", "/airflow", {}),
}


@pytest.mark.parametrize("case", sorted(ROUTES))
def test_the_route_keeps_its_kind_host_and_path_and_the_project_validates(case, tmp_path):
    project = tmp_path / "p"
    result = _import(case, project)
    loaded = config.load(project / "gen.yaml")
    kind, host, prefix, own = ROUTES[case]
    assert (loaded.ingress.kind, loaded.ingress.host, loaded.ingress.path_prefix) == (kind, host, prefix)
    assert all(getattr(loaded.ingress, key) == value for key, value in own.items())
    overlay = result.stderr.rsplit("--overlay ", 1)[1].split(",")[0]
    assert gen("synth", "--config", str(project / "gen.yaml"), "--overlay", overlay).exit_code == 0
    route = next(d for d in documents((project / "dist" / "base" / "route.yaml").read_text()))
    assert route["kind"] == kind
    checked = gen("validate", "--config", str(project / "gen.yaml"), "--overlay", overlay, "--crds", str(CRDS),
                  "--chart-schema", str(CHART_REFERENCE / "values.schema.json"))
    assert checked.exit_code == 0, checked.stdout


def test_the_gateway_install_keeps_its_parent_gateway(tmp_path):
    _import("gateway", tmp_path / "p")
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert [(r.name, r.namespace, r.section_name) for r in loaded.ingress.parent_refs] == [
        ("shared", "gateway-system", "https")]


def test_an_install_without_a_route_gets_no_route_and_no_invented_host(tmp_path):
    result = _import("no-route", tmp_path / "p")
    assert config.load(tmp_path / "p" / "gen.yaml").ingress is None
    assert "ingress: false" in (tmp_path / "p" / "gen.yaml").read_text()
    assert "no route found" in result.stderr and "example.com" not in (tmp_path / "p" / "gen.yaml").read_text()


def test_the_chart_ingress_install_keeps_every_setting_gen_does_not_set(tmp_path):
    result = _import("chart-ingress", tmp_path / "p")
    base = config.load(tmp_path / "p" / "gen.yaml").base_values
    assert base["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert base["webserver"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/airflow-web"}
    assert base["dags"]["gitSync"]["rev"] == "refs/tags/dags-v1.3.18" and base["dags"]["gitSync"]["wait"] == 60
    # chart 1.22 reads workers.persistence at workers.celery.persistence (since 1.19): the import moves it there
    assert base["workers"] == {"celery": {"persistence": {"size": "20Gi", "storageClassName": "gp3"}}}  # enabled: gen's
    assert "moved workers.persistence -> workers.celery.persistence" in result.stderr
    # the plan's value changes show each moved key as one move, not a removal and an addition
    assert "\n  moved: workers.persistence.size -> workers.celery.persistence.size\n" in result.stderr
    assert "workers.persistence.size: '20Gi' (removed)" not in result.stderr
    assert "+ workers.celery.persistence.size" not in result.stderr
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert loaded.storage.logs.type == "workers"  # the workers' volumeClaimTemplates stay as they are
    assert "ingress" not in base  # gen's Ingress replaces the chart's: the plan says which keys and why
    assert "ingress.web.hosts" in result.stderr and "the chart's own Ingress becomes gen's" in result.stderr


def test_dags_in_the_image_get_no_volume_and_nothing_mounted_over_them(tmp_path):
    (tmp_path / "values.yaml").write_text("executor: KubernetesExecutor\nairflowVersion: 3.1.7\n"
                                          "defaultAirflowRepository: registry.example.com/team/airflow\n"
                                          "defaultAirflowTag: 3.1.7-dags.41\n")
    result = gen("import", "--values", str(tmp_path / "values.yaml"), str(tmp_path / "q"))
    assert result.exit_code == 0, result.output
    project = tmp_path / "q"
    assert config.load(project / "gen.yaml").storage.dags.type == "image"
    assert gen("synth", "--config", str(project / "gen.yaml"), "--overlay", "kubernetes-executor").exit_code == 0
    values = (project / "dist" / "base" / "airflow.yaml").read_text()
    release = next(d for d in documents(values) if d["kind"] == "HelmRelease")["spec"]["values"]
    assert release["dags"]["persistence"]["enabled"] is False and release["dags"]["gitSync"]["enabled"] is False
    assert "dags-claim" not in (project / "dist" / "base" / "storage.yaml").read_text()


EXTERNAL_DATABASE = """\
executor: KubernetesExecutor
airflowVersion: 3.1.7
postgresql:
  enabled: false
data:
  metadataConnection:
    user: airflow_app
    pass: s3cret-Db-pass
    protocol: postgresql
    host: db.internal.example.com
    port: 5432
    db: airflow
    sslmode: require
"""


def test_an_external_database_is_kept_external_and_no_bundled_postgresql_is_claimed(tmp_path):
    (tmp_path / "values.yaml").write_text(EXTERNAL_DATABASE)
    result = gen("import", "--values", str(tmp_path / "values.yaml"), "--distribution", "kubeadm",
                 str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    loaded = config.load(tmp_path / "p" / "gen.yaml")
    assert (loaded.database.type, loaded.database.external.host, loaded.database.user) == \
        ("external", "db.internal.example.com", "airflow_app")
    assert "bundled PostgreSQL keeps its claim" not in result.stderr and "Neither --distribution" not in result.stderr
    secret = next(d for d in documents(result.stdout) if d["metadata"]["name"].endswith("metadata-gitops"))
    assert "@db.internal.example.com:5432/airflow" in secret["stringData"]["connection"]
    assert all("s3cret-Db-pass" not in p.read_text() for p in (tmp_path / "p").rglob("*") if p.is_file())


def _rendered(project: Path, overlay: str) -> list[dict]:
    """What Flux would apply for the imported project: gen's objects and the chart's, rendered by the pinned chart."""
    assert gen("synth", "--config", str(project / "gen.yaml"), "--overlay", overlay).exit_code == 0
    result = gen("render", "--config", str(project / "gen.yaml"), "--overlay", overlay, "--chart", str(CHART_ARCHIVE))
    assert result.exit_code == 0, result.output
    return [d for d in documents(result.stdout) if d]


def _env_secret(objects: list[dict], variable: str) -> set[str]:
    """The Secrets the chart's pods read `variable` from."""
    return {env["valueFrom"]["secretKeyRef"]["name"] for obj in objects if obj["kind"] in ("Deployment", "StatefulSet")
            for container in obj["spec"]["template"]["spec"]["containers"] for env in container.get("env", [])
            if env["name"] == variable and "valueFrom" in env}


@pytest.mark.parametrize("case", ["external-broker", "shared-secret"])
def test_an_external_broker_starts_no_redis_and_keeps_the_users_broker_secret(case, tmp_path):
    project = tmp_path / "p"
    result = _import(case, project)
    loaded = config.load(project / "gen.yaml")
    assert loaded.workers.celery.broker == "external"
    assert "the broker is external" in result.stderr
    objects = _rendered(project, "celery-executor")
    release = next(d for d in objects if d["kind"] == "HelmRelease")["spec"]["values"]
    assert release["redis"] == {"enabled": False}
    assert not [f"{d['kind']}/{d['metadata']['name']}" for d in objects if "redis" in d["metadata"]["name"]]
    broker = "airflow-broker" if case == "shared-secret" else "airflow-broker-url"
    assert _env_secret(objects, "AIRFLOW__CELERY__BROKER_URL") == {broker}
    printed = [d["metadata"]["name"] for d in documents(result.stdout)]
    assert "airflow-redis-password" not in printed and printed.count(broker) == (case == "external-broker")
    if case == "external-broker":  # the URL was a value: it reaches standard output only, never a written file
        secret = next(d for d in documents(result.stdout) if d["metadata"]["name"] == broker)
        assert secret["stringData"]["connection"].startswith("rediss://:Br0ker-Pass%2Fword@cache.internal")
        assert all("Br0ker-Pass" not in p.read_text() for p in project.rglob("*") if p.is_file())


def test_one_secret_holding_several_credentials_is_read_as_it_is(tmp_path):
    project = tmp_path / "p"
    result = _import("shared-secret", project)
    loaded = config.load(project / "gen.yaml")
    assert {s: getattr(loaded.secrets, s) for s in ("fernet_key", "api_secret_key", "jwt_secret", "metadata")} == \
        dict.fromkeys(("fernet_key", "api_secret_key", "jwt_secret", "metadata"), "airflow-secrets")
    assert "airflow-secrets" not in {d["metadata"]["name"] for d in documents(result.stdout)}  # the user's own
    objects = _rendered(project, "celery-executor")
    for variable in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API__SECRET_KEY",
                     "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert _env_secret(objects, variable) == {"airflow-secrets"}, variable
    assert not [d for d in objects if d["kind"] == "Secret" and d["metadata"]["name"] == "airflow-secrets"]
    # gen secrets prints that Secret once, with every key the release reads from it, and not the broker's URL
    printed = gen("secrets", "--config", str(project / "gen.yaml"), "--overlay", "celery-executor").stdout
    shared = [d for d in documents(printed) if d["metadata"]["name"] == "airflow-secrets"]
    assert len(shared) == 1 and set(shared[0]["stringData"]) == {"fernet-key", "api-secret-key", "jwt-secret",
                                                                  "connection"}
    assert "airflow-broker" not in {d["metadata"]["name"] for d in documents(printed)}
    assert "# Not below: the URL of the external broker (workers.celery.broker external) is yours" in printed


CALENDAR_TAG = "executor: KubernetesExecutor\nimages:\n  airflow:\n    repository: registry.example.com/data/airflow\n" \
               "    tag: 2025.07.1\n"


def test_a_calendar_versioned_image_tag_is_not_taken_for_the_airflow_version(tmp_path):
    (tmp_path / "values.yaml").write_text(CALENDAR_TAG)
    result = gen("import", "--values", str(tmp_path / "values.yaml"), str(tmp_path / "p"))
    assert result.exit_code == 1 and not (tmp_path / "p").exists()
    assert result.stderr == (f"error: {tmp_path / 'values.yaml'}: images.airflow.tag: '2025.07.1' does not say which "
                             f"Airflow the image runs; add airflowVersion (the Airflow it is built on) to the values "
                             f"file, or give --installed-chart or --installed-version, and import again\n")
    # the installed chart's default is the Airflow that runs, and the company tag stays the image's
    installed = CHART_REFERENCE.parent / "airflow-chart-1.20.0" / "airflow-1.20.0.tgz"
    result = gen("import", "--values", str(tmp_path / "values.yaml"), "--installed-chart", str(installed),
                 str(tmp_path / "q"))
    assert result.exit_code == 0, result.output
    loaded = config.load(tmp_path / "q" / "gen.yaml")
    assert str(loaded.airflow_version) == "3.1.8" and loaded.base_values["images"]["airflow"]["tag"] == "2025.07.1"
    (tmp_path / "values.yaml").write_text(CALENDAR_TAG + "airflowVersion: 3.1.7\n")
    assert gen("import", "--values", str(tmp_path / "values.yaml"), str(tmp_path / "r")).exit_code == 0
    assert str(config.load(tmp_path / "r" / "gen.yaml").airflow_version) == "3.1.7"


# The user-creation arguments of an older chart, copied into the values: they read webserver.defaultUser, which
# chart 1.22 moved to createUserJob.defaultUser, so the new side cannot render.
OLD_USER_ARGS = """\
executor: KubernetesExecutor
airflowVersion: 3.1.7
webserver:
  defaultUser: {enabled: true, role: Admin, username: admin, email: admin@example.com, firstName: Ada, lastName: L}
createUserJob:
  args: [bash, -c, 'exec airflow users create "$@"', --, -r, "{{ .Values.webserver.defaultUser.role }}",
         -u, "{{ .Values.webserver.defaultUser.username }}", -e, "{{ .Values.webserver.defaultUser.email }}",
         -f, "{{ .Values.webserver.defaultUser.firstName }}", -l, "{{ .Values.webserver.defaultUser.lastName }}"]
"""


def test_when_the_new_side_does_not_render_nothing_is_written_and_helms_whole_message_is_shown(tmp_path):
    (tmp_path / "values.yaml").write_text(OLD_USER_ARGS)
    project = tmp_path / "p"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n")
    result = gen("import", "--values", str(tmp_path / "values.yaml"), "--chart", str(CHART_ARCHIVE), str(project))
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in project.iterdir()) == ["notes.txt"]
    line, = result.stderr.splitlines()
    assert line.startswith("error: the imported values do not render with the pinned chart 1.22.0, so nothing is "
                           "written; fix the values file and import again: chart airflow 1.22.0: Helm cannot render")
    # the cause sits at the end of Helm's message, past where a cut would have stopped
    assert line.endswith("nil pointer evaluating interface {}.role)") and len(line) > 600
