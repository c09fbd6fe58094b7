"""Read ``references.bib`` (one entry per work). Malformed BibTeX raises :class:`DataError` with the line."""

from __future__ import annotations

import re
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


def lint() -> list[Problem]:
    """Complete records: a journal article names its authors and year, and carries a DOI or PMID, unless its
    ``note`` says why not (what was searched). One problem per entry, at the entry's line."""
    text = paths.BIB.read_text(encoding="utf-8")
    lines = {key: text[: text.find("{" + key + ",")].count("\n") + 1 for key in entries()}
    problems = []
    for key, entry in entries().items():
        if entry.type != "article":
            continue
        note = entry.fields.get("note", "")
        authors = [str(p) for p in entry.persons.get("author", [])]
        missing = []
        if "doi" not in entry.fields and "pmid" not in entry.fields and not re.search(r"DOI|PMID", note):
            missing.append("a DOI or PMID")
        if authors in ([], ["NA"], ["{NA}"]) and "author" not in note.lower():
            missing.append("its authors")
        if entry.fields.get("year", "NA") == "NA" and "year" not in note.lower():
            missing.append("its year")
        if missing:
            problems.append(
                Problem(
                    "references.bib",
                    lines[key],
                    None,
                    "incomplete-record",
                    f"article '{key}' lacks {' and '.join(missing)}: add them from the PubMed, PMC or "
                    "publisher record, or say in its note what was searched",
                )
            )
    return problems
