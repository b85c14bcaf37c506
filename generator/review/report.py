"""The review as people read it: a terminal report, and a pull-request comment under GitHub's size limit.

The findings come first, each once, naming every overlay it holds for; then per section the objects
added, removed and changed, and the chart's rendered objects when there are any.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.knowledge.airflow import OVERLAYS
from generator.knowledge.danger.finding import Finding, merged
from generator.review import rendered_diff
from generator.review.changeset import Section

COMMENT_LIMIT = 65_536  # characters in one GitHub comment
_RESERVE = 1_000  # kept for the closing line
_SMALLEST = 200  # characters of a YAML diff worth showing in part


def has_changes(sections: Sequence[Section]) -> bool:
    return any(section.changes for section in sections)


def findings(sections: Sequence[Section]) -> list[Finding]:
    """Every change that needs care before merging, once, naming the sections it holds for, in section order."""
    order = [section.name for section in sections]
    return merged((finding for section in sections for finding in section.findings), [*order, *OVERLAYS])


def _rendered_header(section: Section) -> str:
    return f"== {section.name}, chart objects: " + (section.counts() if section.changes else "no change")


def text(sections: Sequence[Section], base_label: str, rendered: Sequence[Section] | None = None) -> str:
    """A terminal report: the findings with their runbooks; per section the objects, their value changes, then
    their YAML diffs; then the chart's rendered objects per section (field summary, rolls, then YAML diffs)."""
    out = [line for finding in findings(sections) for line in finding.lines()]  # before anything else
    for section in sections:
        out.append(f"== {section.name}: " + (section.counts() if section.changes else "no change"))
        for change in section.changes:
            out.append(f"{change.status}: {change.title}")
            out.extend(f"  {line}" for line in change.value_changes())
        for change in section.changes:
            out.append(change.yaml_diff(base_label).rstrip("\n"))
    for chart_section in rendered or ():
        out.append(_rendered_header(chart_section))
        out.extend(rendered_diff.summary_lines(chart_section))
        for chart_change in chart_section.changes:
            out.append(chart_change.yaml_diff(base_label).rstrip("\n"))
    return "\n".join(out) + "\n"


# --- markdown --------------------------------------------------------------------------------------

def _fence(body: str) -> str:
    longest = max((len(run) for run in body.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}diff\n{body.rstrip()}\n{ticks}"


def _md_code(line: str) -> str:
    return f"- `{line.replace('`', chr(39))}`"


def _escape(line: str) -> str:
    """Text for HTML (the <summary> line): object names never contain markup, but the config is user input."""
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _details(summary: str, lines: Sequence[str], diff: str, room: int) -> tuple[str, bool]:
    """One folded object: its value lines and YAML diff, the diff cut to fit `room`; (block, whether cut)."""
    head = ["<details>", f"<summary>{_escape(summary)}</summary>", ""] + ([*lines, ""] if lines else [])
    tail = ["", "</details>"]
    block = "\n".join([*head, _fence(diff), *tail])
    if len(block) < room:
        return block, False
    body, kept = diff.splitlines(), []
    size = len("\n".join(head + tail)) + 100  # the fence and the line that says what was cut
    for line in body:
        if size + len(line) + 1 > room:
            break
        kept.append(line)
        size += len(line) + 1
    if size < _SMALLEST or not kept:
        return "", True
    cut = f"… {len(body) - len(kept)} more line(s): run gen diff in a terminal"
    return "\n".join([*head, _fence("\n".join(kept)), cut, *tail]), True


class _Budget:
    """Blocks of a comment in order, each section within its share; counts what was cut."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size, self.limit, self.cut = 0, limit, 0

    def room(self) -> int:
        return self.limit - self.size

    def add(self, block: str, share: int) -> bool:
        """Add `block` if it fits in `share` (characters left for its section) and in the comment."""
        if not block or len(block) + 1 > min(share, self.room()):
            self.cut += 1
            return False
        self.parts.append(block)
        self.size += len(block) + 1
        return True


def _needs_care(dangers: Sequence[Finding], limit: int) -> list[str]:
    """The "Needs care before merging" section, first in the comment; past `limit` characters it says how many
    more findings `gen diff` prints."""
    if not dangers:
        return []
    lines, size = ["#### Needs care before merging", ""], 0
    for index, finding in enumerate(dangers):
        block = finding.markdown()
        length = sum(len(line) + 1 for line in block)
        if size + length > limit:
            lines.append(f"- … and {len(dangers) - index} more: run `gen diff` in a terminal to see them all")
            break
        lines += block
        size += length
    return lines + [""]


def _table(sections: Sequence[Section], rendered: Sequence[Section] | None) -> list[str]:
    if rendered is None:
        return ["| overlay | added | removed | changed |", "|---|---:|---:|---:|",
                *(f"| {s.name} | {s.count('added')} | {s.count('removed')} | {s.count('changed')} |" for s in sections)]
    by_name = {r.name: r for r in rendered}
    rows = ["| overlay | gen added | gen removed | gen changed | chart added | chart removed | chart changed "
            "| workloads that roll |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sections:
        r = by_name.get(s.name)
        chart = (f"{r.count('added')} | {r.count('removed')} | {r.count('changed')} | {len(r.rolls)}"
                 if r else "– | – | – | –")
        rows.append(f"| {s.name} | {s.count('added')} | {s.count('removed')} | {s.count('changed')} | {chart} |")
    return rows


def _section_blocks(budget: _Budget, section: Section, chart: Section | None, base_label: str,
                    share: int) -> None:
    """One section's details within `share` characters: the chart's field summary, gen's objects, then the
    chart objects' YAML, each object's diff cut to fit rather than left out."""
    start = budget.size

    def left() -> int:
        return share - (budget.size - start)

    lines = rendered_diff.summary_lines(chart) if chart else []
    if lines and budget.add(f"\n#### {section.name}: chart objects\n\n<details open>\n"
                            f"<summary>{_escape(_rendered_header(chart).removeprefix('== '))}</summary>\n", left()):
        for index, line in enumerate(lines):
            if not budget.add(_md_code(line), left() - 20):
                budget.cut += len(lines) - index - 1
                break
        budget.parts.append("\n</details>")
        budget.size += len("\n</details>") + 1
    if section.changes and budget.add(f"\n#### {section.name}: gen objects\n", left()):
        for change in section.changes:
            block, cut = _details(f"{change.status}: {change.title}", [_md_code(v) for v in change.value_changes()],
                                  change.yaml_diff(base_label), min(left(), budget.room()))
            budget.cut += cut
            budget.add(block, left())
    if chart and chart.changes and budget.add(f"\n#### {section.name}: chart objects, YAML\n", left()):
        for chart_change in chart.changes:
            block, cut = _details(f"{chart_change.status}: {chart_change.title}", [],
                                  chart_change.yaml_diff(base_label), min(left(), budget.room()))
            budget.cut += cut
            budget.add(block, left())


def markdown(sections: Sequence[Section], base_label: str, rendered: Sequence[Section] | None = None,
             note: str | None = None, limit: int = COMMENT_LIMIT, scope: str | None = None) -> str:
    """A pull-request comment under GitHub's size limit: what is reviewed, the findings and the summary table
    first, then folded details per section, each section with an even share of what is left, so that the
    first changes of every section are shown however large one of them is; the last line says what was cut."""
    head = [f"### gen diff: `{base_label}` → working tree", ""]
    head += [f"_{_escape(line)}_\n" for line in (scope, note) if line]
    if not has_changes(sections):
        return "\n".join(head + ["No change to the generated manifests."]) + "\n"
    head += _needs_care(findings(sections), limit // 2)
    head += _table(sections, rendered)
    budget = _Budget(limit - _RESERVE)
    budget.parts.append("\n".join(head))  # the summary always goes in
    budget.size = len(budget.parts[0]) + 1
    charts = {r.name: r for r in rendered or ()}
    shown = [s for s in sections if s.changes or (s.name in charts and charts[s.name].changes)]
    for index, section in enumerate(shown):
        _section_blocks(budget, section, charts.get(section.name), base_label, budget.room() // (len(shown) - index))
    out = "\n".join(budget.parts)
    if budget.cut:
        out += (f"\n\n_Cut: {budget.cut} more block(s) and line(s) left out to stay under GitHub's "
                f"{COMMENT_LIMIT:,}-character comment limit; run `gen diff` in a terminal to see it all._")
    return out + "\n"
