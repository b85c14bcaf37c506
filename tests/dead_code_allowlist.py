"""Names vulture takes for dead code that something outside gen's own calls uses (read by test_dead_code.py).

Each entry says who uses the name; add one only with such a comment.
"""

file  # click calls ClickException.show(file=...): Failure.show in commands/group.py keeps click's signature
indentless  # PyYAML's emitter calls Dumper.increase_indent(flow, indentless): yamlio's override keeps it
