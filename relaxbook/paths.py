"""Locations inside the repository, found from this package's own location.

A chapter's kernel runs with the chapter's folder as its working directory, so nothing here uses the cwd.
``RELAXBOOK_ROOT`` overrides the root (tests use it to work on a scratch copy).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("RELAXBOOK_ROOT") or Path(__file__).resolve().parent.parent)
DATA = ROOT / "data"
BIB = ROOT / "references.bib"
PACKAGE = DATA / "datapackage.json"


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page listed in ``_toc.yml`` under ``root`` (the root page first), as paths without suffix."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    return files + [c["file"] for c in toc.get("chapters", [])]
