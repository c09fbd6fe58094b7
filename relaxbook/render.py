"""Render data as real MyST tables (Sphinx tables with caption and label), not pandas HTML.

Text from data is escaped so it shows literally: Markdown/MyST syntax, pipes and HTML stay text.
Columns named in ``cite_cols`` hold bib keys (``;``-separated) and become ``{cite:p}`` citations.
"""

from __future__ import annotations

import re

NA_TEXT = "NA"
_ESCAPE = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~^$:@&])")


def escape(value) -> str:
    """Text of one cell, safe to put in MyST: every Markdown/HTML-significant character is backslash-escaped."""
    if value is None or (not isinstance(value, str) and _isna(value)):
        return NA_TEXT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return _ESCAPE.sub(r"\\\1", text)


def _isna(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cite(keys) -> str:
    """``{cite:p}`` role for a ``;``-separated list of bib keys; NA when there is none."""
    if keys is None or _isna(keys) or str(keys).strip() in ("", NA_TEXT):
        return NA_TEXT
    parts = [k.strip() for k in str(keys).split(";") if k.strip()]
    for k in parts:
        if not re.fullmatch(r"[A-Za-z0-9_:\-]+", k):
            raise ValueError(f"'{k}' is not a valid citation key")
    return "{cite:p}`" + ",".join(parts) + "`"


def claim(claim_id) -> str:
    """MyST for claim ``claim_id``'s verification badge (see relaxbook/ext/badges.py)."""
    return "{claim}`" + _checked_id(claim_id) + "`"


def claim_anchor(claim_id) -> str:
    """MyST for the ``claim-cNN`` anchor that badges link to."""
    return "{claimid}`" + _checked_id(claim_id) + "`"


def claim_link(claim_id, text) -> str:
    """MyST for ``text`` (escaped) linking to claim ``claim_id``'s anchor on its chapter page (the Sphinx extension
    registers the anchor of each claim's own chapter as a link target; a link to an unknown claim fails the build)."""
    return f"[{escape(text)}](#claim-{_checked_id(claim_id)})"


def _checked_id(claim_id) -> str:
    if not re.fullmatch(r"c[0-9]{2,3}", str(claim_id)):
        raise ValueError(f"'{claim_id}' is not a claim id")
    return str(claim_id)


def markdown_table(
    df, columns: dict[str, str] | None = None, cite_cols: tuple[str, ...] = (), myst_cols: tuple[str, ...] = ()
) -> str:
    """A pipe table. ``columns`` maps data column -> header text (and selects/orders columns).

    ``cite_cols`` hold bib keys (rendered as citations); ``myst_cols`` hold MyST made by this package's own
    functions (``claim``/``claim_anchor``), inserted as is. Every other cell is escaped text.
    """
    columns = columns or {c: c for c in df.columns}
    head = "| " + " | ".join(escape(h) for h in columns.values()) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    lines = [head, rule]
    for _, row in df.iterrows():
        cells = [cite(row[c]) if c in cite_cols else str(row[c]) if c in myst_cols else escape(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


MAX_ROWS = 100  # no table shows more rows; the rest are a download away
LIST_ROWS = 50  # tables that list studies or arms (which grow with the evidence) show one page of rows


def first_rows(df, max_rows: int | None, source: str | None = None):
    """``df`` cut to ``max_rows`` rows, and a note saying how many are shown, linking ``source`` (a path from the
    book's root, e.g. ``data/studies.csv``) for the rest; the note is empty when nothing is cut."""
    if max_rows is None or len(df) <= max_rows:
        return df, ""
    note = f"Showing the first {max_rows} of {len(df)} rows."
    if source:
        note += f" All rows: {{download}}`{source} </{source}>`."
    else:
        note += " All rows are in the tables listed under *Data behind this page*."
    return df.head(max_rows), note


def table(
    df,
    name: str,
    caption: str,
    columns: dict[str, str] | None = None,
    cite_cols: tuple[str, ...] = (),
    myst_cols: tuple[str, ...] = (),
    max_rows: int | None = MAX_ROWS,
    source: str | None = None,
    per_drug: bool = False,
):
    """Display ``df`` as a numbered, captioned MyST table with label ``name`` (use ``{numref}`name```).

    ``per_drug`` marks a table with one column per drug after a first column of row labels (class ``per-drug``:
    the labels keep their words whole, the drug columns share the rest).

    A table longer than ``max_rows`` (default :data:`MAX_ROWS`) shows its first rows and a note linking the full
    ``source`` file (or, without one, pointing to the page's data box), so pages stay readable at any data size."""
    from IPython.display import Markdown, display

    if not re.fullmatch(r"tbl-[a-z0-9-]+", name):
        raise ValueError(f"table label '{name}' must look like tbl-some-name")
    df, note = first_rows(df, max_rows, source)
    body = markdown_table(df, columns, cite_cols, myst_cols)
    options = f":name: {name}\n:align: left\n" + (":class: per-drug\n" if per_drug else "")
    text = f"```{{table}} {escape(caption)}\n{options}\n{body}\n```"
    display(Markdown(text + (f"\n\n{note}" if note else "")))


def status_text(status: str) -> str:
    """A verification status as shown in tables: icon and text."""
    from relaxbook.data.status import label

    return label(status)


def sourced_table(df, status_col, name, caption, columns):
    """A table whose ``status_col`` shows a verification status (icon + text) and whose source_key is cited."""
    df = df.copy()
    df[status_col] = df[status_col].map(status_text)
    table(df, name, caption, columns, cite_cols=("source_key",))


KEY_POINTS = (3, 5)  # every evidence chapter opens with this many key points (tests/test_key_points.py)


def glued(key: str) -> str:
    """MyST for a number the chapter glued as ``key`` (``book.glue_numbers``): shown in place, checked by the tests
    against the CSVs, and a missing key fails the build."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", key):
        raise ValueError(f"'{key}' is not a glue key")
    return "{glue:text}`" + key + "`"


def key_points(points: list[str]):
    """A chapter's opening: 3-5 key points in plain words, as a boxed list (the style of the landing page's "In two
    minutes"). Each point is MyST made by a chapter-API function: numbers in it are :func:`glued`, never typed."""
    from IPython.display import Markdown

    low, high = KEY_POINTS
    if not low <= len(points) <= high:
        raise ValueError(f"{len(points)} key points: a chapter opens with {low} to {high}")
    body = "\n".join(f"- {p}" for p in points)
    return Markdown(f"```{{admonition}} Key points\n:class: key-points\n\n{body}\n```")


def status_point(prefix: str) -> str:
    """The key point on how the guide's statements in a chapter fared, from the counts glued by
    ``claims.chapter_numbers(chapter, prefix)``."""
    g = lambda k: glued(f"{prefix}_{k}")  # noqa: E731
    return (
        f"**The guide here.** Its statements checked in this chapter: {g('claims')}. Verified: {g('verified')}; "
        f"partly verified: {g('partly_verified')}; unsupported: {g('unsupported')}; contradicted by the records: "
        f"{g('contradicted')}; resting on work that cannot be found: {g('not_found')}."
    )
