"""How long the change classifier takes on the checked-in output: every overlay against an edited copy.

Prints the median of 20 runs; nothing here asserts a timing. Run from a checkout after ./dev has set
up .venv: .venv/bin/python bench/changes.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from generator.knowledge import changes
from generator.knowledge.airflow import OVERLAYS
from generator.plumbing.yamlio import generated_objects

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    texts = {name: (ROOT / "dist" / name / "manifests.yaml").read_text() for name in OVERLAYS}
    edited = {name: text.replace("/srv/airflow/dags", "/data/dags").replace("storage: 10Gi", "storage: 20Gi")
              for name, text in texts.items()}
    parsed = {name: (generated_objects(texts[name]), generated_objects(edited[name])) for name in OVERLAYS}
    for label, run in (("parse + classify", lambda n: changes.classify_text(n, texts[n], edited[n])),
                       ("classify only", lambda n: changes.classify(n, *parsed[n]))):
        runs = []
        for _ in range(20):
            start = time.perf_counter()
            count = sum(len(run(name)) for name in OVERLAYS)
            runs.append(time.perf_counter() - start)
        print(f"{label:>16}: {statistics.median(runs) * 1000:6.2f} ms for {len(OVERLAYS)} overlays, {count} findings")


if __name__ == "__main__":
    main()
