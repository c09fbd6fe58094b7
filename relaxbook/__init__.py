"""Helper package for the evidence book.

Chapters call these functions so that the logic lives once:

* :mod:`relaxbook.paths`    -- where ``data/`` and ``references.bib`` are, found from this file, not the cwd;
* :mod:`relaxbook.datapkg`  -- load a CSV with validation against ``data/datapackage.json``;
* :mod:`relaxbook.bib`      -- read ``references.bib``;
* :mod:`relaxbook.render`   -- real MyST tables (not pandas HTML) with captions, labels and citations;
* :mod:`relaxbook.figures`  -- one figure style, and diagrams drawn from data.
"""
from relaxbook.datapkg import DataError, load, validate_package
from relaxbook.paths import BIB, DATA, ROOT

__all__ = ["BIB", "DATA", "ROOT", "DataError", "load", "validate_package"]
