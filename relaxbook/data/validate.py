"""``python -m relaxbook.data.validate``: check data/ and references.bib; exit 1 listing every problem.

``python -m relaxbook.data.validate --explain-build-log LOG`` reads the output of a failed ``jupyter-book build`` and
prints one line per chapter whose code raised, naming the chapter and the exception (``make book`` calls it, so the
cause is not lost in the tracebacks above it).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from relaxbook.data import paths
from relaxbook.data.datapkg import DataError, validate_package

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): (.+)$")


def explain_build_log(text: str, root: Path | None = None) -> list[str]:
    """``<chapter>: <Exception>: <message> [cell-error]`` for each chapter whose execution failed in a jupyter-book
    log: chapters come from myst-nb's ``ExecutionError: <path>``, exceptions from the first exception line after
    each nbclient ``CellExecutionError`` (paired in order; the build stops at the first failing chapter)."""
    root = Path(root or paths.ROOT).resolve()
    lines = [l.strip() for l in _ANSI.sub("", text).splitlines()]
    chapters: list[str] = []
    exceptions: list[str] = []
    waiting = False
    for line in lines:
        chapter = re.search(r"ExecutionError: (\S+\.(?:md|ipynb))$", line)
        if chapter:
            path = Path(chapter.group(1))
            try:
                path = path.resolve().relative_to(root)
            except ValueError:
                pass
            if str(path) not in chapters:
                chapters.append(str(path))
            continue
        if "CellExecutionError:" in line:
            waiting = True
            continue
        match = _EXCEPTION_LINE.match(line)
        if waiting and match:
            exceptions.append(f"{match.group(1)}: {match.group(2)}")
            waiting = False
    return [
        f"{chapter}: {exceptions[i] if i < len(exceptions) else 'a code cell raised (see the traceback above)'}"
        " [cell-error]"
        for i, chapter in enumerate(chapters)
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--explain-build-log"] and len(argv) == 2:
        text = Path(argv[1]).read_text(encoding="utf-8", errors="replace")
        problems = explain_build_log(text)
        if problems:
            print(f"the build failed: {len(problems)} chapter(s) raised:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
        return 1 if problems else 0
    start = time.perf_counter()
    try:
        tables = validate_package()
    except DataError as exc:
        print(f"data/ is invalid ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    rows = sum(len(t) for t in tables.values())
    print(f"data/ is valid: {len(tables)} tables, {rows} rows ({time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
