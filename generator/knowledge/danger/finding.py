"""One danger and its runbook, and how a reviewer reads it: a first line of at most 200 characters
(overlay, object, field, old -> new, why), then the runbook as numbered steps, one of them "merge now".

Every rule module produces these; the review prints them in a terminal, in markdown and as synth's
warnings with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

REFUSED = "refused"  # the API server rejects the update: the Flux Kustomization fails as a whole
DATA = "data"  # goes through, but loses or orphans data
RUNBOOK = "runbook"  # goes through, and cannot be undone: needs a prepared procedure

MERGE_NOW = "merge now"
FIRST_LINE = 200  # characters of a finding's first line, at most
_VALUE = 40  # characters of an old or new value on the first line


def _clip(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut at a word's end when one is near."""
    if len(text) <= width:
        return text
    cut = text[:max(width - 1, 0)]
    space = cut.rfind(" ")
    return (cut[:space] if space > width - 30 else cut).rstrip(" ,;:") + "…"


def merge_first(step: str) -> tuple[str, ...]:
    """A change Flux cannot apply until `step` is done: merge, then do it (Flux retries the apply)."""
    return (f"{MERGE_NOW}: Flux's apply of this object fails until the next step", step)


@dataclass(frozen=True, order=True)
class Finding:
    overlay: str  # one overlay, or several joined by ", " once `merged`
    kind: str
    namespace: str
    name: str
    field: str
    old: str
    new: str
    why: str
    todo: str | tuple[str, ...]  # the runbook: one step, or the steps in order
    category: str

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def steps(self) -> tuple[str, ...]:
        """The runbook in order; a rule that names no merge step merges last, once everything is ready."""
        steps = (self.todo,) if isinstance(self.todo, str) else tuple(self.todo)
        if any(step.startswith(MERGE_NOW) for step in steps):
            return steps
        return (*steps, MERGE_NOW)

    @property
    def line(self) -> str:
        """The first line: at most FIRST_LINE characters; the whole why follows in `lines` when it is clipped."""
        head = (f"danger: {self.overlay} {self.kind} {self.where}: {self.field}: "
                f"{_clip(self.old, _VALUE)} -> {_clip(self.new, _VALUE)}: ")
        return _clip(head + self.why, FIRST_LINE)

    def lines(self) -> list[str]:
        """The first line, the whole why when the first line clips it, then the numbered steps, indented."""
        out = [self.line]
        if not self.line.endswith(self.why):
            out.append(f"  why: {self.why}")
        out += [f"  {number}. {step}" for number, step in enumerate(self.steps, 1)]
        return out

    def markdown(self) -> list[str]:
        """The same in markdown: the first line as a list item, the steps as a numbered list under it."""
        out = [f"- `{self.line.replace('`', chr(39))}`"]
        if not self.line.endswith(self.why):
            out.append(f"  why: {_escape(self.why)}")
        out += [f"  {number}. {_escape(step)}" for number, step in enumerate(self.steps, 1)]
        return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def merged(findings: Iterable[Finding], order: Sequence[str]) -> list[Finding]:
    """A finding that holds for several overlays once, naming them (in `order`); the others as they are."""
    groups: dict[Finding, list[str]] = {}
    for finding in findings:
        groups.setdefault(replace(finding, overlay=""), []).append(finding.overlay)
    rank = {name: index for index, name in enumerate(order)}
    out = []
    for finding, overlays in groups.items():
        names = sorted(set(overlays), key=lambda name: (rank.get(name, len(rank)), name))
        out.append(replace(finding, overlay=", ".join(names)))
    return out
