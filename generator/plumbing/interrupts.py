"""Ctrl-C that tells the truth: it either leaves the trees untouched or lets the swap finish first.

gen's SIGINT handler raises Interrupted, except while a run is putting its output in place (the swap,
the record for --check, the removal of the staging directory): there the signal waits until that step
is complete, and the run then ends as Interrupted(written=True), so the message can say that dist/ and
overlays/ were fully written. A Ctrl-C after that (while gen prints its summary) says the same.
"""

from __future__ import annotations

UNTOUCHED = "error: interrupted; dist/ and overlays/ were left as they were"
WRITTEN = ("error: interrupted after gen synth had fully written dist/ and overlays/ and updated its cache and "
           "record; the output is complete")


class Interrupted(BaseException):
    """Ctrl-C, raised by gen's own SIGINT handler (click turns KeyboardInterrupt into a bare `Aborted!`)."""

    def __init__(self, written: bool = False) -> None:
        super().__init__("interrupted")
        self.written = written

    @property
    def message(self) -> str:
        return WRITTEN if self.written else UNTOUCHED


_state = {"holding": 0, "pending": False, "written": False}


def on_signal(_signum, _frame) -> None:
    if _state["holding"]:
        _state["pending"] = True
        return
    raise Interrupted(written=_state["written"])


class Finishing:
    """Entered at the start of a run, held from the first rename on: from then a Ctrl-C takes effect only once
    every later step is done (the context's exit), as Interrupted(written=True). A run that fails instead
    has put every rename back, and its own error tells so."""

    def __init__(self) -> None:
        self.held = False

    def __enter__(self) -> Finishing:
        return self

    def hold(self) -> None:
        if not self.held:
            self.held = True
            _state["holding"] += 1

    def __exit__(self, exc_type, _exc, _traceback) -> None:
        if not self.held:
            return
        self.held = False
        _state["holding"] -= 1
        pending, _state["pending"] = _state["pending"], False
        if exc_type is None:
            _state["written"] = True  # a Ctrl-C from now on comes after the output is complete
            if pending:
                raise Interrupted(written=True)
