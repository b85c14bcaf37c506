"""The `gen` command line: thin commands that parse options, call the library and report.

`group` holds the group, its one error handler and the options the commands share; each other module
holds the commands of one part of the work. Nothing in gen imports this package but `launch.py`.
"""

from __future__ import annotations

from generator.commands.group import cli, show_notices

__all__ = ["cli", "show_notices"]

# Each module is imported when one of its commands runs (group.py).
cli.lazy = {"synth": ("synth", "synth"), "secrets": ("synth", "secrets"), "diff": ("review", "diff"),
            "render": ("review", "render"), "validate": ("review", "validate"), "init": ("onboarding", "init"),
            "import": ("onboarding", "import_"), "upgrade": ("onboarding", "upgrade"),
            "kind-config": ("onboarding", "kind_config"), "schema": ("onboarding", "schema")}
