"""``python -m relaxbook.tools.bench`` (``make bench``): this build beside stock Jupyter Book 1, on scratch copies.

Stock Jupyter Book 1 is the same book with the book's execution layer off: myst-nb's own jupyter-cache (keyed on
the code cells only) and one new kernel per notebook, no patches (``_config.yml`` with ``extra_extensions`` reduced
to validation, site and strict builds). Each scenario runs ``--runs`` times on fresh scratch copies; the median wall
time is reported. Targets are ratios within this one run, so a slow or busy machine moves both sides alike:

* cold build (``--all``, nothing cached) <= 0.5x stock cold;
* ``studies.csv`` edit, then an incremental build, <= 0.3x stock cold, with the new value on every page that shows
  it (stock keeps the old one: the bench counts the pages it leaves stale);
* warm no-op (incremental build, nothing changed) <= 1.5x the Sphinx floor (the same build with execution off).

Prints a table and writes JSON (default ``_build/bench.json``). It is not a test: timings never are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = [sys.executable, str(Path(sys.executable).parent / "jupyter-book"), "build", "."]
STOCK_EXTENSIONS = [
    "relaxbook.ext.badges",
    "relaxbook.ext.site",
    "relaxbook.ext.figures",
    "relaxbook.ext.claimreview",
    "relaxbook.ext.strict",
]
OLD, NEW = "Roussan et al. 1985 (as the guide names it)", "Roussan et al. 1985 (bench edit)"
SCENARIOS = [
    ("stock_cold", "stock JB1: cold build"),
    ("stock_csv", "stock JB1: studies.csv edit, incremental"),
    ("cold", "this build: cold build"),
    ("csv", "this build: studies.csv edit, incremental"),
    ("noop", "this build: no-op, incremental"),
    ("floor", "Sphinx floor: execution off"),
]
TARGETS = [
    ("cold <= 0.5x stock cold", "cold", "stock_cold", 0.5),
    ("studies.csv edit <= 0.3x stock cold", "csv", "stock_cold", 0.3),
    ("warm no-op <= 1.5x Sphinx floor", "noop", "floor", 1.5),
]


# --- the pure part (unit-tested in tests/test_bench.py) --------------------------------------------------------


def summarise(walls: list[float]) -> dict:
    return {"wall_s": round(statistics.median(walls), 2), "min_s": round(min(walls), 2), "max_s": round(max(walls), 2)}


def evaluate(results: dict) -> list[dict]:
    """Each target with its measured ratio and pass/fail; a target whose scenarios were not run is left out."""
    out = []
    for name, num, den, limit in TARGETS:
        if num in results and den in results:
            value = results[num]["wall_s"] / results[den]["wall_s"]
            out.append({"target": name, "value": round(value, 2), "limit": limit, "pass": value <= limit})
    return out


def table(results: dict, targets: list[dict], stale: dict) -> str:
    rows = ["| scenario | wall s (median) | min-max |", "| --- | ---: | ---: |"]
    rows += [
        f"| {label} | {results[k]['wall_s']:.2f} | {results[k]['min_s']:.2f}-{results[k]['max_s']:.2f} |"
        for k, label in SCENARIOS
        if k in results
    ]
    rows += ["", "| target | measured | limit | result |", "| --- | ---: | ---: | --- |"]
    rows += [
        f"| {t['target']} | {t['value']:.2f} | {t['limit']} | {'PASS' if t['pass'] else 'FAIL'} |" for t in targets
    ]
    rows += [
        "",
        f"After the studies.csv edit, pages still showing the old value: this build {stale.get('csv', 'NA')}, "
        f"stock JB1 {stale.get('stock_csv', 'NA')} (of {stale.get('showing', 'NA')} that show it).",
    ]
    return "\n".join(rows)


def stock_config(book: Path) -> Path:
    """A copy of the book's ``_config.yml`` with the execution layer off (stock myst-nb execution, no patches)."""
    text = (book / "_config.yml").read_text(encoding="utf-8")
    text, n = re.subn(
        r"(extra_extensions:\n)(\s+- relaxbook\.ext\n)",
        lambda m: m[1] + "".join(f"    - {e}\n" for e in STOCK_EXTENSIONS),
        text,
    )
    if n != 1:
        raise SystemExit("bench: _config.yml no longer lists `- relaxbook.ext` under extra_extensions")
    path = book / "_config_stock.yml"
    path.write_text(text, encoding="utf-8")
    return path


def floor_config(book: Path) -> Path:
    path = book / "_config_floor.yml"
    path.write_text(
        re.sub(
            r"execute_notebooks: \w+", "execute_notebooks: 'off'", (book / "_config.yml").read_text(encoding="utf-8")
        ),
        encoding="utf-8",
    )
    return path


# --- running builds ---------------------------------------------------------------------------------------------


def scratch_copy(dest: Path) -> Path:
    skip = {".venv", "_build", ".git", ".pytest_cache", "__pycache__"}
    shutil.copytree(REPO, dest, ignore=lambda d, names: {n for n in names if n in skip})
    return dest


def build(book: Path, *args: str, check: bool = True) -> float:
    env = dict(os.environ, RELAXBOOK_ROOT=str(book), PYTHONPATH=str(book))  # the copy's data and code
    start = time.perf_counter()
    result = subprocess.run([*BUILD, *args], cwd=book, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if check and result.returncode != 0:
        raise SystemExit(f"bench: build failed ({' '.join(args)}):\n{(result.stdout + result.stderr)[-3000:]}")
    return wall


def showing(book: Path, text: str) -> int:
    return sum(text in p.read_text(encoding="utf-8") for p in (book / "_build" / "html").rglob("*.html"))


def bench(root: Path, runs: int, log=print) -> tuple[dict, dict]:
    walls: dict[str, list[float]] = {k: [] for k, _ in SCENARIOS}
    stale: dict = {}
    for i in range(runs):
        for side in ("stock", "ours"):
            book = scratch_copy(root / f"{side}{i}")
            extra = ["--config", str(stock_config(book))] if side == "stock" else []
            prefix = "stock_" if side == "stock" else ""
            walls[f"{prefix}cold"].append(build(book, "--all", *extra))
            stale["showing"] = showing(book, OLD)
            studies = book / "data" / "studies.csv"
            studies.write_text(studies.read_text(encoding="utf-8").replace(OLD, NEW, 1), encoding="utf-8")
            walls[f"{prefix}csv"].append(build(book, *extra))
            stale[f"{prefix}csv"] = showing(book, OLD)
            if side == "ours":
                walls["noop"].append(build(book))
                walls["floor"].append(
                    build(book, "--all", "--config", str(floor_config(book)), "--path-output", "_floor", check=False)
                )  # glue targets missing: warns
            log(f"  run {i + 1}, {side}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in walls.items() if v))
            shutil.rmtree(book, ignore_errors=True)
    return {k: summarise(v) for k, v in walls.items() if v}, stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=REPO / "_build" / "bench.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relaxbook-bench-") as tmp:
        print(f"bench: {args.runs} run(s) of each scenario on scratch copies in {tmp}", flush=True)
        results, stale = bench(Path(tmp), args.runs, log=lambda m: print(m, flush=True))
    targets = evaluate(results)
    print(table(results, targets, stale))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"results": results, "targets": targets, "stale": stale}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
