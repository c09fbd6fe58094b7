"""Locations inside the book: ``data/``, ``data/datapackage.json`` and ``references.bib``.

The book's root is, in this order: ``RELAXBOOK_ROOT`` (the Sphinx extension sets it to the folder being built, and
the chapters' kernels inherit it; tests point it at a scratch copy); else the nearest folder at or above the working
directory that holds ``_toc.yml`` and ``data/datapackage.json`` (a chapter run by hand in Jupyter); else the folder
above this package. So a copied checkout always reads its own files.
"""

from __future__ import annotations

import os
from pathlib import Path


def find_root() -> Path:
    if os.environ.get("RELAXBOOK_ROOT"):
        return Path(os.environ["RELAXBOOK_ROOT"]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "data" / "datapackage.json").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def set_root(root: str | os.PathLike) -> None:
    """Point this process, and every process it starts, at the book in ``root``."""
    global ROOT, DATA, BIB, PACKAGE
    os.environ["RELAXBOOK_ROOT"] = str(Path(root).resolve())
    ROOT = find_root()
    DATA, BIB, PACKAGE = ROOT / "data", ROOT / "references.bib", ROOT / "data" / "datapackage.json"


ROOT = find_root()
DATA = ROOT / "data"
BIB = ROOT / "references.bib"
PACKAGE = DATA / "datapackage.json"


def toc_pages(root: Path | None = None) -> list[str]:
    """Every page listed in ``_toc.yml`` under ``root`` (the root page first), as paths without suffix."""
    import yaml

    toc = yaml.safe_load(((root or ROOT) / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    return files + [c["file"] for c in toc.get("chapters", [])]
