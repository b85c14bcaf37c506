"""gen upgrade: a 1.19.0 project moved to 1.22.0 with its deprecated keys and Airflow 2 options rewritten,
comments kept; downgrades refused; --dry-run writes nothing; danger lines whose backup fits the database."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import chart_archive, make_project, tree

from generator.commands import cli
from generator.config import load
from generator.knowledge import airflow, changes, charts, upgrade_rules
from generator.model import Version
from generator.onboarding import upgrade
from generator.plumbing.yamlio import generated_objects
from generator.review import render
from generator.synth import pipeline

PIN_1_19 = "# the chart\nrepository: https://airflow.apache.org\nname: airflow\nversion: 1.19.0\nairflowVersion: 3.1.7\n"
BASE = """\
ingress:
  host: airflow.example.com
  tls: {certResolver: letsencrypt}
"""
VALUES = """\
workers:
  # task pods need room
  resources:
    requests: {cpu: 500m}
  env:
    - name: TZ
      value: UTC
  tolerations:
    - key: dedicated
      operator: Equal
      value: airflow
config:
  webserver:
    base_url: https://airflow.example.com/airflow
    expose_config: "True"  # for the admins
    x_frame_enabled: "False"
"""


def _project(root: Path, config: str = BASE, values: str = VALUES, pin: str = PIN_1_19) -> Path:
    path = make_project(root, config, values=values)
    (root / "charts" / "airflow" / "chart.yaml").write_text(pin)
    load(path)  # a valid project of its release
    return path


def gen(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_an_upgrade_from_1_19_to_1_22_moves_the_deprecated_keys_and_keeps_the_comments(tmp_path):
    path = _project(tmp_path)
    plan = upgrade.plan(path, Version(1, 22, 0), None)
    upgrade.write(tmp_path, plan)
    values = (tmp_path / "charts/airflow/values.yaml").read_text()
    assert "# task pods need room" in values and '"True"  # for the admins' in values
    config = load(path)
    assert str(config.chart.version) == "1.22.0" and str(config.airflow_version) == "3.1.7"
    user = config.base_values
    assert user["workers"].keys() == {"celery", "kubernetes"}
    for home in ("celery", "kubernetes"):
        assert user["workers"][home]["env"] == [{"name": "TZ", "value": "UTC"}]
        assert user["workers"][home]["tolerations"][0]["key"] == "dedicated"
        assert user["workers"][home]["resources"] == {"requests": {"cpu": "500m"}}
    assert user["config"] == {"api": {"expose_config": "True"}}  # base_url is gen's; x_frame_enabled is gone
    assert plan.unmoved == []
    assert ("charts/airflow/values.yaml: config.webserver.x_frame_enabled removed: Airflow 3.0.0 no longer reads it"
            in plan.moved)
    # The upgraded project renders with the 1.22.0 archive, with no deprecation warning.
    chart = render.load_chart(config, chart_archive("1.22.0"))
    with tempfile.TemporaryDirectory() as scratch:
        files = pipeline.generate(config, Path(scratch), [airflow.KUBERNETES_EXECUTOR])
    objects = generated_objects(files[f"dist/{airflow.KUBERNETES_EXECUTOR}/{pipeline.HYDRATED_FILE}"])
    assert "DEPRECATION WARNING" not in chart.notes(render.release(objects, config), render.DEFAULT_KUBE_VERSION)


def test_airflow_2_options_are_renamed_or_removed_on_the_way_to_airflow_3(tmp_path):
    values = ("config:\n  webserver:\n    web_server_port: 8080\n    workers: 4\n    cookie_samesite: Strict\n"
              "  scheduler:\n    dag_dir_list_interval: 60\n  core:\n    dag_concurrency: 8\n    check_slas: 'False'\n"
              "  api:\n    page_size: 50\n")
    path = _project(tmp_path, BASE + "airflow: {version: 2.11.0}\n", values)
    plan = upgrade.plan(path, Version(1, 22, 0), Version(3, 3, 2))
    new = dict(plan.files)
    assert "airflow: {version: 3.3.2}" in new["gen.yaml"][1]
    assert "airflowVersion: 3.3.2" in new["charts/airflow/chart.yaml"][1]
    upgrade.write(tmp_path, plan)
    assert load(path).base_values["config"] == {
        "api": {"port": 8080, "workers": 4, "fallback_page_limit": 50},
        "fab": {"cookie_samesite": "Strict"},
        "dag_processor": {"refresh_interval": 60},
        "core": {"max_active_tasks_per_dag": 8}}


def test_a_downgrade_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    path = _project(tmp_path, values="", pin=PIN_1_19.replace("1.19.0", "1.22.0").replace("3.1.7", "3.3.2"))
    before = tree(tmp_path, "gen.yaml", "charts")
    for args, expected in (
            (("--chart-version", "1.20.0"), "error: --chart-version: 1.20.0 is older than the pinned 1.22.0; gen "
                                            "upgrade only goes forward"),
            (("--airflow-version", "3.2.2"), "error: --airflow-version: 3.2.2 is older than the project's Airflow "
                                             "3.3.2; Airflow's database migrations only go forward"),
            (("--chart-version", "1.23.0"), "error: --chart-version: 1.23.0 is not a chart release gen knows; gen "
                                            "knows 1.19.0, 1.20.0, 1.21.0, 1.22.0")):
        result = gen("upgrade", "--config", str(path), *args)
        assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(expected)
    assert tree(tmp_path, "gen.yaml", "charts") == before


def _findings(text: str) -> list[tuple[str, str]]:
    """Each danger: line with its indented why and runbook lines, as (first line, whole text)."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("danger: "):
            found.append((line, line))
        elif found and line.startswith("  "):
            found[-1] = (found[-1][0], found[-1][1] + "\n" + line)
    return found


def test_dry_run_prints_the_changes_and_the_review_and_writes_nothing(tmp_path):
    path = _project(tmp_path)
    before = tree(tmp_path, "gen.yaml", "charts")
    result = gen("upgrade", "--config", str(path), "--dry-run", "--no-render")
    assert result.exit_code == 0, result.output
    assert tree(tmp_path, "gen.yaml", "charts") == before
    assert "-version: 1.19.0\n+version: 1.22.0" in result.stdout
    assert "moved: charts/airflow/values.yaml: workers.env -> workers.celery.env and workers.kubernetes.env" in result.stdout
    findings = _findings(result.stdout)  # each finding once, naming every overlay it holds for
    danger = next(text for head, text in findings if "HelmRelease airflow/airflow: spec.chart.spec.version" in head)
    assert "kubectl -n airflow exec airflow-postgresql-0 -- pg_dump" in danger and "Helm 3.19.0" in danger
    assert any("kubernetes-executor" in head and "HelmRelease airflow/airflow: values.workers.env" in head
               and "AIRFLOW__KUBERNETES_ENVIRONMENT_VARIABLES__" in text for head, text in findings)
    assert result.stderr.splitlines()[-1].startswith("gen: would move chart 1.19.0 -> 1.22.0, Airflow 3.1.7 -> "
                                                     "3.1.7 (2 files, nothing written)")


@pytest.mark.parametrize(("fixture", "expected"), [
    ("database-bundled", "kubectl -n airflow exec airflow-postgresql-0 -- pg_dump -U postgres postgres"),
    ("database-cloudnativepg", "kubectl cnpg backup airflow-db -n airflow --method plugin --plugin-name "
                               "barman-cloud.cloudnative-pg.io"),  # the fixture backs up through the plugin
    ("database-external", 'pg_dump "host=pg.internal.example.com port=6432 dbname=airflow_meta user=airflow_app '
                          'sslmode=verify-full"'),
])
def test_the_backup_step_fits_the_database_type(tmp_path, fixture, expected):
    config = load(make_project(tmp_path, fixture=fixture))
    values = {"postgresql": {"enabled": False}} if config.database.type != "bundled" else {}
    assert expected in upgrade_rules.backup(config.namespace, config.release, values, config)


def test_a_cloudnativepg_cluster_without_backups_gets_a_dump_from_its_primary(tmp_path):
    text = ("ingress:\n  host: airflow.example.com\n  tls:\n    certResolver: letsencrypt\n"
            "database:\n  type: cloudnativepg\n")
    config = load(make_project(tmp_path, text))
    step = upgrade_rules.backup("airflow", "airflow", {"postgresql": {"enabled": False}}, config)
    assert ("has no backup configured, so take a pg_dump from its primary (kubectl -n airflow exec $(kubectl -n "
            "airflow get pod -l cnpg.io/cluster=airflow-db,cnpg.io/instanceRole=primary -o name) -c postgres -- "
            "pg_dump -d airflow") in step


def test_a_cloudnativepg_cluster_with_a_built_in_backup_gets_an_on_demand_backup(tmp_path):
    text = ("ingress:\n  host: airflow.example.com\n  tls:\n    certResolver: letsencrypt\n"
            "database:\n  type: cloudnativepg\n")
    config = load(make_project(tmp_path, text))
    cluster = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "airflow-db"},
               "spec": {"backup": {"barmanObjectStore": {"destinationPath": "s3://backups/"}}}}
    step = upgrade_rules.backup("airflow", "airflow", {"postgresql": {"enabled": False}}, config, [cluster])
    assert "kubectl cnpg backup airflow-db -n airflow" in step


def test_a_bundled_postgresql_major_change_is_data_loss_with_its_runbook():
    def release(tag):
        return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                "metadata": {"name": "airflow", "namespace": "airflow"},
                "spec": {"chart": {"spec": {"chart": "airflow", "version": "1.22.0"}},
                         "values": {"airflowVersion": "3.3.2", "postgresql": {"image": {"tag": tag}}}}}

    (finding,) = changes.classify("celery-executor", [release("16.1.0-debian-11-r15")], [release("17.2.0")])
    assert finding.category == changes.DATA and finding.field == "values.postgresql.image.tag"
    assert "PostgreSQL 17 cannot read the data directory PostgreSQL 16 wrote" in finding.why
    steps = finding.steps
    assert [step.split(":")[0] for step in steps if "merge" in step] == ["merge now"]  # the one merge, once
    merge = next(index for index, step in enumerate(steps) if step.startswith("merge now"))
    assert "pg_dump" in steps[0] and "flux suspend helmrelease airflow -n airflow" in steps[merge - 1]
    assert "kubectl -n airflow delete pvc data-airflow-postgresql-0" in steps[merge + 1]
    assert "flux resume" in steps[merge + 2] and "psql" in steps[merge + 3]


def _runbooks(old: dict, new: dict) -> dict[str, tuple[str, ...]]:
    """Each finding of a HelmRelease change: field -> its runbook, checked to read the same in text and markdown."""
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
               "metadata": {"name": "airflow", "namespace": "airflow"}}
    found = changes.classify("kubernetes-executor", [{**release, "spec": old}], [{**release, "spec": new}])
    for finding in found:
        numbered = [f"  {number}. {step}" for number, step in enumerate(finding.steps, 1)]
        assert finding.lines()[-len(numbered):] == numbered
        assert finding.markdown()[-len(numbered):] == [line.replace(">", "&gt;").replace("<", "&lt;")
                                                       for line in numbered]
    return {finding.field: finding.steps for finding in found}


def test_every_upgrade_runbook_has_one_merge_step_at_its_place():
    def spec(chart, airflow_version, **values):
        return {"chart": {"spec": {"chart": "airflow", "version": chart}},
                "values": {"airflowVersion": airflow_version, "executor": "KubernetesExecutor", **values}}

    env = {"workers": {"env": [{"name": "TZ", "value": "UTC"}]}}
    runbooks = _runbooks(spec("1.19.0", "3.1.7", **env), spec("1.22.0", "3.3.2", **env))
    assert set(runbooks) == {"spec.chart.spec.version", "values.airflowVersion", "values.workers.env"}
    for steps in runbooks.values():  # merging is one step of its own, never also said inside another
        assert [step for step in steps if "merge" in step] == [next(s for s in steps if s.startswith("merge now"))]
        assert "back up" in steps[0] or "give task pods" in steps[0]
    assert runbooks["spec.chart.spec.version"][-1] == "merge now, when nobody relies on Airflow for a while"
    assert runbooks["values.airflowVersion"][1:] == (
        "merge now", "to go back, restore that backup into a database for the old version")
    assert runbooks["values.workers.env"][1:] == ("merge now", "check a task on the new release")


# --- the pieces of an upgrade on their own: refusals, keys already at their new home, odd layouts ------------

def test_an_airflow_the_target_chart_does_not_run_is_refused_with_one_it_does(tmp_path):
    path = _project(tmp_path, values="")
    with pytest.raises(upgrade.GenError) as raised:
        upgrade.plan(path, Version(1, 22, 0), Version(4, 0, 0))
    assert raised.value.problems == ["--airflow-version: chart 1.22.0 runs Airflow 2.11.0 up to (not including) "
                                     f"4.0.0, not 4.0.0; pass --airflow-version, such as "
                                     f"{charts.suggested(Version(1, 22, 0))}"]


def test_a_pin_that_breaks_its_schema_is_refused_before_anything_else(tmp_path):
    path = _project(tmp_path, values="")
    (tmp_path / "charts" / "airflow" / "chart.yaml").write_text(PIN_1_19.replace("1.19.0", "one"))
    with pytest.raises(upgrade.ConfigError) as raised:
        upgrade.plan(path, None, None)
    [line] = raised.value.problems
    assert line.startswith("charts/airflow/chart.yaml: version: ")


def test_a_deprecated_key_whose_new_home_is_set_is_left_for_a_merge_by_hand():
    plan = upgrade.Upgrade((Version(1, 19, 0), Version(1, 22, 0)), (Version(3, 1, 7), Version(3, 1, 7)))
    root = {"workers": {"replicas": 2, "celery": {"replicas": 3}}}
    upgrade._move_keys(root, "values.yaml", Version(1, 22, 0), set(), plan)
    assert root == {"workers": {"replicas": 2, "celery": {"replicas": 3}}}
    assert plan.unmoved == ["values.yaml: workers.replicas: not moved: workers.celery.replicas is already set; merge "
                            "the two by hand (chart 1.19.0 reads only workers.celery.replicas)"]


def test_config_options_already_at_their_airflow_3_name_are_kept_and_odd_sections_skipped():
    plan = upgrade.Upgrade((Version(1, 22, 0), Version(1, 22, 0)), (Version(2, 11, 0), Version(3, 2, 2)))
    root = {"config": {"webserver": {"web_server_port": 1}, "api": {"port": 2}, "core": "not a section"}}
    upgrade._rewrite_config(root, "values.yaml", set(), plan)
    assert root["config"] == {"webserver": {"web_server_port": 1}, "api": {"port": 2}, "core": "not a section"}
    assert plan.unmoved == ["values.yaml: config.webserver.web_server_port: not moved: config.api.port is already "
                            "set; keep one of the two"]
    upgrade._rewrite_config({"config": ["a list"]}, "values.yaml", set(), plan)  # nothing to rewrite
    assert not upgrade._has({"a": 1}, "a.b.c") and plan.moved == []


def test_a_file_in_no_layout_gen_knows_is_read_all_the_same():
    text = "a:\n  b: 1\nc:\n      d: [x]\n"  # two mapping indents: no single layout writes it back
    assert upgrade._Document(text).data == {"a": {"b": 1}, "c": {"d": ["x"]}}
