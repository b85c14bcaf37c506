"""The config reference in docs/configuration.md, rendered from the schema so the two can never disagree.

Run `python -m generator.reference` to print it; a test checks docs/configuration.md contains it verbatim.
"""

from __future__ import annotations

import json
from typing import Any

from generator.schema import load, resolve


def _rows(node: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        prop = resolve(prop)
        key = f"{prefix}{name}"
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        kind = " or ".join(types)
        if "enum" in prop:
            kind = " \\| ".join(f"`{v}`" for v in prop["enum"])
        if name in required:
            default = "required"
        elif isinstance(prop.get("default"), (dict, list)) and not prop["default"]:
            default = "" if "properties" in prop else f"`{json.dumps(prop['default'])}`"
        else:
            default = f"`{json.dumps(prop.get('default'))}`"
        description = prop["description"].replace("|", "\\|").replace("<", "&lt;")
        rows.append(f"| `{key}` | {kind} | {default} | {description} |")
        if "properties" in prop:
            rows += _rows(prop, f"{key}.")
    return rows


def markdown() -> str:
    header = ["| setting | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join(header + _rows(load("config"), "")) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
