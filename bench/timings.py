"""Measure gen's start-up, synth, the warm check and what the kustomize cache and batching save, in one run.

`bench/run render` measures only the rendered review: one in-process render of the chart (as gen renders it, and
of the whole archive), and `gen diff` with the chart of the deployed overlay and of all three, cold (empty
cache), and warm.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 5


def median_seconds(argv: list[str], cwd: Path, expected_exit: int = 0, cache: str = "off", runs: int = RUNS) -> float:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(map(str, range(100))),
           "GEN_CACHE_DIR": cache}
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run = subprocess.run(argv, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
        if run.returncode != expected_exit:
            raise SystemExit(f"bench: {' '.join(argv)} exited {run.returncode}, expected {expected_exit}")
    return statistics.median(samples)


CONFIG_COUNTS = (1, 3, 5)  # deployments per repository, as real repositories hold them


def kustomize_seconds(overlays: list[Path]) -> tuple[float, float]:
    """Median seconds to build `overlays` batched as gen does, and with one kustomize process each."""
    from generator.synth import kustomize

    batched, alone = [], []
    for _ in range(RUNS):  # interleaved, so drift in the machine's speed hits both alike
        start = time.perf_counter()
        kustomize.build_overlays(overlays)
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        kustomize.build_many(overlays)
        alone.append(time.perf_counter() - start)
    return statistics.median(batched), statistics.median(alone)


def many_projects(scratch: Path, count: int) -> list[str]:
    """`count` deployments side by side, each in its own directory with its own namespace."""
    configs = []
    for index in range(count):
        project = scratch / f"team-{index:02d}"
        shutil.copytree(REPO / "charts", project / "charts")
        text = (REPO / "gen.yaml").read_text().replace("namespace: airflow", f"namespace: team-{index:02d}", 1)
        (project / "gen.yaml").write_text(text)
        configs += ["--config", str(project / "gen.yaml")]
    return configs


CHART = Path(os.environ.get("GEN_SHARED_DIR", REPO.parent / "shared")) / "reference/airflow-chart-1.22.0/airflow-1.22.0.tgz"


def render_timer(whole: bool = False) -> Callable[[], float]:
    """A function timing one render of the chart (kubernetes-executor values) as a review does it, in this
    process, no cache: the chart loaded, rendered by Helm and its output read into objects. As gen renders
    (without the files no template reads), or with `whole` the whole archive, as `helm template` and Flux's
    helm-controller load it."""
    from generator import config as config_module
    from generator.plumbing.yamlio import generated_objects
    from generator.review import render

    config = config_module.load(REPO / "gen.yaml", "gen.yaml")
    chart = render.load_chart(config, CHART)
    if whole:
        chart._lean_archive.append(None)  # the lean archive, taken as "none to be had": Helm loads the archive
    with tempfile.TemporaryDirectory() as scratch:
        from generator.synth import pipeline

        files = pipeline.generate(config, Path(scratch), ["kubernetes-executor"])
    release = render.release(generated_objects(files["dist/kubernetes-executor/manifests.yaml"]), config)
    chart.objects(release, render.DEFAULT_KUBE_VERSION, cached=False)  # the library loaded, as in a review

    def once() -> float:
        start = time.perf_counter()
        chart.objects(release, render.DEFAULT_KUBE_VERSION, cached=False)
        return time.perf_counter() - start

    return once


WIRED = """flux:
  cluster:
    name: home
    overlay: kubernetes-executor
    url: https://git.example.com/platform.git
"""


def _review_project(scratch: Path) -> Path:
    """The example project wired to a cluster (deploying kubernetes-executor), committed, then an image change."""
    project = scratch / "project"
    project.mkdir()
    shutil.copytree(REPO / "charts", project / "charts")
    text = (REPO / "gen.yaml").read_text().replace("flux:\n", WIRED, 1)
    (project / "gen.yaml").write_text(text)
    git = ["git", "-C", str(project), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(git + args, check=True, stdout=subprocess.DEVNULL)
    (project / "gen.yaml").write_text(text.replace("  version: 3.3.2", "  version: 3.3.2\n  image:\n    tag: 3.3.2-python3.12", 1))
    return project


def render_review() -> None:
    """One render; gen diff after an image change: of the deployed overlay (two renders) and of all three (six),
    cold (empty cache), and of the deployed overlay warm. Each is given in renders as gen does them (without the
    files no template reads) and in renders of the whole archive, the unit the goals were first measured in.
    The runs take turns (a render, each review, again), so a machine that slows down slows all of them alike."""
    with tempfile.TemporaryDirectory() as scratch:
        project = _review_project(Path(scratch))
        deployed = [str(BIN / "gen"), "diff", "--chart", str(CHART)]
        every = [*deployed, "--overlay", "all"]
        lean, whole = render_timer(), render_timer(whole=True)
        warm_cache = str(Path(scratch) / "warm")
        median_seconds(deployed, project, 1, warm_cache, runs=1)  # fills the cache
        samples: dict[str, list[float]] = {name: [] for name in ("lean", "whole", "deployed", "all", "warm")}
        for index in range(RUNS):
            samples["lean"].append(lean())
            samples["whole"].append(whole())
            for name, argv in (("deployed", deployed), ("all", every)):
                cold = str(Path(scratch) / f"{name}-{index}")
                samples[name].append(median_seconds(argv, project, 1, cold, runs=1))
            samples["warm"].append(median_seconds(deployed, project, 1, warm_cache, runs=1))
    single, whole_render, cold_deployed, cold_all, warm = (statistics.median(samples[name]) for name in samples)
    print(f"{'rendered review':45} {'median s':>9} {'x gen render':>13} {'x whole render':>15}")
    for label, seconds, goal in (("one render, as gen renders the chart", single, ""),
                                 ("one render of the whole archive, as helm does", whole_render, ""),
                                 ("gen diff, deployed overlay, cold", cold_deployed, "goal <= 2.5x"),
                                 ("gen diff --overlay all, cold", cold_all, "goal <= 5x"),
                                 ("gen diff, deployed overlay, warm", warm, "goal <= 0.5x")):
        print(f"{label:45} {seconds:9.3f} {seconds / single:13.2f} {seconds / whole_render:15.2f}  {goal}")
    print(f"({RUNS} runs each, taking turns, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")


def main() -> None:
    if sys.argv[1:] == ["render"]:
        render_review()
        return
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        shutil.copy(REPO / "gen.yaml", project / "gen.yaml")
        shutil.copytree(REPO / "charts", project / "charts")
        bad = project / "bad.yaml"
        bad.write_text("namespace: BAD\n")
        gen = str(BIN / "gen")
        many = many_projects(project / "many", max(CONFIG_COUNTS))
        warm = str(project / "cache")
        subprocess.run([gen, "synth"], cwd=project, env={**os.environ, "GEN_CACHE_DIR": warm}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cases = [
            ("python -c 'import cdk8s' (reference)", [sys.executable, "-c", "import cdk8s"], 0, "off"),
            ("gen --help", [gen, "--help"], 0, "off"),
            ("gen --version", [gen, "--version"], 0, "off"),
            ("gen synth, config error", [gen, "synth", "--config", str(bad)], 1, "off"),
            ("gen synth --overlay kubernetes-executor", [gen, "synth", "--overlay", "kubernetes-executor"], 0, "off"),
            ("gen synth (all three overlays)", [gen, "synth"], 0, "off"),
            ("gen synth --check, no cache", [gen, "synth", "--check"], 0, "off"),
            ("gen synth --check, warm", [gen, "synth", "--check"], 0, warm),
        ]
        for count in CONFIG_COUNTS:
            configs = many[:2 * count]
            cases.append((f"gen synth, {count} config(s), no cache", [gen, "synth", *configs], 0, "off"))
            cases.append((f"gen synth, {count} config(s), kustomize cached", [gen, "synth", *configs], 0, warm))
        results = {label: median_seconds(argv, project, code, cache) for label, argv, code, cache in cases}
        # Not user commands: kustomize alone on the overlays those runs wrote, batched as gen does and with one
        # process per overlay, to show what the batching saves at each size.
        overlays = sorted((project / "many").glob("team-*/overlays/*"))
        for count in CONFIG_COUNTS:
            batched, alone = kustomize_seconds(overlays[:3 * count])
            results[f"(kustomize, {count} config(s), batched)"] = batched
            results[f"(kustomize, {count} config(s), one process each)"] = alone
    reference = results[cases[0][0]]
    print(f"{'command':48} {'median s':>9} {'x import cdk8s':>15}")
    for label, seconds in results.items():
        print(f"{label:48} {seconds:9.3f} {seconds / reference:15.2f}")
    synth = results["gen synth (all three overlays)"]
    print(f"gen synth --check, warm / gen synth: {results['gen synth --check, warm'] / synth:.2f}x (goal: at most 0.35x)")
    for count in CONFIG_COUNTS:
        cold = results[f"gen synth, {count} config(s), no cache"]
        saved_cache = cold - results[f"gen synth, {count} config(s), kustomize cached"]
        saved_batch = (results[f"(kustomize, {count} config(s), one process each)"]
                       - results[f"(kustomize, {count} config(s), batched)"])
        print(f"{count} config(s): the kustomize cache saves {saved_cache:.3f} s, batching saves {saved_batch:.3f} s "
              f"({saved_cache / synth:.2f}x and {saved_batch / synth:.2f}x a single-config synth)")
    print(f"({RUNS} runs each, {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f} at the end; no cache unless named)")
    print()
    render_review()


if __name__ == "__main__":
    main()
