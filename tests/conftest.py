from __future__ import annotations

import os
import shutil
import tempfile
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


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each fixture config synthesized once (all overlays): name -> project directory."""
    projects = {}
    for name in CONFIGS:
        root = tmp_path_factory.mktemp(name)
        pipeline.synth(make_project(root, fixture=name))
        projects[name] = root
    return projects
