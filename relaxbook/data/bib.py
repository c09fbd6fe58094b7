"""Read ``references.bib`` (one entry per work). Malformed BibTeX raises :class:`DataError` with the line."""

from __future__ import annotations

from functools import lru_cache

from relaxbook.data import paths
from relaxbook.data.errors import DataError, Problem


@lru_cache(maxsize=4)
def _entries(path: str, mtime: float) -> dict:
    from pybtex.database import parse_file
    from pybtex.scanner import PybtexError

    try:
        return dict(parse_file(path, bib_format="bibtex").entries)
    except PybtexError as exc:
        line = getattr(exc, "lineno", None)
        raise DataError([Problem("references.bib", line, None, "bibtex", str(exc).splitlines()[0])]) from None


def entries() -> dict:
    """Entries of references.bib by key (pybtex ``Entry`` objects)."""
    return _entries(str(paths.BIB), paths.BIB.stat().st_mtime)


def keys() -> set[str]:
    return set(entries())


def field(key: str, name: str, default: str = "NA") -> str:
    """A field of one entry, ``NA`` when the entry lacks it."""
    return entries()[key].fields.get(name, default)
