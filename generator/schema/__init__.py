"""JSON Schemas shipped with gen, and the formatter that turns their errors into one-line messages."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


@cache
def load(name: str) -> dict[str, Any]:
    """The named schema (`config` or `chart-pin`), parsed once per process."""
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A config-schema node with its `$ref` (to `#/$defs/...`) followed."""
    if "$ref" in node:
        return load("config")["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def dotted(path: list[Any] | tuple[Any, ...]) -> str:
    """`["ingress", "entryPoints", 0]` -> `ingress.entryPoints[0]`; the whole document is `(top level)`."""
    out = ""
    for part in path:
        if not isinstance(part, int):
            # A key with spaces, quotes or colons is quoted, so the path stays one readable token.
            part = part if re.fullmatch(r"[A-Za-z0-9_./~-]+", str(part)) else repr(str(part))
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def show(value: Any, limit: int = 60) -> str:
    """A value as it appears in a message: quoted, and cut short so a huge input never floods the terminal."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "boolean": "true or false", "number": "a number", "null": "null"}


def _type_name(value: Any) -> str:
    for name, pytype in (("null", type(None)), ("boolean", bool), ("integer", int), ("number", float),
                         ("string", str), ("array", list), ("object", dict)):
        if isinstance(value, pytype):
            return _TYPE_NAMES[name]
    return type(value).__name__


def _messages(error: ValidationError) -> list[tuple[str, str]]:
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in schema.get("properties", {}))
        hint = f"allowed keys: {', '.join(allowed)}" if allowed else "no keys are allowed here"
        return [(dotted(path + [k]), f"unknown key; {hint}") for k in extra]
    if kind == "required":
        missing = [r for r in error.validator_value if r not in error.instance]
        props = schema.get("properties", {})
        return [(dotted(path + [m]), f"is required: {props.get(m, {}).get('description', '')}".rstrip(": "))
                for m in missing]
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
        return [(dotted(path), f"must be {names}, not {_type_name(error.instance)}")]
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return [(dotted(path), f"{show(error.instance)} is not allowed; allowed: {allowed}")]
    if "x-error" in schema and kind in ("minProperties", "maxProperties") and isinstance(error.instance, dict):
        keys = sorted(str(k) for k in error.instance)
        what = f"has {len(keys)} keys ({', '.join(keys)})" if keys else "is empty"
        return [(dotted(path), f"{what}; {schema['x-error']}")]
    if "x-error" in schema and kind in ("pattern", "minProperties", "maxProperties", "maxLength", "minLength", "not"):
        shown = "" if isinstance(error.instance, dict) else f"{show(error.instance)} "
        return [(dotted(path), f"{shown}{schema['x-error']}".strip())]
    if kind == "pattern":
        return [(dotted(path), f"{show(error.instance)} does not match {error.validator_value}")]
    if kind in ("maxLength", "minLength", "minItems", "maxItems", "minimum", "maximum"):
        bound = {"maxLength": "at most {} characters", "minLength": "at least {} characters",
                 "minItems": "at least {} items", "maxItems": "at most {} items",
                 "minimum": "at least {}", "maximum": "at most {}"}[kind].format(error.validator_value)
        return [(dotted(path), f"{show(error.instance)} is out of range; must be {bound}")]
    if kind == "uniqueItems":
        return [(dotted(path), "has duplicate items; each item may appear once")]
    return [(dotted(path), error.message)]


# ECMA-262 (JSON Schema's regex dialect) reads `$` as the end of the string; Python's `re` also lets it
# match before a final newline, so "host\n" would pass `^...$`. The schemas stay portable `^...$`; this
# validator reads each `$` outside a character class as `\Z`, as ECMA-262 does, for every pattern, so
# keys added later are covered without anyone remembering to write `\Z`.
_DOLLAR = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]|\$", re.DOTALL)


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """A JSON Schema `pattern`, compiled with ECMA-262's meaning of `$` (the very end of the string)."""
    return re.compile(_DOLLAR.sub(lambda m: r"\Z" if m.group() == "$" else m.group(), pattern))


# And by rule, not per pattern: a string that has a pattern to match never holds a control character
# or a line separator, whatever its pattern's character classes let through ([^\s]+ takes \x1b).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _pattern(_validator: Any, pattern: str, instance: Any, _schema: dict[str, Any]) -> Any:
    if isinstance(instance, str) and (_CONTROL.search(instance) or not ecma_regex(pattern).search(instance)):
        from jsonschema.exceptions import ValidationError  # loaded already: the validator runs

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _ecma_pattern(_validator: Any, pattern: str, instance: Any, _schema: dict[str, Any]) -> Any:
    if isinstance(instance, str) and not ecma_regex(pattern).search(instance):
        from jsonschema.exceptions import ValidationError  # loaded already: the validator runs

        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def with_ecma_patterns(validator: Any) -> Any:
    """`validator` (a jsonschema class) reading `$` in patterns as ECMA-262 and Go's RE2 do: the end of the
    string. For schemas gen does not own (CRDs, the chart's values schema)."""
    from jsonschema import validators

    return validators.extend(validator, validators={"pattern": _ecma_pattern})


def _integer(_checker: Any, instance: Any) -> bool:
    # jsonschema counts 2.0 as an integer; gen's users mean a count, and range(2.0) fails later.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 patterns and integers that are integers; built on first use."""
    # jsonschema is a quarter of gen's start-up: imported only when something is checked.
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, validators={"pattern": _pattern},
                             type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _integer))


def problems(schema: dict[str, Any], instance: Any, label: str) -> list[str]:
    """Every violation of `schema` by `instance`, one line each, sorted by path: `label: path: problem`."""
    validator = validator_class()(schema)
    found: set[tuple[str, str]] = set()
    for error in validator.iter_errors(instance):
        found.update(_messages(error))
    return [f"{label}: {path}: {message}" for path, message in sorted(found)]
