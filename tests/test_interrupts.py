"""Ctrl-C during a run: before the first rename it interrupts at once; from then it waits until every later
step is done and reports the output as written. Driven in this process by calling the handler directly."""

from __future__ import annotations

import pytest

from generator.plumbing import interrupts


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.setattr(interrupts, "_state", {"holding": 0, "pending": False, "written": False})


def test_before_the_first_rename_ctrl_c_interrupts_at_once_with_nothing_written():
    with pytest.raises(interrupts.Interrupted) as raised, interrupts.Finishing():
        interrupts.on_signal(2, None)
    assert raised.value.message == interrupts.UNTOUCHED


def test_while_held_ctrl_c_waits_for_the_end_of_the_run_and_says_the_output_is_complete():
    steps = []
    with pytest.raises(interrupts.Interrupted) as raised, interrupts.Finishing() as finishing:
        finishing.hold()
        finishing.hold()  # held once, however often asked
        interrupts.on_signal(2, None)
        steps.append("the swap and the record finish")
    assert steps == ["the swap and the record finish"]
    assert raised.value.message == interrupts.WRITTEN
    with pytest.raises(interrupts.Interrupted) as later:  # while gen prints its summary
        interrupts.on_signal(2, None)
    assert later.value.written


def test_a_run_that_fails_while_held_reports_its_own_error_not_the_ctrl_c():
    with pytest.raises(OSError), interrupts.Finishing() as finishing:
        finishing.hold()
        interrupts.on_signal(2, None)
        raise OSError("the rename failed and was put back")
    with pytest.raises(interrupts.Interrupted) as later:
        interrupts.on_signal(2, None)
    assert not later.value.written  # the trees were put back: nothing was written


def test_a_held_run_without_ctrl_c_ends_quietly_and_marks_the_output_written():
    with interrupts.Finishing() as finishing:
        finishing.hold()
    assert interrupts._state == {"holding": 0, "pending": False, "written": True}
