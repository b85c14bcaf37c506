"""Input is what it looks like, and no credential passes into Git: by rule, for every field.

- Every `pattern` in generator/schema/*.json matches the whole string: a trailing newline, carriage
  return or other control character is refused (Python's `$` also matches before a final newline).
- Every string setting of every fixture config, with a line break or control character appended, is
  refused in one line naming that setting.
- A credential-shaped value at any key of the Helm values is refused, naming its path, never echoing it.
- Explicit YAML tags with bad content, counts given as 2.0, a config link loop, CRD alias bombs and
  the parents of the node's system directories are refused in one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from support import CHART_REFERENCE, CONFIGS, FIXTURES, REPO, make_project

from generator import schema
from generator.commands import cli
from generator.config import load
from generator.knowledge import credentials, hardening, sync
from generator.model import Version
from generator.plumbing import output
from generator.plumbing.errors import ConfigError, GenError
from generator.review.validate import load_crds

SCHEMA_DIR = Path(schema.__file__).parent
CONTROL = ["\n", "\r", "\t", "\x00", "\x0b", "\x1b", "\x7f"]


def _patterns(node: Any, where: str) -> list[tuple[str, str]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                found.append((where, value))
            else:
                found += _patterns(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _patterns(value, f"{where}/{index}")
    return found


PATTERNS = [(f"{path.name}#{where}", pattern) for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
            for where, pattern in _patterns(json.loads(path.read_text()), "")]


def test_the_schemas_have_patterns_to_check():
    assert len(PATTERNS) > 40


def _generable(pattern: str) -> str:
    """The pattern without lookaheads (hypothesis cannot draw from them); examples are filtered instead."""
    return re.sub(r"\(\?=[^()]*\)", "", pattern)


# Each pattern once (96 settings share 46 patterns), named by the first setting that has it.
DISTINCT: dict[str, str] = {}
for _where, _pattern in PATTERNS:
    DISTINCT.setdefault(_pattern, _where)


@pytest.mark.parametrize(("where", "pattern"), [(w, p) for p, w in DISTINCT.items()], ids=list(DISTINCT.values()))
@settings(max_examples=15)
@given(data=st.data())
def test_every_schema_pattern_refuses_a_trailing_control_character(where, pattern, data):
    node = {"type": "string", "pattern": pattern}
    example = data.draw(st.from_regex(_generable(pattern), fullmatch=True)
                        .filter(lambda s: not schema.problems(node, s, "x")))
    character = data.draw(st.sampled_from(CONTROL))
    assert schema.problems(node, example + character, "x"), (where, example + character)
    assert schema.problems(node, character + example, "x") or pattern.startswith("^") is False


def test_the_ecma_reading_of_a_pattern_keeps_escaped_and_bracketed_dollars():
    assert schema.ecma_regex(r"^a\$b[$]$").pattern == r"^a\$b[$]\Z"
    assert schema.ecma_regex("^(a|b$)").search("b") and not schema.ecma_regex("^(a|b$)").search("b\n")


@pytest.mark.parametrize("text", ["3.1.7\n", " 3.1.7", "3.1.7\r"])
def test_a_version_with_a_line_break_is_no_version(text):
    with pytest.raises(ValueError):
        Version.parse(text)


def test_integers_must_be_integers_not_floats():
    node = {"type": "integer"}
    assert schema.problems(node, 2.0, "x") == ["x: (top level): must be an integer, not a number"]
    assert schema.problems(node, 2, "x") == []


# --- every string setting of every fixture config ---------------------------------------------------

def _string_settings(node: Any, path: tuple = ()) -> list[tuple]:
    """Key paths of every string in a config, except free-form Helm values and env values (any text)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "values":
                found += _string_settings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _string_settings(value, (*path, index))
    elif isinstance(node, str) and not (len(path) > 2 and path[-3] == "env" and path[-1] == "value"):
        found.append(path)
    return found


def _config_text(name: str) -> str:
    return (REPO / "gen.yaml" if name == "example" else FIXTURES / name / "gen.yaml").read_text()


def _changed(name: str, dotted_path: str, value: Any) -> str:
    """The fixture's config with one setting replaced, as JSON (which is YAML)."""
    raw = yaml.safe_load(_config_text(name))
    node = raw
    *parents, last = dotted_path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return json.dumps(raw)


SETTINGS = [(name, path) for name in CONFIGS for path in _string_settings(yaml.safe_load(_config_text(name)))]


def test_the_fixtures_cover_the_settings_the_review_named():
    named = {schema.dotted(list(path)) for _name, path in SETTINGS}
    for setting in ("ingress.host", "namespace", "release", "ingress.pathPrefix", "storage.dags.hostPath",
                    "storage.logs.size", "ingress.entryPoints[0]", "ingress.tls.certResolver", "airflow.version",
                    "flux.cluster.url", "airflow.image.repository"):
        assert setting in named, setting


@pytest.mark.parametrize(("name", "path"), SETTINGS, ids=[f"{n}:{schema.dotted(list(p))}" for n, p in SETTINGS])
@pytest.mark.parametrize("character", ["\n", "\r", "\u2028"], ids=repr)
def test_every_string_setting_with_a_trailing_control_character_is_refused(tmp_path, name, path, character):
    raw = yaml.safe_load(_config_text(name))
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] += character
    config = make_project(tmp_path, json.dumps(raw), fixture=name)
    with pytest.raises(ConfigError) as caught:
        load(config, "gen.yaml")
    field = schema.dotted(list(path))
    assert any(line.startswith(f"gen.yaml: {field}") for line in caught.value.problems), caught.value.problems
    assert all("\n" not in line and "\r" not in line for line in caught.value.problems)


@pytest.mark.parametrize("key", ["version", "repository", "name", "airflowVersion"])
def test_chart_pin_fields_with_a_trailing_newline_are_refused(tmp_path, key):
    config = make_project(tmp_path)
    pin = tmp_path / "charts" / "airflow" / "chart.yaml"
    raw = yaml.safe_load(pin.read_text())
    raw[key] += "\n"
    pin.write_text(json.dumps(raw))
    with pytest.raises(ConfigError) as caught:
        load(config, "gen.yaml")
    assert [line for line in caught.value.problems if line.startswith(f"charts/airflow/chart.yaml: {key}: ")]


@pytest.mark.parametrize("name", ["gen\n.yaml", "gen\r.yaml", "gen\x1b[2J.yaml"], ids=repr)
def test_a_config_name_with_a_line_break_keeps_the_header_one_line(tmp_path, name):
    header = output.header(name)
    assert header.count("\n") == 1 and header.endswith("\n") and "\r" not in header and "\x1b" not in header
    config = make_project(tmp_path / "project")
    renamed = config.with_name(name)
    config.rename(renamed)
    result = CliRunner().invoke(cli, ["synth", "--config", str(renamed)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for path in (tmp_path / "project" / "dist").rglob("*.yaml"):
        first, _, rest = path.read_text().partition("\n")
        assert first.startswith("# Generated by gen from ") and not rest.startswith(("#", ".yaml"))
        yaml.safe_load_all(rest)


# --- credentials, by rule -------------------------------------------------------------------------

SECRET_KEYS = ["password", "Password", "postgresPassword", "replicationPassword", "pass", "passwd", "pwd",
               "fernet_key", "fernetKey", "jwt_secret", "jwtSecret", "secret_key", "webserverSecretKey", "token",
               "api_token", "apiKey", "api-key", "sql_alchemy_conn", "metadataConnection", "result_backend_conn",
               "clientSecret", "privateKey", "sshKey", "keytabBase64Content", "ACCESS_TOKEN", "credentials"]
key_names = st.from_regex(r"[a-z][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda k: not credentials._secret_key(credentials._normal(k), "x", set(), ""))
secret_text = st.from_regex(r"[A-Za-z0-9+/=_-]{1,24}", fullmatch=True)


def _nest(path: list[str], leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for key in reversed(path):
        node = {key: node}
    return node


@settings(max_examples=300)
@given(path=st.lists(key_names, max_size=4), key=st.sampled_from(SECRET_KEYS), value=secret_text)
def test_a_secret_meaning_key_at_any_depth_is_refused_without_echoing_the_value(path, key, value):
    values = _nest(path, {key: value, "enabled": True})
    found = credentials.credential_paths(values)
    assert [p for p, _why in found] == [(*path, key)]


@settings(max_examples=300)
@given(path=st.lists(key_names, min_size=1, max_size=4),
       scheme=st.sampled_from(["postgresql", "mysql+pymysql", "redis", "https", "db+postgresql", "amqp"]),
       user=st.from_regex(r"[a-z0-9]{0,8}", fullmatch=True),
       password=st.from_regex(r"[A-Za-z0-9_.~%-]{1,24}", fullmatch=True),
       where=st.sampled_from(["whole", "embedded"]))
def test_a_url_with_a_password_under_any_key_is_refused(path, scheme, user, password, where):
    url = f"{scheme}://{user}:{password}@db.example.com:5432/airflow"
    text = url if where == "whole" else json.dumps({"url": url, "other": 1})
    found = credentials.credential_paths(_nest(path[:-1], {path[-1]: text}))
    assert [p for p, _why in found] == [tuple(path)]


REVIEW_CASES = {
    "config.core.fernet_key": "config:\n  core:\n    fernet_key: Zm9vYmFy\n",
    "config.database.sql_alchemy_conn": "config:\n  database:\n    sql_alchemy_conn: postgresql://a:b@h/db\n",
    "config.api_auth.jwt_secret": "config:\n  api_auth:\n    jwt_secret: s3cr3t\n",
    "registry.connection.pass": "registry:\n  connection: {user: u, pass: s3cr3t, host: r.example.com}\n",
    "opensearch.connection.pass": "opensearch:\n  connection: {user: u, pass: s3cr3t}\n",
    "extraSecrets.my-secret.stringData": "extraSecrets:\n  my-secret:\n    stringData: |\n      TOKEN: s3cr3t\n",
    "postgresql.auth.replicationPassword": "postgresql:\n  auth:\n    replicationPassword: s3cr3t\n",
    "data.metadataConnection": "data:\n  metadataConnection: postgresql://u:s3cr3t@h:5432/airflow\n",
    "env[0].value": "env:\n  - {name: AIRFLOW__CORE__FERNET_KEY, value: s3cr3t}\n",
    "pgbouncer.ssl.key": "pgbouncer:\n  ssl:\n    key: |\n      -----BEGIN PRIVATE KEY-----\n      abc\n",
}


@pytest.mark.parametrize("path", sorted(REVIEW_CASES))
def test_the_reviews_credentials_are_refused_in_one_line_naming_the_path(tmp_path, path):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, values=REVIEW_CASES[path]), "gen.yaml")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"charts/airflow/values.yaml: {path}: ")
    assert "would be committed to Git" in caught.value.problems[0]
    assert "s3cr3t" not in caught.value.problems[0] and "Zm9vYmFy" not in caught.value.problems[0]


REFERENCES = """
registry: {secretName: regcred}
postgresql: {auth: {existingSecret: pg, secretKeys: {adminPasswordKey: postgres-password, userPasswordKey: pw}}}
secret: [{envName: TOKEN, secretName: my-secret, secretKey: token}]
pgbouncer: {maxClientConn: 100, metricsExporterSidecar: {statsSecretName: stats, statsSecretKey: uri}}
dags: {gitSync: {credentialsSecret: git-credentials, sshKeySecret: git-ssh, repo: "ssh://git@github.com/a/b.git"}}
workers: {serviceAccount: {automountServiceAccountToken: true}}
enableBuiltInSecretEnvVars: {AIRFLOW__CORE__FERNET_KEY: false}
env: [{name: AIRFLOW__CORE__LOAD_EXAMPLES, value: "False"}, {name: SECRET_NAME, value: x}]
kerberos: {keytabPath: /etc/airflow.keytab}
config: {kerberos: {keytab: "{{ .Values.kerberos.keytabPath }}"}, webserver: {expose_config: "False"}}
extraConfigMaps: {cm: {data: "a: b"}}
"""


def test_references_to_secrets_are_not_credentials():
    assert credentials.credential_paths(yaml.safe_load(REFERENCES)) == []


def test_the_charts_own_defaults_hold_exactly_its_three_default_passwords():
    """Guards the rules against false alarms over every key the chart has."""
    defaults = yaml.safe_load((CHART_REFERENCE / "values.yaml").read_text())
    assert sorted(p for p, _why in credentials.credential_paths(defaults)) == [
        ("createUserJob", "defaultUser", "password"), ("data", "metadataConnection", "pass"),
        ("postgresql", "auth", "postgresPassword")]


@pytest.mark.parametrize("url", ["https://oauth2:TOKEN@gitlab.example.com/group/gitops.git",
                                 "https://TOKEN@github.com/example/gitops", "http://user:pw@git.example.com/x",
                                 "ssh://git:pw@github.com/example/gitops"])
def test_flux_cluster_url_may_carry_no_credential(tmp_path, url):
    text = _changed("tls-secret", "flux.cluster.url", url)
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, text, fixture="tls-secret"), "gen.yaml")
    lines = [line for line in caught.value.problems if line.startswith("gen.yaml: flux.cluster.url: ")]
    assert len(lines) == 1 and "flux.cluster.secretName" in lines[0]
    assert "TOKEN" not in " ".join(caught.value.problems) and ":pw@" not in " ".join(caught.value.problems)


def test_an_ssh_url_may_name_its_git_user():
    assert sync.url_credential_problem("ssh://git@github.com/example/gitops") is None
    assert sync.url_credential_problem("https://github.com/example/gitops") is None


# --- YAML, counts, links, CRDs -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["!!int abc", "!!float abc", "!!bool maybe", "!!int 0b12", "!!int ''"])
@pytest.mark.parametrize("where", ["gen.yaml", "values.yaml"])
def test_core_tags_with_bad_content_are_one_line(tmp_path, value, where):
    config = make_project(tmp_path)
    if where == "gen.yaml":
        config.write_text(re.sub(r"(?m)^release: .*$", f"release: {value}", config.read_text()))
        field, label = "release", str(config)
    else:
        (tmp_path / "charts" / "airflow" / "values.yaml").write_text(f"a: {value}\n")
        field, label = "a", "charts/airflow/values.yaml"
    result = CliRunner().invoke(cli, ["synth", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {label}: {field}: ")
    assert "is not a valid !!" in result.stderr


def test_a_node_count_of_two_point_zero_is_refused_by_kind_config(tmp_path):
    text = _config_text("kind-workers").replace("nodes: 3", "nodes: 3.0")
    result = CliRunner().invoke(cli, ["kind-config", "--config", str(make_project(tmp_path, text,
                                                                                  fixture="kind-workers"))])
    assert result.exit_code == 1
    assert result.stderr.endswith("cluster.nodes: must be an integer, not a number\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("command", [["synth"], ["kind-config"], ["secrets"], ["validate"], ["diff"]])
def test_a_config_link_loop_is_one_line(tmp_path, command):
    loop = tmp_path / "gen.yaml"
    loop.symlink_to(tmp_path / "other.yaml")
    (tmp_path / "other.yaml").symlink_to(loop)
    result = CliRunner().invoke(cli, [*command, "--config", str(loop)], catch_exceptions=False)
    assert result.exit_code in (1, 2)
    assert "internal error" not in result.output and "Traceback" not in result.output
    assert "Too many levels of symbolic links" in result.output


def test_a_crd_alias_bomb_is_refused_in_one_line(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = tmp_path / "crds.yaml"
    bomb.write_text("kind: CustomResourceDefinition\n" + "\n".join(lines) + "\n")
    with pytest.raises(GenError) as caught:
        load_crds([bomb])
    assert caught.value.problems == [f"{bomb}: a1[0]: anchors and aliases (*name) are not allowed; write the value "
                                     f"out (line 3, column 10)"]


def test_an_unsupported_airflow_version_is_told_a_supported_one(tmp_path):
    config = make_project(tmp_path, _changed("example", "airflow.version", None))
    pin = tmp_path / "charts" / "airflow" / "chart.yaml"
    pin.write_text(re.sub(r"airflowVersion: .*", "airflowVersion: 4.0.0", pin.read_text()))
    with pytest.raises(ConfigError) as caught:
        load(config, "gen.yaml")
    line = next(p for p in caught.value.problems if "4.0.0" in p)
    assert "4.0.0 is not supported" in line and line.endswith("such as 3.3.2")


# --- the node's own directories ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/var", "/var/lib", "/var/lib/rancher", "/var/lib/rancher/k3s/storage",
                                  "/var/log", "/var/lib/kubelet/pods", "/root", "/usr/local", "/var/lib/containerd"])
def test_system_directories_and_their_parents_are_refused(tmp_path, path):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, _changed("example", "storage.dags.hostPath", path)), "gen.yaml")
    assert [p for p in caught.value.problems if p.startswith("gen.yaml: storage.dags.hostPath: ")
            and "system directory of the node" in p]


@pytest.mark.parametrize("path", ["/srv/airflow/dags", "/var/log/airflow", "/data/dags", "/var/lib/airflow/dags",
                                  "/opt/airflow/dags"])
def test_directories_of_their_own_are_accepted(tmp_path, path):
    load(make_project(tmp_path, _changed("example", "storage.dags.hostPath", path)), "gen.yaml")


def test_gen_validate_reads_patterns_of_crds_and_the_chart_schema_as_the_api_server_does(tmp_path):
    """Go's RE2 and ECMA-262 both read `$` as the end of the text: "abc\\n" breaks `^[a-z]+$` there too."""
    from generator.review.validate import ChartSchema

    schema_path = tmp_path / "values.schema.json"
    schema_path.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "string",
                                                                              "pattern": "^[a-z]+$"}}}))
    chart = ChartSchema.load(schema_path)
    assert chart.problems({"a": "abc"}) == []
    assert chart.problems({"a": "abc\n"})
    crd = tmp_path / "crd.yaml"
    crd.write_text(yaml.safe_dump({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "spec": {"group": "example.com", "names": {"kind": "Thing"}, "versions": [{"name": "v1", "schema": {
            "openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "string",
                                                                          "pattern": "^[a-z]+$"}}}}}]}}))
    validator = load_crds([crd])[("example.com/v1", "Thing")]
    assert list(validator.iter_errors({"spec": "abc"})) == []
    assert list(validator.iter_errors({"spec": "abc\n"}))


@pytest.mark.parametrize("name", ["values.yaml", "chart.yaml"])
def test_a_chart_file_planted_as_a_link_is_not_followed(tmp_path, name):
    config = make_project(tmp_path / "project")
    outside = tmp_path / "outside.yaml"
    outside.write_text("TOKEN_do_not_print: 1\n")
    planted = tmp_path / "project" / "charts" / "airflow" / name
    planted.unlink()
    planted.symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        load(config, "gen.yaml")
    assert caught.value.problems == [f"charts/airflow/{name}: not read: charts/airflow/{name} is a symbolic link "
                                     f"(to {outside}); gen reads only regular files inside the project; remove it "
                                     f"and run gen synth"]


@pytest.mark.parametrize(("url", "refused"), [("s3://AKIA:secret@bucket/logs", True),
                                              ("https://user:pw@logs.example.com/airflow", True),
                                              ("wasb://logs@account.blob.core.windows.net/airflow", False),
                                              ("s3://bucket/airflow/logs", False)])
def test_a_url_setting_may_carry_no_password(tmp_path, url, refused):
    text = _changed("minikube-remote-logs", "storage.logs.remote.baseLogFolder", url)
    config = make_project(tmp_path, text, fixture="minikube-remote-logs")
    if not refused:
        load(config, "gen.yaml")
        return
    with pytest.raises(ConfigError) as caught:
        load(config, "gen.yaml")
    assert [line for line in caught.value.problems
            if line.startswith("gen.yaml: storage.logs.remote.baseLogFolder: ") and "committed to Git" in line]
    assert "secret@" not in " ".join(caught.value.problems) and "pw@" not in " ".join(caught.value.problems)


# --- names Kubernetes accepts, each by the exact rule of its kind ------------------------------------

SUBDOMAIN_SETTINGS = ["secrets.fernetKey", "secrets.metadata", "ingress.tls.secretName",
                      "ingress.middlewares[0].name", "flux.cluster.secretName"]
BAD_SUBDOMAINS = ["fernet..key", "tls..cert", "a..b", "a.-b", "a-.b", "-a", "a-", ".a", "a.", "A.b", "a_b", "a b"]
GOOD_SUBDOMAINS = ["a", "a.b", "a-b.c-d", "tls.example.com", "0.9"]


def _with_name(setting: str, name: str) -> str:
    text = _config_text("example")
    settings = {
        "secrets.fernetKey": f"secrets:\n  fernetKey: '{name}'\n",
        "secrets.metadata": f"secrets:\n  metadata: '{name}'\n",
        "ingress.tls.secretName": None,
        "ingress.middlewares[0].name": None,
        "flux.cluster.secretName": None,
    }
    if settings[setting]:
        return text + settings[setting]
    data = yaml.safe_load(text)
    if setting == "ingress.tls.secretName":
        data["ingress"]["tls"] = {"secretName": name}
    elif setting == "ingress.middlewares[0].name":
        data["ingress"]["middlewares"] = [{"name": name}]
    else:
        data["flux"]["cluster"] = {"name": "home", "url": "https://git.example.com/a/b.git", "secretName": name}
    return yaml.safe_dump(data)


@pytest.mark.parametrize("setting", SUBDOMAIN_SETTINGS)
@pytest.mark.parametrize("name", BAD_SUBDOMAINS)
def test_a_name_that_kubernetes_refuses_is_refused_by_its_rule(tmp_path, setting, name):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, _with_name(setting, name)), "gen.yaml")
    assert any(p.startswith(f"gen.yaml: {setting}: ") and "DNS-1123 subdomain" in p for p in caught.value.problems)


@pytest.mark.parametrize("setting", SUBDOMAIN_SETTINGS)
@pytest.mark.parametrize("name", GOOD_SUBDOMAINS)
def test_a_name_that_kubernetes_accepts_passes_its_rule(tmp_path, setting, name):
    try:
        load(make_project(tmp_path, _with_name(setting, name)), "gen.yaml")
    except ConfigError as exc:
        assert not [p for p in exc.problems if p.startswith(f"gen.yaml: {setting}: ")]


def test_every_name_pattern_of_the_schema_is_one_of_the_two_exact_rules():
    label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    loose = [where for where, pattern in PATTERNS if "[-a-z0-9.]" in pattern]
    assert loose == []
    used = {pattern for _where, pattern in PATTERNS}
    assert label in used and subdomain in used


# --- a tag on the wrong kind of node -------------------------------------------------------------------

@pytest.mark.parametrize("value", ["!!str [a, b]", "!!str {a: 1}", "!!int [1]", "!!bool {a: b}", "!!null [x]",
                                   "!!map [a]", "!!seq {a: 1}", "!!seq b", "!!map c"])
@pytest.mark.parametrize("where", ["gen.yaml", "values.yaml"])
def test_a_tag_on_the_wrong_kind_of_node_is_one_line(tmp_path, value, where):
    config = make_project(tmp_path)
    if where == "gen.yaml":
        config.write_text(config.read_text().replace("  celery:\n    replicas: 1\n", f"  celery:\n    replicas: {value}\n"))
        field, label = "workers.celery.replicas", str(config)
    else:
        (tmp_path / "charts" / "airflow" / "values.yaml").write_text(f"a: {value}\n")
        field, label = "a", "charts/airflow/values.yaml"
    result = CliRunner().invoke(cli, ["synth", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"error: {label}: {field}: the tag '")
    assert "cannot be put on" in result.stderr


# --- an allowlist that allows everyone ----------------------------------------------------------------------

@pytest.mark.parametrize(("networks", "warned"), [
    (["0.0.0.0/0"], [0]), (["::/0"], [0]), (["192.168.1.0/24", "0.0.0.0/0", "::/0"], [1, 2]),
    (["192.168.1.0/24", "2001:db8::/32"], []), (["0.0.0.0/1", "128.0.0.0/1"], [])])
def test_an_allowlist_that_allows_everyone_warns(tmp_path, networks, warned):
    text = _config_text("example").replace("  # allowFrom: [192.168.1.0/24]\n",
                                           f"  allowFrom: {json.dumps(networks)}\n")
    found = hardening.warnings(load(make_project(tmp_path, text), "gen.yaml"))
    assert [int(line.split("allowFrom[")[1].split("]")[0]) for line in found] == warned
    assert all("lets everyone reach Airflow's login" in line for line in found)
