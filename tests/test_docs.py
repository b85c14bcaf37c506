"""The README says what the code does."""

from __future__ import annotations

import re

from generator.reference import markdown
from support import REPO


def test_the_readme_config_reference_is_generated_from_the_schema():
    readme = (REPO / "README.md").read_text()
    assert markdown() in readme, "run `.venv/bin/python -m generator.reference` and paste it into README.md"


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_command():
    readme = (REPO / "README.md").read_text()
    assert "./dev gen synth --overlay kubernetes-executor" in readme
    assert "./dev test" in readme
    assert "exec ./dev test" in (REPO / ".ci" / "run").read_text()


def _message_rows(text: str) -> list[str]:
    """The fixed message parts: first-column code spans of the two-column tables in docs/errors.md."""
    fragments = []
    for line in text.splitlines():
        cells = re.split(r"(?<!\\)\|", line)
        if len(cells) == 4 and re.fullmatch(r" `[^`]+` ", cells[1]):
            fragments.append(cells[1].strip()[1:-1])
    return fragments


def test_every_message_in_the_error_reference_is_one_gen_prints():
    source = "\n".join(path.read_text() for path in sorted((REPO / "generator").rglob("*.py")))
    fragments = _message_rows((REPO / "docs" / "errors.md").read_text())
    assert len(fragments) > 60
    stale = [fragment for fragment in fragments if fragment not in source]
    assert stale == [], "docs/errors.md names messages gen no longer prints"


def test_every_schema_error_is_in_the_error_reference():
    reference = (REPO / "docs" / "errors.md").read_text()
    schemas = "\n".join(path.read_text() for path in sorted((REPO / "generator" / "schema").glob("*.json")))
    missing = [message for message in re.findall(r'"x-error": "([^"]+)"', schemas)
               if message.replace("|", "\\|") not in reference]
    assert missing == [], "add these to docs/errors.md"


def test_the_readme_links_the_error_reference_and_documents_validate():
    readme = (REPO / "README.md").read_text()
    assert "docs/errors.md" in readme and "## Validating in CI" in readme
    assert "`gen validate`" not in readme.split("## Not done yet", 1)[1]
