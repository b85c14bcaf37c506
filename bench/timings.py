"""Measure gen's start-up and synth against a bare `import cdk8s` on the same machine, in one run."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 5


def median_seconds(argv: list[str], cwd: Path, expected_exit: int = 0) -> float:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": ",".join(map(str, range(100)))}
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run = subprocess.run(argv, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
        if run.returncode != expected_exit:
            raise SystemExit(f"bench: {' '.join(argv)} exited {run.returncode}, expected {expected_exit}")
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch)
        shutil.copy(REPO / "gen.yaml", project / "gen.yaml")
        shutil.copytree(REPO / "charts", project / "charts")
        bad = project / "bad.yaml"
        bad.write_text("namespace: BAD\n")
        gen = str(BIN / "gen")
        cases = [
            ("python -c 'import cdk8s' (reference)", [sys.executable, "-c", "import cdk8s"], 0),
            ("gen --help", [gen, "--help"], 0),
            ("gen --version", [gen, "--version"], 0),
            ("gen synth, config error", [gen, "synth", "--config", str(bad)], 1),
            ("gen synth --overlay kubernetes-executor", [gen, "synth", "--overlay", "kubernetes-executor"], 0),
            ("gen synth (all three overlays)", [gen, "synth"], 0),
        ]
        results = [(label, median_seconds(argv, project, code)) for label, argv, code in cases]
    reference = results[0][1]
    print(f"{'command':45} {'median s':>9} {'x import cdk8s':>15}")
    for label, seconds in results:
        print(f"{label:45} {seconds:9.3f} {seconds / reference:15.2f}")
    print(f"({RUNS} runs each, {os.cpu_count()} cores, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
