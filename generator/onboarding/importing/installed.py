"""gen import, the chart the install runs: the old side of the plan renders with it, and its appVersion is the
Airflow the install runs when the values name none. When it cannot be had, the pinned chart stands in, and the
plan says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from generator.model import ChartPin, Version
from generator.plumbing.errors import ConfigError
from generator.review import chart_source, render
from generator.review.chart_source import ChartUnavailable


@dataclass(frozen=True)
class Installed:
    """The installed chart, loaded, with its pin; or, when it cannot be had, why (one line)."""

    chart: render.Chart | None
    pin: ChartPin | None
    missing: str | None  # why the pinned chart stands in
    version: Version | None = None  # the installed chart's version, known even when that chart cannot be had


def find(path: Path | None, version: str | None, pinned: ChartPin) -> Installed:
    """--installed-chart PATH, else --installed-version X from the cache or the chart repository."""
    if path is not None:
        pin = dataclasses.replace(render.chart_pin(path, pinned.repository), repository=pinned.repository)
        return Installed(render.Chart.load(chart_source.given(path), pin), pin, None, pin.version)
    if version is None:
        return Installed(None, None, "the installed chart's version was not given (--installed-chart PATH or "
                                     "--installed-version X)")
    try:
        wanted = dataclasses.replace(pinned, version=Version.parse(version))
    except ValueError:
        raise ConfigError(f"--installed-version: {version!r} is not a chart version; give X.Y.Z as `helm list` "
                          f"shows it in CHART (airflow-X.Y.Z)") from None
    try:
        archive = chart_source.fetch(wanted)
    except ChartUnavailable as exc:
        return Installed(None, None, f"chart {pinned.name} {version} cannot be had ({exc.problems[0]})",
                         wanted.version)
    pin = dataclasses.replace(render.chart_pin(archive.path, pinned.repository), repository=pinned.repository)
    return Installed(render.Chart.load(archive, pin), pin, None, pin.version)
