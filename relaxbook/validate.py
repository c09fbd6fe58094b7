"""``python -m relaxbook.validate``: check data/ and references.bib; exit 1 listing every problem."""
from __future__ import annotations

import sys
import time

from relaxbook.datapkg import DataError, validate_package


def main() -> int:
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
