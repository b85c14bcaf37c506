"""Helm's Go SDK in-process (helm-python-sdk): loaded on first use, each call given a deadline, its errors.

A Go call cannot be interrupted from Python, so a render runs on a daemon thread that is left
behind when its deadline passes; the library's version names the Helm that rendered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from generator.plumbing import cache, runtime
from generator.plumbing.errors import GenError


class RenderError(GenError):
    """Helm refused the values or a template failed."""


def library() -> Any:
    """helm-python-sdk, loaded on first use (0.3 s: the Go library), never at start-up.

    GOGC is read once, when the Go runtime starts inside the library: a render allocates much and
    keeps little, so collecting less often saves about a third of its CPU time. A GOGC the user set wins.
    """
    os.environ.setdefault("GOGC", "400")
    try:
        import helm_python
    except (ImportError, OSError) as exc:
        raise RenderError(f"helm-python-sdk cannot be loaded ({first_line(exc)}); reinstall gen, which pins it") from None
    return helm_python


def helm_version() -> str:
    """The Helm that renders: helm-python-sdk pins the Helm Go SDK it is built with (0.2.2: Helm v4.2.3)."""
    return cache.package_version("helm-python-sdk")


RENDER_TIMEOUT_VARIABLE = "GEN_RENDER_TIMEOUT"
DEFAULT_RENDER_TIMEOUT = 300  # seconds for one render; the Airflow chart takes about one


def within_deadline(render: Callable[[], str], what: str) -> str:
    """render() given GEN_RENDER_TIMEOUT seconds (runtime.within_deadline): a chart whose templates loop has
    no end, and a Go call cannot be stopped, so it is left behind."""
    seconds = runtime.timeout_seconds(RENDER_TIMEOUT_VARIABLE, DEFAULT_RENDER_TIMEOUT)
    try:
        return str(runtime.within_deadline(render, seconds))
    except TimeoutError:
        raise RenderError(f"chart {what}: Helm did not finish rendering within {seconds:g} s ({RENDER_TIMEOUT_VARIABLE}); "
                          f"a template may loop: check the chart, or set {RENDER_TIMEOUT_VARIABLE} to wait longer") from None


def one_line(exc: BaseException) -> str:
    """Helm's whole message on one line: a render error's cause (the template, the value) is often at its end."""
    return " ".join(str(exc).split())


def first_line(exc: BaseException) -> str:
    text = one_line(exc)
    return text if len(text) <= 400 else text[:400] + "..."
