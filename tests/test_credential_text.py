"""Credentials inside text the chart parses are found by the same rules as credentials at keys of their own:
JSON strings, YAML text, URLs (a token as the user alone, a '/' in a password, ?password=), airflow.cfg and
Python lines. Each class over several examples; what is no credential stays accepted; no value is shown."""

from __future__ import annotations

import json

import pytest
import yaml
from support import make_project

from generator.config import load
from generator.knowledge import credentials
from generator.plumbing.errors import ConfigError

SECRET = "s3cr3tVALUE9"

# class -> {example name: (values text, the path refused)}
HIDDEN = {
    "JSON string": {
        "vault token": ("config:\n  secrets:\n    backend_kwargs: " + repr(json.dumps(
            {"url": "https://vault.example.com", "token": SECRET, "mount_point": "airflow"})) + "\n",
            "config.secrets.backend_kwargs"),
        "nested password": ("config:\n  secrets:\n    backend_kwargs: " + repr(json.dumps(
            {"connections": {"db": {"password": SECRET}}})) + "\n", "config.secrets.backend_kwargs"),
        "list of env": ("extraEnvJson: " + repr(json.dumps([{"name": "API_TOKEN", "value": SECRET}])) + "\n",
                        "extraEnvJson"),
    },
    "YAML text": {
        "extraEnv": (f"extraEnv: |\n  - name: AWS_SECRET_ACCESS_KEY\n    value: {SECRET}\n", "extraEnv"),
        "extraEnv with a template": ("extraEnv: |\n  - name: DB_PASSWORD\n    value: " + SECRET + "\n"
                                     "  - name: HOST\n    value: {{ .Release.Name }}-db\n", "extraEnv"),
        "workers extraEnv": (f"workers:\n  extraEnv: |\n    - name: GITHUB_TOKEN\n      value: {SECRET}\n",
                             "workers.extraEnv"),
        "a mapping as text": (f"extraConfig: |\n  smtp:\n    smtp_password: {SECRET}\n", "extraConfig"),
    },
    "URL": {
        "token as the user alone": (f"images:\n  gitSync:\n    repository: https://ghp_{SECRET}@github.com/o/r\n",
                                    "images.gitSync.repository"),
        "slash in a SQLAlchemy password": (f"config:\n  logging:\n    remote_base: postgresql://u:ab/{SECRET}@db/x\n",
                                           "config.logging.remote_base"),
        "password in the query": (f"note: 'postgresql://db.example.com/a?sslmode=require&password={SECRET}'\n",
                                  "note"),
        "token in the query": (f"hook: 'https://hooks.example.com/x?token={SECRET}'\n", "hook"),
    },
    "airflow.cfg and Python": {
        "cfg line": (f"airflowConfigText: |\n  [smtp]\n  smtp_password = {SECRET}\n", "airflowConfigText"),
        "Python literal": ("webserver:\n  webserverConfig: |\n    import os\n    SECRET_KEY = '" + SECRET + "'\n",
                           "webserver.webserverConfig"),
        "shell export": (f"script: |\n  export API_TOKEN={SECRET}\n  run\n", "script"),
    },
}
CASES = [(kind, name) for kind, examples in HIDDEN.items() for name in examples]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}: {n}" for k, n in CASES])
def test_a_credential_inside_text_is_refused_in_one_line_naming_the_key(tmp_path, kind, name):
    text, path = HIDDEN[kind][name]
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, values=text), "gen.yaml")
    [line] = caught.value.problems
    assert line.startswith(f"charts/airflow/values.yaml: {path}: ") and "would be committed to Git" in line
    assert SECRET not in line


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}: {n}" for k, n in CASES])
def test_the_credential_inside_is_what_a_message_masks(kind, name):
    text, path = HIDDEN[kind][name]
    node = yaml.safe_load(text)
    for key in path.split("."):
        node = node[key]
    assert any(SECRET in secret for secret in credentials.secrets_inside(node))


@pytest.mark.parametrize(("text", "hint"), [
    (HIDDEN["JSON string"]["vault token"][0], "envName: AIRFLOW__SECRETS__BACKEND_KWARGS"),
    (HIDDEN["YAML text"]["extraEnv"][0], "secretKeyRef"),
])
def test_the_message_names_the_secret_and_the_key_that_reads_it(tmp_path, text, hint):
    with pytest.raises(ConfigError) as caught:
        load(make_project(tmp_path, values=text), "gen.yaml")
    assert hint in caught.value.problems[0]


NOT_CREDENTIALS = """
extraEnv: |
  - name: AIRFLOW__CORE__LOAD_EXAMPLES
    value: "False"
  - name: DB_PASSWORD
    valueFrom: {secretKeyRef: {name: db, key: password}}
config:
  secrets:
    backend_kwargs: '{"url": "https://vault.example.com", "mount_point": "airflow", "auth_type": "kubernetes"}'
webserver:
  webserverConfig: |
    import os
    SECRET_KEY = os.environ["WEBSERVER_SECRET"]
    AUTH_TYPE = 1
links:
  - http://host.example.com:8080/path@anchor
  - ssh://git@github.com/org/repo.git
  - https://github.com/org/repo?ref=main
  - postgresql://db.example.com/airflow?sslmode=require
script: |
  export PATH=/usr/bin
  echo done
"""


def test_text_without_a_credential_is_accepted():
    assert credentials.credential_paths(yaml.safe_load(NOT_CREDENTIALS)) == []
