"""charts/airflow/values.yaml against the pinned chart's own values schema, whenever the chart is at hand.

gen synth cannot download (it must work offline and fast), so it checks with the chart given with
--chart or kept in the cache by an earlier gen diff, gen render or --chart; otherwise it says in one
line that the check did not run. A misspelt section (`schedular:`) is refused here instead of being
ignored by Helm in the cluster.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from generator.model import Config
from generator.plumbing.errors import ConfigError
from generator.review import chart_source, render
from generator.review.chart_source import ChartArchive
from generator.review.validate import ChartSchema

_FILES = ("values.schema.json", "values.yaml")


def _unpack(archive: ChartArchive, target: Path) -> Path | None:
    """values.schema.json and values.yaml of the chart into `target`; None when the chart has no schema."""
    if archive.path.is_dir():
        source = archive.path
        if not (source / _FILES[0]).is_file():
            return None
        for name in _FILES:
            if (source / name).is_file():
                (target / name).write_bytes((source / name).read_bytes())
        return target / _FILES[0]
    with tarfile.open(archive.path) as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[-1]
            if member.isfile() and member.name.count("/") == 1 and name in _FILES:
                handle = tar.extractfile(member)
                if handle is not None:
                    (target / name).write_bytes(handle.read())
    return target / _FILES[0] if (target / _FILES[0]).is_file() else None


def _field(path: str) -> str:
    field = path.removeprefix("spec.values").lstrip(".")
    return f"{field}: " if field else ""


def check(config: Config, chart_path: Path | None) -> str:
    """Raise ConfigError for each value the chart's schema refuses; else the one line that says what was done."""
    values_file = f"{config.source.label}: charts/airflow/values.yaml"
    pin = f"chart {config.chart.name} {config.chart.version}"
    if chart_path is not None:
        archive = render.Chart.load(chart_source.given(chart_path), config.chart).archive  # the pinned chart only
        chart_source.remember(archive, config.chart)
    else:
        archive = chart_source.cached(config.chart)
    if archive is None:
        return (f"charts/airflow/values.yaml not checked against the values schema of {pin}: it is not cached "
                f"(give --chart PATH once, or run gen diff, which fetches it)")
    with tempfile.TemporaryDirectory(prefix="gen-values-") as scratch:
        try:
            schema_path = _unpack(archive, Path(scratch))
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise ConfigError(f"chart {archive.origin}: cannot be read ({exc})") from None
        if schema_path is None:
            return f"charts/airflow/values.yaml not checked: {pin} has no values.schema.json"
        schema = ChartSchema.load(schema_path)
    problems = schema.problems(config.base_values)
    if problems:
        raise ConfigError([f"{values_file}: {_field(path)}{message} (the values schema of {pin})"
                           for path, message in problems])
    return f"charts/airflow/values.yaml checked against the values schema of {pin}"
