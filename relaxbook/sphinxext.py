"""Sphinx extension of the book.

* Validates the data package and the bibliography before any chapter is executed: a malformed CSV or an unknown
  ``source_key`` stops the build with one line per problem (file, row, column, rule).
* Roles for verification badges: ``{claim}`cNN``` renders claim cNN's status as an accessible badge (icon + text,
  a tooltip on hover and keyboard focus naming what it was checked against) linking to ``#claim-cNN`` on the
  same page; ``{claimid}`cNN``` renders the anchor ``claim-cNN`` (used in each chapter's list of checked claims).
"""
from __future__ import annotations

import html
import sys
from functools import lru_cache

from docutils import nodes
from sphinx.errors import SphinxError

def _register_bib_style() -> None:
    """Bibliography labels are the bib keys: unique by construction (alpha labels such as 'NANA' collide across
    the per-chapter bibliographies when authors and years are NA), and the same keys the data use."""
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.alpha import Style as AlphaStyle
    from pybtex.style.labels import BaseLabelStyle

    class KeyLabelStyle(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            for entry in sorted_entries:
                yield entry.key

    class BookStyle(AlphaStyle):
        """Every page has its own bibliography, and pybtex formats each cited entry again for each of them (464
        formattings of 67 entries, 2 s of a 12 s build). The labels are the keys, so an entry's formatted text is
        the same on every page: format each parsed entry once. The memo holds the entry object itself, so an entry
        parsed again (the bib file changed) is formatted again."""
        default_label_style = "relaxbook_key"
        _formatted: dict = {}

        def format_entry(self, label, entry, bib_data=None):
            memo_key = (type(self), label, entry.key, id(entry))
            hit = self._formatted.get(memo_key)
            if hit is None or hit[0] is not entry:
                kept_key = (type(self).__name__, label, entry_fingerprint(entry))
                done = _KEPT["entries"].get(kept_key) if kept_key[2] else None
                if done is None:
                    done = super().format_entry(label, entry, bib_data)
                if kept_key[2]:
                    _KEPT["used"][kept_key] = done
                hit = self._formatted[memo_key] = (entry, done)
            return hit[1]

    register_plugin("pybtex.style.labels", "relaxbook_key", KeyLabelStyle, force=True)
    register_plugin("pybtex.style.formatting", "relaxbook", BookStyle, force=True)
    _memoise_entry_points()


# Formatted bibliography entries kept from the last build (in the pickled environment, so `rm -rf _build` drops
# them): every incremental build formatted all 67 cited entries again, about 0.35 s, though the bib had not changed.
_KEPT: dict = {"entries": {}, "used": {}}


def entry_fingerprint(entry) -> tuple | None:
    """Everything of a parsed bib entry that its formatted text can depend on; None for an entry that borrows
    fields from another (``crossref``), which is then formatted afresh every build."""
    if "crossref" in entry.fields:
        return None
    names = lambda p: tuple(map(tuple, (p.first_names, p.middle_names, p.prelast_names, p.last_names,  # noqa: E731
                                        p.lineage_names)))
    persons = tuple((role, tuple(names(p) for p in people)) for role, people in entry.persons.items())
    return (entry.type, entry.key, tuple(entry.fields.items()), persons)


@lru_cache(maxsize=1)
def _format_salt() -> str:
    """Changes when the code that formats entries does: this file, pybtex, sphinxcontrib-bibtex, Python."""
    import hashlib
    from importlib.metadata import version
    from pathlib import Path

    parts = [Path(__file__).read_bytes(), version("pybtex").encode(), version("sphinxcontrib-bibtex").encode(),
             sys.version.encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _restore_formatted(app) -> None:
    kept = getattr(app.env, "relaxbook_bib", None) or {}
    _KEPT["entries"] = kept.get("entries", {}) if kept.get("salt") == _format_salt() else {}
    _KEPT["used"] = {}


def _keep_formatted(app, env) -> list[str]:
    """After sphinxcontrib-bibtex has formatted every bibliography: keep what this build used, for the next."""
    env.relaxbook_bib = {"salt": _format_salt(), "entries": dict(_KEPT["used"]) or _KEPT["entries"]}
    return []


def _memoise_entry_points() -> None:
    """pybtex looks its plugins up with ``importlib.metadata.entry_points`` on every formatted citation, and each
    lookup scans every installed distribution: 467 lookups took 9 s of a 32 s build. Installed packages do not
    change during a build, so remember each answer (plugins registered at run time are checked before this)."""
    import pybtex.plugin

    lookup = pybtex.plugin.entry_points
    if getattr(lookup, "relaxbook_memo", False):
        return

    @lru_cache(maxsize=None)
    def entry_points(**selection):
        return lookup(**selection)

    entry_points.relaxbook_memo = True
    pybtex.plugin.entry_points = entry_points



ICONS = {"verified": "✔", "partly verified": "◐", "unsupported": "✖", "contradicted": "⚠", "not found": "?"}


class InvalidData(SphinxError):
    category = "Invalid data (fix these before the book can build)"


def _validate(app) -> None:
    from relaxbook.datapkg import DataError, validate_package

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
    """The validated rows of claims.csv, by claim id (read with the csv module: importing pandas into the Sphinx
    process for this cost 0.7 s of every build that renders a badge)."""
    from relaxbook.bib import keys
    from relaxbook.datapkg import checked_rows, resource

    return {r["claim_id"]: r for r in checked_rows(resource("claims"), keys())}


def short_ref(key: str) -> str:
    """'Luo et al. 2017' style label for a bib key (organisation name for corporate authors; NA kept)."""
    from relaxbook.bib import entries

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


def badge_html(claim: dict) -> str:
    status = claim["status"]
    sources = "; ".join(short_ref(k.strip()) for k in str(claim["checked_against"]).split(";"))
    tip = f"Claim {claim['claim_id']}: {status}. Checked against {sources} on {claim['date_checked']}."
    css = "claim-" + status.replace(" ", "-")
    return (f'<a class="claim-badge {css}" href="#claim-{html.escape(claim["claim_id"])}">'
            f'<span class="claim-icon" aria-hidden="true">{ICONS[status]}</span>'
            f'<span class="claim-status">{html.escape(status)}</span>'
            f'<span class="claim-tip" role="tooltip">{html.escape(tip)}</span></a>')


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
    return [nodes.raw("", badge_html(claim), format="html")], []


def claimid_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    claim, bad, msgs = _lookup(text, lineno, inliner, rawtext)
    if claim is None:
        return bad, msgs
    node = nodes.inline(claim["claim_id"], claim["claim_id"], classes=["claim-id"])
    node["ids"].append(f"claim-{claim['claim_id']}")
    return [node], []


def _memoise_numref_doctrees() -> None:
    """For every ``{numref}`` Sphinx unpickles the whole page that holds the target, only to read the target's type
    and number (20 references took 1.5 s of a 12 s build). References are resolved after every page has been read,
    when the pickled doctrees no longer change, so each page is unpickled once for all of them; the copy is only
    read, and is keyed by the very bytes Sphinx caches, so a page pickled again is unpickled again."""
    from sphinx.domains.std import StandardDomain

    resolve = StandardDomain._resolve_numref_xref
    if getattr(resolve, "relaxbook_memo", False):
        return

    def resolve_numref(self, env, *args, **kwargs):
        pickled = getattr(env, "_pickled_doctree_cache", None)
        if pickled is None:  # another Sphinx version: no memo
            return resolve(self, env, *args, **kwargs)
        memo = _NUMREF_MEMO.setdefault(id(env), {})
        real = env.get_doctree

        def get_doctree(docname):
            if docname not in pickled:
                return real(docname)  # reads the file into Sphinx's byte cache
            hit = memo.get(docname)
            if hit is None or hit[0] is not pickled[docname]:
                hit = memo[docname] = (pickled[docname], real(docname))
            return hit[1]

        env.get_doctree = get_doctree
        try:
            return resolve(self, env, *args, **kwargs)
        finally:
            del env.get_doctree

    resolve_numref.relaxbook_memo = True
    StandardDomain._resolve_numref_xref = resolve_numref


_NUMREF_MEMO: dict[int, dict] = {}


def setup(app):
    _register_bib_style()
    _memoise_numref_doctrees()
    app.connect("builder-inited", _validate)
    app.connect("builder-inited", _restore_formatted)
    app.connect("env-updated", _keep_formatted, priority=900)  # after sphinxcontrib-bibtex's (500)
    app.add_role("claim", claim_role)
    app.add_role("claimid", claimid_role)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
