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


def test_the_readme_table_of_profiles_matches_the_code():
    from generator import cluster

    readme = (REPO / "README.md").read_text()
    for name, profile in cluster.PROFILES.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{name}`"))
        assert f"`{profile.default_class}`" in row or "none of its own" in row, name
        assert ("local-path-provisioner" in row) is profile.gen_installs_provisioner, name
        assert ("allowed" in row) is profile.shared_host_path, name
