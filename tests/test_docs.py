"""The README says what the code does."""

from __future__ import annotations

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
