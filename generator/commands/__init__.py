"""The `gen` command line: thin commands that parse options, call the library and report.

`group` holds the group, its one error handler and the options the commands share; each other module
holds the commands of one part of the work. Nothing in gen imports this package but `launch.py`.
"""

from __future__ import annotations

from generator.commands import onboarding, review, synth
from generator.commands.group import cli, show_notices

__all__ = ["cli", "show_notices"]

for command in (synth.synth, synth.secrets, review.diff, review.render, review.validate, onboarding.init,
                onboarding.import_, onboarding.upgrade, onboarding.kind_config, onboarding.schema):
    cli.add_command(command)
