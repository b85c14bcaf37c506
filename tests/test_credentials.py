"""Credentials never enter Git: the release reads every one from a named Secret, `gen secrets` fills them."""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner
from support import CONFIGS, documents, make_project, tree

from generator.commands import cli
from generator.config import load
from generator.knowledge import airflow, chart_values
from generator.plumbing.errors import ConfigError

SECRET_NAME_KEYS = {"fernetKeySecretName", "apiSecretKeySecretName", "jwtSecretName", "webserverSecretKeySecretName",
                    "metadataSecretName", "existingSecret", "passwordSecretName", "brokerUrlSecretName",
                    "credentialsSecret"}
# The chart's `secret` list maps a Secret's key (by name) to an environment variable.
SECRET_REFERENCE = re.compile(r"\.values\.secret\[\d+\]\.secretKey$")


def release_values(root, overlay):
    """The spec of the HelmRelease, or of the k3s HelmChart (same `values`)."""
    objects = documents((root / "dist" / overlay / "manifests.yaml").read_text())
    return next(o for o in objects if o["kind"] in ("HelmRelease", "HelmChart"))["spec"]


@pytest.mark.parametrize("overlay", airflow.OVERLAYS)
@pytest.mark.parametrize("name", CONFIGS)
def test_every_credential_comes_from_a_named_secret(synthesized, name, overlay):
    spec = release_values(synthesized[name], overlay)
    values = spec["values"]
    release = {"tls-secret": "orchestrator", "database-external": "pipelines", "gateway-route": "flows"}.get(name, "airflow")
    assert values["fernetKeySecretName"] == f"{release}-fernet-key"
    assert values["data"]["metadataSecretName"] == f"{release}-metadata"
    if load(synthesized[name] / "gen.yaml").database.type == "bundled":
        assert values["postgresql"]["auth"]["existingSecret"] == f"{release}-postgresql"
    else:
        assert values["postgresql"] == {"enabled": False}
    if str(values["airflowVersion"]).startswith("2."):
        assert values["webserverSecretKeySecretName"] == f"{release}-webserver-secret-key"
        assert "apiSecretKeySecretName" not in values and "jwtSecretName" not in values
    else:
        assert values["apiSecretKeySecretName"] == f"{release}-api-secret-key"
        assert values["jwtSecretName"] == f"{release}-jwt-secret"
    celery = overlay != "kubernetes-executor"
    assert ("passwordSecretName" in values["redis"]) is celery
    # Named in every overlay: without it the chart makes its own broker Secret even for the Kubernetes executor.
    assert values["data"]["brokerUrlSecretName"] == f"{release}-broker-url"
    if "valuesSecrets" in spec:  # k3s HelmChart: a values file in a Secret beside it
        assert spec["valuesSecrets"] == [{"name": f"{release}-admin-password", "keys": ["values.yaml"]}]
        return
    assert spec["valuesFrom"] == [{"kind": "Secret", "name": f"{release}-admin-password", "valuesKey": "password",
                                   "targetPath": "createUserJob.defaultUser.password", "literal": True}]


def _secrets(args):
    result = CliRunner().invoke(cli, ["secrets", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_gen_secrets_fills_exactly_the_referenced_secrets_with_values_of_the_right_form(tmp_path):
    config = make_project(tmp_path)
    output = _secrets(["--config", str(config)])
    assert output.startswith("# Secrets for ")
    secrets = {s["metadata"]["name"]: s for s in yaml.safe_load_all(output) if s}
    for secret in secrets.values():
        kubernetes_validate.validate(secret, "1.37.0", strict=True)
        assert secret["metadata"]["namespace"] == "airflow"
    assert sorted(secrets) == sorted(["airflow-fernet-key", "airflow-api-secret-key", "airflow-jwt-secret",
                                      "airflow-postgresql", "airflow-metadata", "airflow-redis-password",
                                      "airflow-broker-url", "airflow-admin-password"])
    data = {name: s["stringData"] for name, s in secrets.items()}
    assert len(base64.urlsafe_b64decode(data["airflow-fernet-key"]["fernet-key"])) == 32
    metadata = urlparse(data["airflow-metadata"]["connection"])
    assert (metadata.scheme, metadata.username, metadata.hostname, metadata.port, metadata.path) == \
        ("postgresql", "postgres", "airflow-postgresql.airflow", 5432, "/postgres")
    assert metadata.password == data["airflow-postgresql"]["postgres-password"]
    broker = urlparse(data["airflow-broker-url"]["connection"])
    assert (broker.scheme, broker.hostname, broker.port, broker.password) == \
        ("redis", "airflow-redis", 6379, data["airflow-redis-password"]["password"])
    # Every Secret the hydrated releases reference is among them.
    gen = load(config)
    referenced = set()
    for overlay in airflow.OVERLAYS:
        merged = chart_values.release_values(gen, overlay)
        referenced |= {v for k, v in _leaves(merged) if k in SECRET_NAME_KEYS}
    assert referenced | {"airflow-admin-password"} == set(secrets)


def _leaves(values):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _leaves(value)
        else:
            yield key, value


def test_gen_secrets_draws_new_values_every_run_and_limits_to_the_overlays(tmp_path):
    config = make_project(tmp_path)
    first, second = (_secrets(["--config", str(config), "--overlay", "kubernetes-executor"]) for _ in range(2))
    assert first != second
    names = [s["metadata"]["name"] for s in yaml.safe_load_all(first) if s]
    assert "airflow-redis-password" not in names and "airflow-broker-url" not in names


def test_gen_secrets_names_lists_names_and_keys_without_values(tmp_path):
    output = _secrets(["--config", str(make_project(tmp_path, fixture="airflow2-strip")), "--names"])
    assert output.splitlines() == [
        "airflow/airflow-fernet-key: fernet-key",
        "airflow/airflow-webserver-secret-key: webserver-secret-key",
        "airflow/airflow-postgresql: postgres-password, password",
        "airflow/airflow-metadata: connection",
        "airflow/airflow-redis-password: password",
        "airflow/airflow-broker-url: connection",
        "airflow/airflow-admin-password: password",
    ]


def test_gen_secrets_writes_no_file(tmp_path):
    config = make_project(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    _secrets(["--config", str(config)])
    assert sorted(p for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(("values", "path", "secret"), [
    ("webserver:\n  defaultUser:\n    password: hunter2-secret\n", "webserver.defaultUser.password",
     "airflow-admin-password (secrets.adminPassword)"),
    ("data:\n  metadataConnection:\n    pass: hunter2-secret\n", "data.metadataConnection.pass",
     "airflow-metadata (secrets.metadata)"),
    ("postgresql:\n  auth:\n    password: hunter2-secret\n", "postgresql.auth.password",
     "airflow-postgresql (secrets.postgresql)"),
    ("fernetKey: hunter2-secret\n", "fernetKey", "airflow-fernet-key (secrets.fernetKey)"),
])
def test_a_literal_credential_in_base_values_is_refused_without_echoing_it(tmp_path, values, path, secret):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, values=values), "gen.yaml")
    assert caught.value.problems == [
        f"charts/airflow/values.yaml: {path}: a credential written here would be committed to Git; remove it: gen "
        f"points the chart at Secret {secret}; create it with `gen secrets`"]
    assert "hunter2" not in str(caught.value)


def test_a_literal_credential_in_overlay_values_is_refused(tmp_path):
    text = (make_project(tmp_path).read_text()
            + "  celery-executor:\n    values:\n      redis: {password: hunter2-secret}\n")
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, text), "gen.yaml")
    assert caught.value.problems == [
        "gen.yaml: overlays.celery-executor.values: redis.password: a credential written here would be committed to "
        "Git; remove it: gen points the chart at Secret airflow-redis-password (secrets.redisPassword); create it "
        "with `gen secrets`"]


def test_secret_names_are_configurable(tmp_path):
    text = make_project(tmp_path).read_text() + "secrets:\n  fernetKey: shared-fernet\n"
    output = _secrets(["--config", str(make_project(tmp_path, text)), "--names"])
    assert "airflow/shared-fernet: fernet-key" in output.splitlines()


# --- the guard: nothing generated looks like a credential ----------------------------------------

# A URL may name a user (ssh://git@host/...), never a password: the user part has no ':'.
ALLOWED_STRINGS = re.compile(r"^([a-z][a-z0-9+.-]*://([\w.-]+@)?[\w.:/-]+|[\w.-]+|Host\(`[\w.-]+`\) && PathPrefix\(`[\w./~-]+`\)|"
                             r"exec airflow api-server --proxy-headers|[\w./-]+/[\w.:/-]+)$")


def _entropy(text):
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def _with_embedded_patches(docs):
    """A Flux Kustomization's patches are YAML text: check the objects inside instead of the text."""
    for document in docs:
        if document.get("kind") == "Kustomization" and document["apiVersion"].startswith("kustomize.toolkit"):
            patches = document["spec"].pop("patches", [])
            yield from _with_embedded_patches([yaml.safe_load(p["patch"]) for p in patches])
        yield document


@pytest.mark.parametrize("name", CONFIGS)
def test_no_generated_file_holds_a_credential(synthesized, name):
    secret_words = re.compile(r"(password|passwd|pass|secret|token|fernetkey|secretkey|jwtsecret|connection|"
                              r"brokerurl)$", re.IGNORECASE)
    for relative, data in tree(synthesized[name], "dist", "overlays", "clusters").items():
        for document in _with_embedded_patches(documents(data.decode())):
            for path, value in _strings(document):
                key = path.rsplit(".", 1)[-1]
                literal = (secret_words.search(key) and key not in SECRET_NAME_KEYS and value
                           and not SECRET_REFERENCE.search(path))
                assert not literal, f"{relative}: {path} holds a literal credential"
                high_entropy = (len(value) >= 20 and _entropy(value) > 4.0 and not ALLOWED_STRINGS.match(value)
                                and ".healthCheckExprs[" not in path)  # Flux's CEL health checks
                assert not high_entropy, f"{relative}: {path} looks like a credential: {value[:8]}..."
            assert document.get("kind") != "Secret", relative


def test_the_guard_catches_a_credential(tmp_path):
    """Guards the guard: a random key in the values is found."""
    value = base64.urlsafe_b64encode(bytes(range(32))).decode()
    document = {"spec": {"values": {"someKey": value, "redis": {"password": "x"}}}}
    found = [p for p, v in _strings(document) if len(v) >= 20 and _entropy(v) > 4.0 and not ALLOWED_STRINGS.match(v)]
    assert found == [".spec.values.someKey"]
