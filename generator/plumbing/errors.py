"""The errors gen reports to users: each carries one line per problem.

Library modules raise these and never exit; the CLI prints the lines and picks the exit code.
"""

from __future__ import annotations


class GenError(Exception):
    """A problem the user can fix; `problems` holds one line each, shown without a traceback."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ConfigError(GenError):
    """gen.yaml, charts/airflow/chart.yaml or charts/airflow/values.yaml is invalid."""


class OutputError(GenError):
    """The output trees cannot be written safely."""


class ToolError(GenError):
    """An external tool gen runs (Node.js for cdk8s, kubectl for kustomize) is missing or failed."""
