"""`make bench-ml`: churn, demand and recommendations on real data, and the jobs at scale, into bench/RESULTS.md.

Run `python -m bench.ml` for every section or `python -m bench.ml churn churn-cdnow churn-reference demand nba scale` for some.
The data are read from ../shared/data (or `PUENTE_BENCH_DATA`); see bench/ml_data.py. Each
section records the commit it ran at: commit the code before running.
"""

from __future__ import annotations

import sys
import time

from bench.results import write_section

SECTIONS = {
    "churn": ("ml-churn", "ML: churn on UCI Online Retail"),
    "churn-cdnow": ("ml-churn-cdnow", "ML: churn on CDNOW, a data set the model was never tuned on"),
    "churn-reference": ("ml-churn-reference", "ML: churn models that know each cutoff's own labels (a reference for the goal)"),
    "demand": ("ml-demand", "ML: demand on UCI Online Retail (top 500 products)"),
    "nba": ("ml-nba", "ML: next-best-action recommendations (Ta-Feng, UCI Online Retail)"),
    "scale": ("ml-scale", "ML: nightly cost and memory at 2,000 to 100,000 customers (synthetic)"),
}

_START = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.0f} s] {message}", flush=True)


def main(argv: list[str]) -> int:
    wanted = argv or list(SECTIONS)
    unknown = [name for name in wanted if name not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}", file=sys.stderr)
        return 2
    for name in wanted:
        key, title = SECTIONS[name]
        progress(f"{name}: starting")
        if name == "churn":
            from bench.ml_churn import run
        elif name == "churn-cdnow":
            from bench.ml_churn import run_cdnow as run
        elif name == "churn-reference":
            from bench.ml_churn_reference import run
        elif name == "demand":
            from bench.ml_demand import run
        elif name == "nba":
            from bench.ml_nba import run
        else:
            from bench.ml_scale import run
        body, _ = run(progress)
        command = "python -m bench.ml" + (f" {name}" if argv else "")
        write_section(key, title, command, body)
        progress(f"{name}: written to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
