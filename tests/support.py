"""Test helpers: fixture projects, and the real validators (kubernetes-validate, CRDs, chart schema)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from generator.knowledge import charts
from generator.review import validate

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = Path(os.environ.get("GEN_SHARED_DIR", REPO.parent / "shared"))
CRDS = SHARED / "crds"
CHART_VERSIONS = tuple(str(row.version) for row in charts.RELEASES)


def word(first: str, middle: str, last: str, longest: int) -> st.SearchStrategy[str]:
    """Text shaped like r"[first]([middle]{0,longest}[last])?": a regex strategy draws the same shapes two to four
    times slower, and the property tests draw thousands of names."""
    longer = st.builds(lambda a, b, c: a + b + c, st.sampled_from(first), st.text(middle, max_size=longest),
                       st.sampled_from(last))
    return st.one_of(st.sampled_from(first), longer)


def chart_reference(version: str) -> Path:
    """The reference directory of one chart release: its archive, values.yaml and values.schema.json."""
    return SHARED / "reference" / f"airflow-chart-{version}"


def chart_archive(version: str) -> Path:
    return chart_reference(version) / f"airflow-{version}.tgz"


# The release the example (and so every fixture project) pins.
CHART_REFERENCE = chart_reference(str(charts.CURRENT.version))
CHART_ARCHIVE = chart_archive(str(charts.CURRENT.version))

# The checked-in example and the fixture configs every output test runs over.
CONFIGS = ("example", "airflow2-strip", "tls-secret", "kubeadm-legacy", "k3s-helmchart", "kind-workers",
           "minikube-remote-logs", "database-bundled", "database-external", "database-cloudnativepg",
           "forward-auth", "ingress-root", "gateway-route", "no-route")
KUBE_VERSIONS = ("1.30.0", "1.37.0")


def chart_showing(version: str, templates: Sequence[str], directory: Path) -> Path:
    """The archive of chart `version` with only `templates` (paths under templates/) and the helpers (`_*`) of the
    chart and its subcharts: Helm renders only what a test asserts on, as the chart's own tests do with
    render_chart(show_only=...). Written to `directory`, once per version and set of templates."""
    target = directory / f"airflow-{version}-{'-'.join(t.replace('/', '_') for t in templates)}.tgz"
    if target.exists():
        return target

    def kept(name: str) -> bool:
        inside = name.split("/templates/", 1)
        if len(inside) == 1:
            return True
        own = inside[0].count("/") == 0  # airflow/templates/..., not airflow/charts/postgresql/templates/...
        return inside[1].rsplit("/", 1)[-1].startswith("_") or (own and inside[1] in templates)

    buffer = io.BytesIO()
    with tarfile.open(chart_archive(version)) as whole, tarfile.open(fileobj=buffer, mode="w:gz") as shown:
        for member in whole.getmembers():
            if member.isfile() and kept(member.name):
                shown.addfile(member, whole.extractfile(member))
    target.write_bytes(buffer.getvalue())
    return target


def make_project(root: Path, config: str | None = None, *, fixture: str = "example",
                 values: str | None = None) -> Path:
    """A project directory like a user's: gen.yaml plus charts/airflow/. Returns the gen.yaml path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "charts" / "airflow").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "charts" / "airflow" / "chart.yaml", root / "charts" / "airflow" / "chart.yaml")
    source = REPO if fixture == "example" else FIXTURES / fixture
    if config is None:
        config = (source / "gen.yaml").read_text()
    if values is None:
        values_file = source / ("charts/airflow/values.yaml" if fixture == "example" else "values.yaml")
        values = values_file.read_text() if values_file.exists() else ""
    (root / "charts" / "airflow" / "values.yaml").write_text(values)
    path = root / "gen.yaml"
    path.write_text(config)
    return path


def tree(root: Path, *tops: str) -> dict[str, bytes]:
    """Every file under root/<top> as relative path -> bytes."""
    files = {}
    for top in tops:
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def documents(text: str) -> list[dict[str, Any]]:
    """The documents of a YAML stream, read by libyaml (safe_load_all's constructors, several times faster)."""
    return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d]


# --- the real validators, as `gen validate` runs them ---------------------------------------------

@cache
def validators(kube_version: str = "1.37") -> validate.Validators:
    """kubernetes-validate strict, the CRDs in shared/crds, the values schema of the chart the example pins."""
    return validate.Validators(kube_version=validate.kube_version(kube_version),
                               crds=validate.load_crds([CRDS]),
                               chart=validate.ChartSchema.load(CHART_REFERENCE / "values.schema.json"))


def chart_values_problems(values: dict[str, Any]) -> list[str]:
    """Validate values merged over the chart defaults, as Helm does at install time."""
    return [f"{path}: {message}" for path, message in validators().chart.problems(values)]


def object_problems(obj: dict[str, Any], kube_version: str) -> list[str]:
    """Every problem with one object; an object no validator could check is a problem here too."""
    _verdict, found = validate.check_object(obj, validators(kube_version))
    return [f"{validate.object_name(obj)}: {path}: {message}" for path, message in found]


# --- files that fail as disks and archives do ----------------------------------------------------------------

def tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    """A .tgz at `path` holding `members` (name -> bytes), such as a chart archive with chosen files."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


class _Replaced:
    """A file object whose `methods` (read, write) are replaced; it closes the real file on exit."""

    def __init__(self, stream: Any, methods: dict[str, Any]) -> None:
        self.stream, self.methods = stream, methods

    def __enter__(self) -> _Replaced:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.stream.close()

    def __getattr__(self, name: str) -> Any:
        return self.methods[name] if name in self.methods else getattr(self.stream, name)


def replaced_fdopen(**methods: Any) -> Any:
    """A stand-in for os.fdopen whose files have `methods` replaced: a disk that fails, a file that grows."""
    real = os.fdopen
    return lambda *args, **kwargs: _Replaced(real(*args, **kwargs), methods)
