"""``python -m relaxbook.bench`` (``make bench``): time the build on a scratch copy of the book.

Scenarios (each run ``--runs`` times, median reported): cold strict build; warm strict no-op (the strict build run
again with nothing changed, incrementally as in the issue's "warm no-op"; the same with ``--all``, which re-reads every
page, is reported beside it); prose / code / CSV / bib edit followed by an incremental build; the Sphinx floor (the
strict build with execution off); and the cold strict build of a copy whose studies are multiplied 50x with
synthetic rows. For each: wall time, notebooks executed
(myst-nb's "Executing notebook" lines) and peak memory of the whole process tree (build + kernels, summed).
Targets are ratios measured within this one run; the bench reports pass/fail, it is not a test.
Prints a table and writes JSON (default ``_build/bench.json``). ``--rev`` benches a git revision instead of the
working tree (e.g. the commit before the cache, for a before/after table).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JB = str(Path(sys.executable).parent / "jupyter-book")
STRICT = [JB, "build", ".", "--all", "-n", "-W", "--keep-going"]
INCREMENTAL = [JB, "build", ".", "-n", "-W", "--keep-going"]
SCALE = 50

# (key, label); targets: (name, numerator, denominator or None, limit, per-executed-notebook?)
SCENARIOS = [("cold", "cold strict build"), ("noop", "warm strict no-op (incremental)"),
             ("all", "warm strict --all, nothing changed (re-reads every page)"), ("prose", "prose edit (incremental)"),
             ("code", "code edit (incremental)"), ("csv", "CSV edit: studies.csv (incremental)"),
             ("csv1", "CSV edit: adverse_effects.csv, read by 1 page (incremental)"),
             ("bib", "bib edit (incremental)"), ("floor", "Sphinx floor (strict, execution off)"),
             ("scale", f"cold strict, studies x{SCALE}")]
# the command each scenario times (the floor's own command is built in bench(): it needs the scratch copy's config)
COMMANDS = {"cold": STRICT, "noop": INCREMENTAL, "all": STRICT, "prose": INCREMENTAL, "code": INCREMENTAL,
            "csv": INCREMENTAL, "csv1": INCREMENTAL, "bib": INCREMENTAL, "scale": STRICT}
TARGETS = [("CSV edit <= 0.5x cold", "csv", "cold", 0.5, False),
           ("CSV edit, a table read by one page <= 0.5x cold", "csv1", "cold", 0.5, False),
           ("warm no-op <= 1.5x Sphinx floor", "noop", "floor", 1.5, False),
           ("cold <= 1.8 s per executed chapter", "cold", None, 1.8, True),
           (f"studies x{SCALE} <= 1.5x normal cold", "scale", "cold", 1.5, False)]


# --- the pure part (unit-tested in tests/test_bench.py) --------------------------------------------------------

def summarise(runs: list[dict]) -> dict:
    """Median wall time of the runs, with the executed count and peak memory of the median run's neighbours."""
    walls = [r["wall_s"] for r in runs]
    return {"wall_s": round(statistics.median(walls), 2), "wall_min_s": round(min(walls), 2),
            "wall_max_s": round(max(walls), 2), "executed": max(r["executed"] for r in runs),
            "read": max(r.get("read", 0) for r in runs),
            "peak_mb": round(max(r["peak_mb"] for r in runs)), "runs": len(runs)}


def evaluate(results: dict) -> list[dict]:
    """Each target with its measured ratio (or seconds per executed notebook) and pass/fail."""
    out = []
    for name, num, den, limit, per_nb in TARGETS:
        if num not in results or (den and den not in results):
            continue
        if per_nb:
            value = results[num]["wall_s"] / max(results[num]["executed"], 1)
        else:
            value = results[num]["wall_s"] / results[den]["wall_s"]
        out.append({"target": name, "value": round(value, 2), "limit": limit, "pass": value <= limit})
    return out


def table(results: dict, targets: list[dict]) -> str:
    rows = ["| scenario | wall s (median) | min-max | notebooks executed | pages re-read | peak MB |",
            "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in SCENARIOS:
        if key in results:
            r = results[key]
            rows.append(f"| {label} | {r['wall_s']:.2f} | {r['wall_min_s']:.1f}-{r['wall_max_s']:.1f} "
                        f"| {r['executed']} | {r.get('read', 0)} | {r['peak_mb']} |")
    rows += ["", "| target | measured | limit | result |", "| --- | ---: | ---: | --- |"]
    for t in targets:
        rows.append(f"| {t['target']} | {t['value']:.2f} | {t['limit']} | {'PASS' if t['pass'] else 'FAIL'} |")
    return "\n".join(rows)


def fan_out(book: Path) -> dict[str, int]:
    """How many pages of the table of contents read each table of the data package (from their ``book.setup``
    declarations; a page with code but no declaration reads every table). Shows how typical each CSV edit is."""
    from relaxbook.cache import declared_tables, is_notebook
    from relaxbook.paths import toc_pages

    package = json.loads((book / "data" / "datapackage.json").read_text(encoding="utf-8"))
    counts = {r["name"]: 0 for r in package["resources"]}
    for f in toc_pages(book):
        text = (book / f"{f}.md").read_text(encoding="utf-8")
        if not is_notebook(text):
            continue
        names = declared_tables(text)
        for name in counts if names is None else set(names) & set(counts):
            counts[name] += 1
    return counts


def fan_out_line(counts: dict[str, int]) -> str:
    """'Tables by pages that read them: 1 page: 16 tables; ...; 8 pages: 2 tables (claims, studies)'."""
    by: dict[int, list[str]] = {}
    for name, n in counts.items():
        by.setdefault(n, []).append(name)
    parts = [f"{n} page{'s' if n != 1 else ''}: {len(v)} table{'s' if len(v) != 1 else ''}"
             + (f" ({', '.join(sorted(v))})" if n > 1 and len(v) <= 3 else "") for n, v in sorted(by.items())]
    return "Tables by the number of pages that read them: " + "; ".join(parts)


def multiply_studies(data: Path, factor: int = SCALE) -> None:
    """Add ``factor - 1`` synthetic copies of every study and its arms (unique keys, valid foreign keys)."""
    for name, key, link in (("studies", "study_id", None), ("arms", "arm_id", "study_id")):
        path = data / f"{name}.csv"
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        out = list(rows)
        for i in range(1, factor):
            for row in rows:
                new = dict(row, **{key: f"{row[key]}-syn{i}"})
                if link:
                    new[link] = f"{row[link]}-syn{i}"
                if "label" in new:
                    new["label"] = f"{row['label']} (synthetic {i})"
                out.append(new)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
        path.write_text(buf.getvalue(), encoding="utf-8")


# --- running builds ---------------------------------------------------------------------------------------------

def scratch_copy(dest: Path, rev: str | None) -> Path:
    if rev:
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(dest)
    else:
        skip = {".venv", "_build", ".git", ".pytest_cache", "__pycache__", ".jupyter_cache"}
        shutil.copytree(REPO, dest, ignore=lambda d, names: {n for n in names if n in skip})
    return dest


SAMPLE_S = 0.25  # how often the memory of the process tree is sampled


def run(cmd: list[str], book: Path, check: bool = True) -> dict:
    """Run one build; wall time, notebooks executed and peak summed RSS of the process tree.

    The main thread only waits for the build (so the wall time ends when the build does); a sampler thread sums
    the RSS of the build, its children and the kernels kept warm from an earlier build (not the build's children:
    found through their leases) every ``SAMPLE_S`` seconds. Sampling every 0.1 s from the waiting loop cost a CSV
    edit about 6% of its time on 2 cores."""
    import threading

    env = dict(os.environ, RELAXBOOK_ROOT=str(book), PYTHONPATH=str(book))  # kernels import the copy's helper
    log = tempfile.TemporaryFile(mode="w+")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=book, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    peak, stop = [0], threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, book, peak, stop), daemon=True)
    sampler.start()
    proc.wait()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    log.seek(0)
    out = log.read()
    if check and proc.returncode != 0:
        raise SystemExit(f"build failed ({' '.join(cmd[1:])}):\n{out[-3000:]}")
    return {"wall_s": wall, "executed": len(re.findall(r": Executing notebook", out)), "peak_mb": peak[0] / 2**20,
            "read": pages_read(out)}


def _sample(pid: int, book: Path, peak: list, stop) -> None:
    import psutil

    from relaxbook.executor import leased_pids

    leases = book / "_build" / ".jupyter_cache" / "kernels"
    known: dict[int, psutil.Process] = {}
    while True:
        try:
            root = known.setdefault(pid, psutil.Process(pid))
            tree = {p.pid for p in root.children(recursive=True)} | set(leased_pids(leases)) | {pid}
            total = 0
            for child in tree:
                try:
                    total += known.setdefault(child, psutil.Process(child)).memory_info().rss
                except psutil.Error:
                    known.pop(child, None)
            peak[0] = max(peak[0], total)
        except psutil.Error:
            pass
        if stop.wait(SAMPLE_S):
            return


def pages_read(log: str) -> int:
    """How many pages Sphinx (re-)read, from its "reading sources... [ 50%] page" lines."""
    return len(re.findall(r"reading sources\.\.\. \S*\[ *\d+%\]", re.sub(r"\x1b\[[0-9;]*m", "", log)))


def edit(path: Path, pattern: str, repl: str) -> None:
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(pattern, repl, text, count=1, flags=re.M)
    if n != 1:
        raise SystemExit(f"bench edit found nothing to change in {path}: {pattern!r}")
    path.write_text(new, encoding="utf-8")


def floor_config(book: Path) -> Path:
    config = book / "_config_floor.yml"
    text = re.sub(r"execute_notebooks: \w+", "execute_notebooks: 'off'", (book / "_config.yml").read_text())
    config.write_text(text)
    return config


def bench(book: Path, runs: int, log=print) -> dict:
    results = {}

    def measure(key, prepare, cmd, check=True):
        samples = []
        for i in range(runs):
            prepare(i)
            samples.append(run(cmd, book, check))
            log(f"  {key} run {i + 1}: {samples[-1]['wall_s']:.1f} s, {samples[-1]['executed']} executed")
        results[key] = summarise(samples)

    clean = lambda i: shutil.rmtree(book / "_build", ignore_errors=True)  # noqa: E731
    nothing = lambda i: None  # noqa: E731
    floor = floor_config(book)
    # execution off: glue targets are missing, so the floor build warns; it is timed, not judged (no -W)
    measure("floor", lambda i: shutil.rmtree(book / "_floor", ignore_errors=True),
            [JB, "build", ".", "--all", "-n", "--keep-going", "--config", str(floor), "--path-output", "_floor"],
            check=False)
    measure("cold", clean, COMMANDS["cold"])
    measure("noop", nothing, COMMANDS["noop"])
    measure("all", nothing, COMMANDS["all"])
    measure("prose", lambda i: edit(book / "chapters" / "safety.md", r"^(\*\*In this chapter\.\*\*)", rf"\1 Revision {i}."),
            COMMANDS["prose"])
    measure("code", lambda i: edit(book / "chapters" / "safety.md", r"^(book\.setup\(.*\).*)$", rf"\1  # edit {i}"),
            COMMANDS["code"])
    measure("csv", lambda i: edit(book / "data" / "studies.csv", r"^(roussan1985,[^,]*,[^,]*)", rf"\1 v{i}"),
            COMMANDS["csv"])
    measure("csv1", lambda i: edit(book / "data" / "adverse_effects.csv", r"^(ae-bac-1,baclofen,[^,]*)", rf"\1 v{i}"),
            COMMANDS["csv1"])
    measure("bib", lambda i: edit(book / "references.bib", r"(title\s*=\s*\{)", rf"\1Bench {i} "), COMMANDS["bib"])
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rev", help="bench this git revision instead of the working tree")
    parser.add_argument("--no-scale", action="store_true", help=f"skip the studies x{SCALE} scenario")
    parser.add_argument("--json", type=Path, default=REPO / "_build" / "bench.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="relaxbook-bench-") as tmp:
        book = scratch_copy(Path(tmp) / "book", args.rev)
        counts = fan_out(book)
        print(f"bench on a scratch copy of {args.rev or 'the working tree'}: {book}", flush=True)
        results = bench(book, args.runs, log=lambda m: print(m, flush=True))
        if not args.no_scale:
            big = scratch_copy(Path(tmp) / "scaled", args.rev)
            multiply_studies(big / "data")
            samples = []
            for i in range(args.runs):
                shutil.rmtree(big / "_build", ignore_errors=True)
                samples.append(run(COMMANDS["scale"], big))
                print(f"  scale run {i + 1}: {samples[-1]['wall_s']:.1f} s", flush=True)
            results["scale"] = summarise(samples)
    targets = evaluate(results)
    print()
    print(table(results, targets))
    print()
    print(fan_out_line(counts))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rev": args.rev or "working tree", "cpus": os.cpu_count(),
                                     "results": results, "targets": targets, "pages_per_table": counts},
                                    indent=2) + "\n")
    print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
