from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from support import CONFIGS, SHARED, make_project

from generator.synth import pipeline

# Property tests run the same examples every time (derandomize), so CI is reproducible and a failure
# seen once is seen again; no example database is written into the repository.
settings.register_profile("gen", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gen")


def pytest_configure(config: pytest.Config) -> None:
    if not (SHARED / "crds").is_dir():
        raise pytest.UsageError(f"the shared test data is missing at {SHARED}; set GEN_SHARED_DIR")
    # The kustomize cache of this test run only (subprocesses inherit it): never the user's, never stale.
    os.environ["GEN_CACHE_DIR"] = tempfile.mkdtemp(prefix="gen-test-cache-")
    # No network in tests: a chart that is not given with --chart or cached is not downloaded.
    os.environ["GEN_OFFLINE"] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    cache = os.environ.get("GEN_CACHE_DIR")
    if cache and Path(cache).name.startswith("gen-test-cache-"):
        shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_chart_left_cached():
    """--chart keeps the chart in the cache: a test that gives it must not make later tests render."""
    yield
    cache = os.environ.get("GEN_CACHE_DIR")
    if cache:
        shutil.rmtree(Path(cache) / "charts", ignore_errors=True)


class _Synthesized(Mapping):
    """Fixture name -> its project directory, synthesized (all overlays) on first use, once per test run:
    the pytest-xdist workers share the directory, and a lock per fixture lets one of them build it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __getitem__(self, name: str) -> Path:
        if name not in CONFIGS:
            raise KeyError(name)
        root, done = self.directory / name, self.directory / f"{name}.done"
        with open(self.directory / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # a worker that died half-way leaves no done marker
                pipeline.synth(make_project(root, fixture=name))
                done.touch()
        return root

    def __iter__(self):
        return iter(CONFIGS)

    def __len__(self) -> int:
        return len(CONFIGS)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Mapping[str, Path]:
    """Each fixture config synthesized once per test run (all overlays): name -> project directory.
    Tests read these trees and never write to them; a test that changes one copies it first."""
    base = tmp_path_factory.getbasetemp()
    directory = (base.parent if worker_id != "master" else base) / "synthesized"
    directory.mkdir(exist_ok=True)
    return _Synthesized(directory)
