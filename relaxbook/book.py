"""The chapter API's entry point: every chapter's first cell calls :func:`setup`; prose numbers are glued here.

One module per chapter domain holds the tables, figures and numbers chapters show: :mod:`relaxbook.claims`,
:mod:`relaxbook.studies`, :mod:`relaxbook.certainty`, :mod:`relaxbook.mechanisms`, :mod:`relaxbook.safety`,
:mod:`relaxbook.effects`, :mod:`relaxbook.profiles`.
"""

from __future__ import annotations

from relaxbook.data import datapkg


def setup(*tables: str) -> None:
    """Run once at the top of every chapter, naming the ``data/`` tables the chapter reads.

    Declares those tables (reading any other fails, so the list is complete: the build's cache and the page's
    download links rely on it) and glues the evidence cut-off as ``evidence_cutoff``. The figure style is applied
    by the figure functions themselves, so chapters without a chart never import matplotlib (~1 s per kernel).
    """
    from myst_nb import glue

    datapkg.declare(tables)
    glue("evidence_cutoff", evidence_cutoff(), display=False)


def evidence_cutoff() -> str:
    return datapkg.descriptor()["evidence_cutoff"]


def glue_numbers(values: dict) -> None:
    """Glue each ``name: value`` for ``{glue:text}`` in prose (ints and floats as plain Python numbers)."""
    from myst_nb import glue

    for name, value in values.items():
        if hasattr(value, "item"):
            value = value.item()
        glue(name, value, display=False)
