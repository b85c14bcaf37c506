"""The README and the pages under docs/ say what the code does."""

from __future__ import annotations

import re

from support import REPO

from generator.reference import markdown

DOCS = REPO / "docs"


def test_the_config_reference_is_generated_from_the_schema():
    page = (DOCS / "configuration.md").read_text()
    assert markdown() in page, "run `.venv/bin/python -m generator.reference` and paste it into docs/configuration.md"


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_command():
    readme = (REPO / "README.md").read_text()
    assert "./dev gen synth --overlay kubernetes-executor" in readme
    assert "./dev test" in readme
    assert "exec ./dev test" in (REPO / ".ci" / "run").read_text()


def test_the_table_of_profiles_matches_the_code():
    from generator.knowledge import cluster

    page = (DOCS / "clusters-and-storage.md").read_text()
    for name, profile in cluster.PROFILES.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{name}`"))
        assert f"`{profile.default_class}`" in row or "none of its own" in row, name
        assert ("local-path-provisioner" in row) is profile.gen_installs_provisioner, name
        assert ("allowed" in row) is profile.shared_host_path, name


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


def test_the_readme_links_the_error_reference_and_the_validate_page():
    readme = (REPO / "README.md").read_text()
    assert "(docs/errors.md)" in readme and "(docs/review-and-ci.md#validating-in-ci)" in readme
    assert "## Validating in CI" in (DOCS / "review-and-ci.md").read_text()
    assert "`gen validate`" not in readme.split("## Not done yet", 1)[1]


def test_the_readme_is_at_most_200_lines():
    lines = len((REPO / "README.md").read_text().splitlines())
    assert lines <= 200, f"README.md has {lines} lines; move detail to a page under docs/"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _prose(path) -> str:
    """A Markdown file without its fenced code blocks (a `# comment` there is no heading)."""
    return re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)


def test_every_relative_link_in_the_readme_and_docs_reaches_a_file_and_heading():
    broken = []
    for page in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_file():
                broken.append(f"{page.name}: {target}")
            elif anchor and anchor not in {_anchor(h) for h in re.findall(r"^#+ (.+)$", _prose(linked), re.M)}:
                broken.append(f"{page.name}: {target}")
    assert broken == []
