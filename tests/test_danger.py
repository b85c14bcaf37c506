"""The danger rules that need both configs (Secrets, database moves, the cluster's name), the rules the
hostile review found missing, and the review of what the cluster runs, in real Git repositories."""

from __future__ import annotations

from pathlib import Path

from support import make_project
from test_review import WIRING, gen, repository, wire

from generator import config as config_module
from generator.knowledge import changes
from generator.knowledge.changes import DATA, REFUSED, RUNBOOK, classify, classify_configs
from generator.model import Config

EXTERNAL = """database:
  type: external
  external:
    host: pg.example.com
"""
CNPG = "database:\n  type: cloudnativepg\n"


def _config(tmp_path: Path, name: str, database: str = "", wiring: str | None = None) -> Config:
    path = make_project(tmp_path / name)
    text = path.read_text()
    if database:
        text = text.replace("database:\n  type: bundled", database.rstrip("\n") + "\n  #", 1)
    path.write_text(text)
    if wiring is not None:
        wire(path, wiring)
    return config_module.load(path)


def _found(old: Config, new: Config, overlay: str = "kubernetes-executor") -> list[tuple[str, str, str, str]]:
    found = classify_configs(overlay, old, new, (overlay, overlay))
    assert all(len(f.line) <= 200 and sum(s.startswith("merge now") for s in f.steps) == 1 for f in found)
    return [(f.kind, f.name, f.field, f.category) for f in found]


def test_bundled_to_cloudnativepg_recreates_the_metadata_secret_with_its_new_type(tmp_path):
    old, new = _config(tmp_path, "old"), _config(tmp_path, "new", CNPG)
    [finding] = classify_configs("kubernetes-executor", old, new, ("kubernetes-executor",) * 2)
    assert (finding.kind, finding.name, finding.field, finding.old, finding.new, finding.category) == (
        "Secret", "airflow-metadata", "type", "Opaque", "kubernetes.io/basic-auth", REFUSED)
    steps = "\n".join(finding.steps)
    assert steps.index("delete secret airflow-metadata") < steps.index("gen secrets --name airflow-metadata") \
        < steps.index("merge now")


def test_an_external_database_switch_refills_the_connection_and_moves_the_data(tmp_path):
    external = _config(tmp_path, "external", EXTERNAL)
    bundled = _config(tmp_path, "bundled")
    assert sorted(_found(external, bundled)) == [
        ("HelmRelease", "airflow", "database.type", DATA),
        ("Secret", "airflow-metadata", "connection", RUNBOOK),
        ("Secret", "airflow-postgresql", "metadata.name", RUNBOOK)]
    cnpg = _config(tmp_path, "cnpg", CNPG)
    assert sorted(_found(external, cnpg)) == [("HelmRelease", "airflow", "database.type", DATA),
                                              ("Secret", "airflow-metadata", "type", REFUSED)]
    [moved] = [f for f in classify_configs("x", external, cnpg, ("x", "x")) if f.field == "database.type"]
    assert "pg_dump -h pg.example.com" in moved.steps[0] and "kubectl cnpg psql airflow-db" in moved.steps[2]


def test_a_new_fernet_key_secret_warns_that_fresh_values_lose_the_stored_data(tmp_path):
    old = _config(tmp_path, "old")
    path = make_project(tmp_path / "new")
    path.write_text(path.read_text() + "secrets:\n  fernetKey: airflow-fernet-2\n")
    [finding] = classify_configs("celery-executor", old, config_module.load(path), ("celery-executor",) * 2)
    assert (finding.name, finding.old, finding.new) == ("airflow-fernet-2", "airflow/airflow-fernet-key",
                                                        "airflow/airflow-fernet-2")
    assert "makes the existing connections and variables unreadable" in finding.steps[0]


def test_renaming_the_cluster_prunes_the_release_unless_it_is_orphaned_first(tmp_path):
    old = _config(tmp_path, "old", wiring=WIRING)
    new = _config(tmp_path, "new", wiring=WIRING.replace("name: home", "name: lab"))
    [finding] = classify_configs(changes.WIRING, old, new)
    assert (finding.field, finding.old, finding.new, finding.category) == ("flux.cluster.name", "home", "lab", DATA)
    assert "Helm uninstalls Airflow" in finding.why and "deletionPolicy" in finding.steps[0]
    assert finding.steps[1] == "merge now" and "--path clusters/lab" in finding.steps[2]


def _cnpg_cluster(size: str) -> dict:
    return {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "airflow-db",
                                                                                   "namespace": "airflow"},
            "spec": {"instances": 1, "storage": {"size": size}}}


def _release(**values) -> dict:
    return {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "airflow", "namespace": "airflow"},
            "spec": {"chart": {"spec": {"chart": "airflow", "version": "1.19.0"}},
                     "values": {"executor": "CeleryExecutor", **values}}}


def test_rules_the_hostile_review_found_missing():
    def fields(before, after):
        return [(f.kind, f.field, f.category) for f in classify("celery-executor", before, after)]

    assert fields([_cnpg_cluster("20Gi")], [_cnpg_cluster("10Gi")]) == [("Cluster", "spec.storage.size", REFUSED)]
    assert fields([_cnpg_cluster("10Gi")], [_cnpg_cluster("20Gi")]) == []
    for values in ({"redis": {"service": {"clusterIP": "10.43.0.10"}}},
                   {"pgbouncer": {"service": {"clusterIp": "10.43.0.11"}}}):
        assert fields([_release()], [_release(**values)]) == [("HelmRelease", f"values.{next(iter(values))}.service."
                                                               f"{'clusterIP' if 'redis' in values else 'clusterIp'}",
                                                               REFUSED)]
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "airflow-redis", "namespace": "airflow"},
               "spec": {"ports": [{"port": 6379}]}}
    pinned = {**service, "spec": {**service["spec"], "clusterIP": "10.43.0.10"}}
    assert fields([service], [pinned]) == [("Service", "spec.clusterIP", REFUSED)]
    for component in ("workers", "triggerer"):  # under --no-render, the values say it
        grown = _release(**{component: {"persistence": {"size": "200Gi"}}})
        assert fields([_release()], [grown]) == [("HelmRelease", f"values.{component}.persistence.size", REFUSED)]


# --- the review of what the cluster runs ------------------------------------------------------------------

def _edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


def test_the_cloudnativepg_switch_has_no_namespace_finding_and_one_line_per_finding(tmp_path):
    config = repository(tmp_path, extra=WIRING)
    _edit(config, "type: bundled", "type: cloudnativepg\n  # was")
    result = gen("diff", "--config", str(config), "--no-render")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("gen: reviewing kubernetes-executor, the overlay flux.cluster deploys; ")
    dangers = [line for line in result.stdout.splitlines() if line.startswith("danger:")]
    assert not any(" Namespace " in line for line in dangers)
    assert any(line.startswith("danger: kubernetes-executor Secret airflow/airflow-metadata: type: Opaque -> "
                               "kubernetes.io/basic-auth: refused") for line in dangers)
    every = gen("diff", "--config", str(config), "--no-render", "--overlay", "all")
    lines = [line for line in every.stdout.splitlines() if line.startswith("danger:")]
    assert len(lines) == len(set(line.split(": ", 2)[1].split(" ", 1)[1] for line in lines)) == len(dangers)
    assert all(line.startswith("danger: celery-executor, kubernetes-executor, celery-kubernetes-executor ")
               for line in lines if "PostgreSQL" not in line) and all(len(line) <= 200 for line in lines)
    markdown = gen("diff", "--config", str(config), "--no-render", "--format", "markdown").stdout
    assert "- `danger: kubernetes-executor Secret airflow/airflow-metadata: type: " in markdown
    assert "  4. merge now" in markdown


# --- what synth says about the node and the cluster ---------------------------------------------------------

def test_synth_notes_the_log_directory_owner_and_warns_of_an_allowlist_k3s_would_defeat(tmp_path):
    config = make_project(tmp_path)
    config.write_text(config.read_text().replace("ingress:\n", "ingress:\n  allowFrom: [192.168.1.0/24]\n", 1))
    result = gen("synth", "--config", str(config), "--overlay", "kubernetes-executor")
    assert result.exit_code == 0, result.output
    assert ("gen: note: storage.logs.hostPath /srv/airflow/logs must be writable by UID 50000 on the node, or every "
            "task fails to open its log (sudo install -d -o 50000 -g 0 -m 0775 /srv/airflow/logs; docs/k3s.md)"
            in result.stdout.splitlines())
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warning.startswith(f"warning: {config}: ingress.allowFrom: k3s's ServiceLB hides the client's address "
                              f"unless Traefik's Service has externalTrafficPolicy: Local")


def test_turning_backups_on_asks_for_the_bucket_secret_that_gen_cannot_fill(tmp_path):
    backup = (CNPG + "  cloudnativepg:\n    backup:\n      objectStore: {destinationPath: s3://backups/airflow, "
              "secret: airflow-db-backup-s3}\n")
    old, new = _config(tmp_path, "old", CNPG), _config(tmp_path, "new", backup)
    [finding] = classify_configs("kubernetes-executor", old, new, ("kubernetes-executor",) * 2)
    assert (finding.kind, finding.name, finding.field, finding.category) == (
        "Secret", "airflow-db-backup-s3", "metadata.name", RUNBOOK)
    assert finding.steps[0].startswith("create Secret airflow/airflow-db-backup-s3 (type Opaque, keys ACCESS_KEY_ID, "
                                       "ACCESS_SECRET_KEY): the backup bucket's keys are yours")
    assert "gen secrets --name" not in "\n".join(finding.steps)  # it would refuse: gen cannot make the keys
