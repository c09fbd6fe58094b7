"""Validation before any chapter runs, the bibliography style, and the claim badges.

* Validates the data package and the bibliography before any chapter is executed: a malformed CSV or an unknown
  ``source_key`` stops the build with one line per problem (file, row, column, rule).
* Roles for verification badges: ``{claim}`cNN``` renders claim cNN's status as an accessible badge (icon + text,
  a tooltip on hover and keyboard focus naming what it was checked against) linking to ``#claim-cNN`` on the
  same page; ``{claimid}`cNN``` renders the anchor ``claim-cNN`` (used in each chapter's list of checked claims); on the
  claim's own chapter page it is also a link target, so ``[text](#claim-cNN)`` links there from any page.
"""

from __future__ import annotations

import html
import sys
from functools import lru_cache

from docutils import nodes
from sphinx.errors import SphinxError

from relaxbook.data.status import FINDING_ICONS, ICONS, claim_number


def _register_bib_style() -> None:
    """Bibliography labels are the bib keys: unique by construction (alpha labels such as 'NANA' collide across
    the per-chapter bibliographies when authors and years are NA), and the same keys the data use."""
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.alpha import Style as AlphaStyle
    from pybtex.style.labels import BaseLabelStyle

    from relaxbook.ext.patches import FormatOnce

    class KeyLabelStyle(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            for entry in sorted_entries:
                yield entry.key

    class BookStyle(FormatOnce, AlphaStyle):
        default_label_style = "relaxbook_key"

    register_plugin("pybtex.style.labels", "relaxbook_key", KeyLabelStyle, force=True)
    register_plugin("pybtex.style.formatting", "relaxbook", BookStyle, force=True)


class InvalidData(SphinxError):
    category = "Invalid data (fix these before the book can build)"


def _validate(app) -> None:
    from relaxbook.data.datapkg import DataError, validate_package

    _claims.cache_clear()
    try:
        validate_package()
    except DataError as exc:
        # Jupyter Book wraps any Sphinx error in a RuntimeError and prints a traceback that buries the problem
        # list; print the list and stop the build instead (SystemExit is not caught by its handler).
        print(f"{InvalidData.category} ({len(exc.problems)} problem(s)):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(1) from None


@lru_cache(maxsize=1)
def _claims() -> dict[str, dict]:
    """The claims by id, each with the status its elements give it (relaxbook.data.status.with_status); read with
    the csv module, as importing pandas into the Sphinx process would cost most of a second per build."""
    from relaxbook.data.bib import keys
    from relaxbook.data.datapkg import checked_rows, resource
    from relaxbook.data.status import with_status

    bib_keys = keys()
    claims = with_status(checked_rows(resource("claims"), bib_keys), checked_rows(resource("claim_elements"), bib_keys))
    return {c["claim_id"]: c for c in claims}


def short_ref(key: str) -> str:
    """'Luo et al. 2017' style label for a bib key (organisation name for corporate authors; NA kept)."""
    from relaxbook.data.bib import entries

    entry = entries().get(key)
    if entry is None:
        return key
    people = entry.persons.get("author", [])
    year = entry.fields.get("year", "NA")
    if not people:
        return f"{key} ({year})"
    first = " ".join(people[0].last_names) or str(people[0])
    first = first.strip("{}")
    etal = " et al." if len(people) > 1 else ""
    return f"{first}{etal} {year}" if year != "NA" else f"{first}{etal} (year NA)"


def badge_tip(claim: dict) -> str:
    """The badge's tooltip: the status, then each element with its finding and source, then the date."""
    parts = []
    for el in claim["elements"]:
        keys = [k.strip() for k in str(el.get("source_key") or "").split(";") if el.get("source_key")]
        source = f" ({'; '.join(short_ref(k) for k in keys)})" if keys else ""
        parts.append(f"{FINDING_ICONS[el['finding']]} {el['element']}: {el['finding']}{source}")
    return (
        f"Claim {claim_number(claim['claim_id'])}: {claim['status']}. "
        + " · ".join(parts)
        + f". Checked on {claim['date_checked']}."
    )


def badge_html(claim: dict) -> str:
    status = claim["status"]
    tip = badge_tip(claim)
    css = "claim-" + status.replace(" ", "-")
    return (
        f'<a class="claim-badge {css}" href="#claim-{html.escape(claim["claim_id"])}">'
        f'<span class="claim-icon" aria-hidden="true">{ICONS[status]}</span>'
        f'<span class="claim-status">{html.escape(status)}</span>'
        f'<span class="claim-tip" role="tooltip">{html.escape(tip)}</span></a>'
    )


def _lookup(text, lineno, inliner, rawtext):
    cid = text.strip()
    claim = _claims().get(cid)
    if claim is None:
        msg = inliner.reporter.error(f"unknown claim id '{cid}': not in data/claims.csv", line=lineno)
        return None, [inliner.problematic(rawtext, rawtext, msg)], [msg]
    return claim, None, None


def claim_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    claim, bad, msgs = _lookup(text, lineno, inliner, rawtext)
    if claim is None:
        return bad, msgs
    from relaxbook.data import paths

    env = inliner.document.settings.env  # the page shows these files' content: re-read it when they change
    for name in ("claims.csv", "claim_elements.csv"):
        env.note_dependency(str(paths.DATA / name))
    return [nodes.raw("", badge_html(claim), format="html")], []


def claimid_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    claim, bad, msgs = _lookup(text, lineno, inliner, rawtext)
    if claim is None:
        return bad, msgs
    number = claim_number(claim["claim_id"])
    node = nodes.inline(number, number, classes=["claim-id"])
    anchor = f"claim-{claim['claim_id']}"
    node["ids"].append(anchor)
    env = inliner.document.settings.env
    if env.docname == home_page(claim["chapter"], env.config.root_doc):
        # the anchor on the claim's own chapter page is a link target for other pages ([text](#claim-cNN)); other
        # pages that list the claim (corrections, audit) keep a local anchor only, so the target is unique
        env.get_domain("std").anonlabels[anchor] = (env.docname, anchor)
    return [node], []


def home_page(chapter: str, root_doc: str) -> str:
    """The page whose claims table anchors the claims of ``chapter`` (claims.csv): the landing page for the
    introduction, ``chapters/<chapter>`` otherwise."""
    return root_doc if chapter == "introduction" else f"chapters/{chapter}"


def setup(app):
    _register_bib_style()
    app.connect("builder-inited", _validate)
    app.add_role("claim", claim_role)
    app.add_role("claimid", claimid_role)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
