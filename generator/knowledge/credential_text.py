"""Credentials inside text that the chart or Airflow parses: JSON strings, YAML text, URLs, airflow.cfg lines.

The chart takes some values as text it parses later (`extraEnv` is YAML text, `config.secrets.backend_kwargs`
is JSON that Airflow reads, a connection is a URL, `airflowLocalSettings` and `webserver.webserverConfig`
are Python). A credential inside such text is committed to Git as surely as one at a key of its own. This
module parses the text as they do and applies the same credential rules (credentials.credential_paths,
passed in as `rules`) to what is inside; it only reads, and never shows a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from generator.plumbing.errors import ConfigError
from generator.plumbing.yamlio import parse_documents
from generator.schema import dotted

Rules = Callable[[Any], list[tuple[tuple[str | int, ...], str]]]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
# `key = value` (airflow.cfg, a Python assignment) or `export KEY=value` (a shell line), one per line.
_ASSIGNMENT = re.compile(r"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_PYTHON_STRING = re.compile(r"""^[rRbBuU]?(['"])(.*)\1$""")
# An environment list entry written as text the YAML reader cannot take (a Helm template beside it).
_ENV_ENTRY = re.compile(r"(?m)name:[ \t]*['\"]?([A-Za-z_][A-Za-z0-9_.-]*)['\"]?[ \t]*\n[ \t]*value:[ \t]*(.+?)[ \t]*$")
_MAX_DEPTH = 4  # text inside text inside text: deeper than any real value
_depth = [0]


Found = tuple[str, list[str]]  # why, and the secret texts themselves (for masking, never for showing)


def url_problem(url: str, rules: Rules) -> Found | None:
    """Why a URL carries a credential: a password in its user part (a '/' in it too, as SQLAlchemy takes),
    a token as the user alone of an http(s) URL, or a credential in its query (?password=)."""
    scheme, _, rest = url.partition("://")
    userinfo = rest.split("@", 1)[0] if "@" in rest else None
    if userinfo is not None:
        before_path = userinfo.split("/", 1)[0]
        if ":" in before_path:
            password = userinfo.split(":", 1)[1]
            port_then_path = "/" in password and password.split("/", 1)[0].isdigit()  # host:8080/a@b: no user part
            if password and not port_then_path:
                return "holds a URL with a password in its user part (user:password@)", [password]
        elif "/" not in userinfo and userinfo and scheme.lower() in ("http", "https"):
            return "holds an http(s) URL whose user part is a token (token@host)", [userinfo]
    query = rest.split("?", 1)[1].split("#", 1)[0] if "?" in rest else ""
    for key, value in parse_qsl(query, keep_blank_values=False):
        if rules({key: value}):
            return f"holds a URL with a credential in its query ({key}=)", [value]
    return None


def _parsed(text: str) -> Any:
    """What the chart or Airflow would parse `text` into: JSON when it looks like JSON, else YAML when it
    spans lines; None when it is plain text."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    if "\n" in stripped:
        try:
            documents = parse_documents(text, "text")
        except ConfigError:
            return None
        return documents[0] if len(documents) == 1 else documents or None
    return None


def _leaf(node: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _structured(parsed: Any, kind: str, rules: Rules) -> Found | None:
    found = rules(parsed)
    if not found:
        return None
    path, why = found[0]
    values = [leaf for at, _why in found for leaf in [_leaf(parsed, at)] if isinstance(leaf, str)]
    inner = [secret for leaf in values for secret in secrets(leaf, rules)]
    return f"holds {kind} in which {dotted(list(path)) if path else 'the value'} {why}", values + inner


def _lines(text: str, rules: Rules) -> Found | None:
    """airflow.cfg and Python assignments, and environment entries the YAML reader could not take."""
    python = "import " in text or "def " in text
    for key, value in _ASSIGNMENT.findall(text):
        literal = _PYTHON_STRING.match(value)
        if python and not literal:
            continue  # code (os.environ[...]), not a literal credential
        value = literal.group(2) if literal else value
        if rules({key.rsplit(".", 1)[-1]: value}):
            return f"holds a line `{key} = ...` that sets a credential", [value]
    for name, value in _ENV_ENTRY.findall(text):
        value = value.strip("'\"")
        if rules({"name": name, "value": value}):
            return f"holds an environment entry {name} whose value is a credential", [value]
    return None


def _scan(text: str, rules: Rules) -> Found | None:
    if _depth[0] >= _MAX_DEPTH:
        return None
    _depth[0] += 1
    try:
        for url in _URL.findall(text):
            found = url_problem(url, rules)
            if found:
                return found
        parsed = _parsed(text)
        if isinstance(parsed, (dict, list)):
            return _structured(parsed, "JSON" if text.strip()[:1] in "{[" else "YAML text", rules)
        return _lines(text, rules) if "\n" in text or "=" in text else None
    finally:
        _depth[0] -= 1


def problem(text: str, rules: Rules) -> str | None:
    """Why `text` carries a credential inside it, by the same rules as the values around it; None if not."""
    found = _scan(text, rules)
    return found[0] if found else None


def secrets(text: str, rules: Rules) -> list[str]:
    """The credentials inside `text` themselves, so that a message quoting what the chart made of it can
    mask them (gen import's plan); empty when it holds none."""
    found = _scan(text, rules)
    return [secret for secret in found[1] if secret] if found else []


def instead(path: tuple[str | int, ...]) -> str | None:
    """What to write instead of a credential at `path`: a Secret, and the chart key that reads it."""
    keys = [str(p) for p in path if not isinstance(p, int)]
    if len(keys) >= 3 and keys[0] == "config":
        variable = f"AIRFLOW__{keys[1].upper()}__{keys[2].upper()}"
        return (f"keep the whole value in a Secret and have the chart read it with `secret: [{{envName: {variable}, "
                f"secretName: <Secret>, secretKey: <key>}}]`")
    if any(key.lower().endswith("env") for key in keys):
        return ("keep the value in a Secret and read it in the entry with `valueFrom: {secretKeyRef: {name: <Secret>, "
                "key: <key>}}` (or list the Secret under extraEnvFrom)")
    return None
