"""The Helm Go SDK's edges: a library that cannot be loaded, an unknown version, a render past its deadline
and a long message are each one line."""

from __future__ import annotations

import re
import sys
import threading

import pytest

from generator.review import helm


def test_a_library_that_cannot_be_loaded_is_one_line_saying_to_reinstall(monkeypatch):
    monkeypatch.setitem(sys.modules, "helm_python", None)  # what a failed import leaves: ImportError
    with pytest.raises(helm.RenderError, match=r"^helm-python-sdk cannot be loaded \(.*helm_python.*\); reinstall gen"):
        helm.library()


def test_the_helm_that_renders_is_named_by_the_sdk_gen_pins():
    assert re.fullmatch(r"helm-python-sdk [0-9][0-9.]*", helm.helm_version())


def test_a_render_past_its_deadline_is_left_behind_with_one_line(monkeypatch):
    monkeypatch.setenv(helm.RENDER_TIMEOUT_VARIABLE, "0.05")
    release = threading.Event()
    try:
        with pytest.raises(helm.RenderError) as raised:
            helm.within_deadline(release.wait, "airflow 1.22.0")
    finally:
        release.set()
    assert str(raised.value) == ("chart airflow 1.22.0: Helm did not finish rendering within 0.05 s "
                                 "(GEN_RENDER_TIMEOUT); a template may loop: check the chart, or set "
                                 "GEN_RENDER_TIMEOUT to wait longer")
    assert helm.within_deadline(lambda: "rendered", "x") == "rendered"


def test_helms_message_is_one_line_and_its_first_line_is_cut():
    assert helm.one_line(ValueError("template: a\n\tat b")) == "template: a at b"
    assert helm.first_line(ValueError("short")) == "short"
    cut = helm.first_line(ValueError("x" * 500))
    assert cut == "x" * 400 + "..."
