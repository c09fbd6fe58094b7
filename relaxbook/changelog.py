"""The evidence changelog: which statements of the guide changed status at each release, from what to what, and why.

``make release`` (:mod:`relaxbook.tools.release`) appends a snapshot of every claim to ``data/releases.csv``: its
status then (computed by the rule in :mod:`relaxbook.data.status`), the date it was last checked and what the
evidence said. The Changelog compares each release with the one before it, and today's computed statuses (not yet
released) with the last release; the first release gives the number of statements per status it started with.

The functions below are pure (data frames in, data frames or dicts out) except :func:`current` and :func:`show`,
which read the data package and display tables.
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter

from relaxbook import render
from relaxbook.data.status import STATUSES

UNRELEASED = "Unreleased"
SNAPSHOT = ["claim_id", "claim_text", "status", "date_checked", "note"]
CHANGE_COLUMNS = ["claim_id", "claim_text", "change", "was", "now", "note"]
SHORT = 90  # characters of a statement shown in the changelog (the full text is one click away)


def version_key(version: str) -> tuple[int, ...]:
    """``'0.10.2'`` -> ``(0, 10, 2)``, so versions sort as numbers (ValueError for anything else)."""
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", str(version)):
        raise ValueError(f"'{version}' is not a version like 1.2.3")
    return tuple(int(p) for p in str(version).split("."))


def snapshot(claims):
    """A snapshot of ``claims`` (claims.csv rows with their computed ``status`` and ``date_checked``, as
    :func:`relaxbook.claims.frame` gives them): id, the guide's text, status, date checked, what the evidence says."""
    import pandas as pd

    rows = [
        {
            "claim_id": c["claim_id"],
            "claim_text": c["source_text"],
            "status": c["status"],
            "date_checked": None if c.get("date_checked") is None else str(c["date_checked"]),
            "note": c.get("evidence_says"),
        }
        for c in claims.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=SNAPSHOT)


def versions(releases) -> list[str]:
    """The releases in ``releases`` (data/releases.csv rows), newest first."""
    return sorted(set(releases["version"]), key=version_key, reverse=True)


def release(releases, version: str):
    """The snapshot of one ``version``."""
    return releases[releases["version"] == version][SNAPSHOT].reset_index(drop=True)


def release_date(releases, version: str) -> str:
    return str(releases.loc[releases["version"] == version, "released"].iloc[0])


def status_changes(before, after):
    """Each claim whose status differs between snapshots ``before`` and ``after``: ``change`` is 'changed', 'new'
    (not in ``before``) or 'removed' (not in ``after``); ``was`` and ``now`` are its statuses (None where absent);
    ``note`` explains it (what the evidence says in ``after``, or in ``before`` for a removed claim). Unchanged
    claims are left out; rows follow the claims' numbers."""
    import pandas as pd

    old = {r["claim_id"]: r for r in before.to_dict("records")}
    new = {r["claim_id"]: r for r in after.to_dict("records")}
    rows = []
    for cid in sorted(old.keys() | new.keys(), key=lambda c: (len(c), c)):  # c9x before c10x (ids are c + digits)
        was, now = old.get(cid), new.get(cid)
        if was is not None and now is not None and was["status"] == now["status"]:
            continue
        latest = now if now is not None else was
        rows.append(
            {
                "claim_id": cid,
                "claim_text": latest["claim_text"],
                "change": "new" if was is None else "removed" if now is None else "changed",
                "was": None if was is None else was["status"],
                "now": None if now is None else now["status"],
                "note": latest["note"],
            }
        )
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS).astype(object)
    return out.where(out.notna(), None)  # an absent status is None, not NaN


def starting_counts(snap) -> dict[str, int]:
    """Number of claims per status in snapshot ``snap`` (every status, in the book's order)."""
    counts = Counter(snap["status"])
    unknown = sorted(set(counts) - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown status(es) {unknown} in a release snapshot")
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def history(releases, current) -> list[dict]:
    """The changelog, newest first: one entry for today's state (``version`` 'Unreleased', compared with the last
    release) and one per release, each compared with the release before it (``against``, ``changes``); the first
    release has ``counts`` (claims per status) instead. Without any release, today's state is the first."""
    ordered = versions(releases)
    entries = []
    snaps = [(UNRELEASED, None, current)] + [(v, release_date(releases, v), release(releases, v)) for v in ordered]
    for i, (version, released, snap) in enumerate(snaps):
        entry = {"version": version, "released": released}
        if i + 1 < len(snaps):
            against = snaps[i + 1]
            entry.update(against=against[0], changes=status_changes(against[2], snap))
        else:
            entry.update(counts=starting_counts(snap), total=len(snap))
        entries.append(entry)
    return entries


def numbers(entries: list[dict]) -> dict[str, object]:
    """Values for the Changelog's prose: the last release, how many statements changed status since, the first
    release and how many statements it checked."""
    first = entries[-1]
    released = [e for e in entries if e["version"] != UNRELEASED]
    out = {
        "changelog_releases": len(released),
        "changelog_first_release": first["version"],
        "changelog_first_date": first["released"] or "not yet released",
        "changelog_first_total": first["total"],
    }
    if len(entries) > 1:
        out["changelog_last_release"] = entries[0]["against"]
        out["changelog_unreleased_changed"] = len(entries[0]["changes"])
    return out


def shorten(text: str, width: int = SHORT) -> str:
    """A statement cut at a word to at most ``width`` characters, marked with an ellipsis when cut."""
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" …")


def statement_link(claim_id: str, text: str, linked_ids) -> str:
    """MyST for a statement's shortened text, linking to its anchor on its chapter page when the claim still
    exists (``linked_ids``); a removed claim has no anchor and shows as text."""
    short = shorten(text)
    return render.claim_link(claim_id, short) if claim_id in linked_ids else render.escape(short)


def _status(status, absent: str) -> str:
    """A status (icon and text, or ``absent``) as MyST that never breaks inside itself (no-break spaces)."""
    return render.escape(render.status_text(status) if status is not None else absent).replace(" ", "\u00a0")


def changes_rows(changes, linked_ids):
    """The rows of a changes table as readers see them: the linked statement, its status then and now, and why."""
    import pandas as pd

    rows = [
        {
            "statement": statement_link(r["claim_id"], r["claim_text"], linked_ids),
            "status": f"{_status(r['was'], '(new statement)')} → {_status(r['now'], '(removed)')}",
            "note": r["note"],
        }
        for r in changes.to_dict("records")
    ]
    return pd.DataFrame(rows, columns=["statement", "status", "note"])


def counts_rows(counts: dict[str, int]):
    import pandas as pd

    return pd.DataFrame({"status": [render.status_text(s) for s in counts], "n": list(counts.values())})


def label(version: str, kind: str) -> str:
    """Table label for one entry: ``tbl-changes-unreleased``, ``tbl-start-0-1-0``."""
    return f"tbl-{kind}-" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")


def caption(entry: dict) -> str:
    """What one entry's table (or, with no change, its sentence) shows."""
    head = "Not yet released" if entry["released"] is None else f"Release {entry['version']} ({entry['released']})"
    if "counts" in entry:
        return f"{head}: statements of the guide per status, the starting point"
    if entry["changes"].empty:
        return f"{head}: no statement changed status since release {entry['against']}."
    return f"{head}: statements whose status changed since release {entry['against']}"


def current():
    """Today's snapshot, computed from claims.csv and claim_elements.csv."""
    from relaxbook import claims

    return snapshot(claims.frame())


def load_releases():
    from relaxbook.data import datapkg

    releases = datapkg.load("releases")
    return releases.astype(object).where(releases.notna(), None).astype({"released": str, "version": str})


def entries() -> list[dict]:
    return history(load_releases(), current())


def show() -> None:
    """Display the changelog, newest first: a table of status changes per release (or a sentence when none
    changed), and the first release's statements per status."""
    from IPython.display import Markdown, display

    linked = set(current()["claim_id"])
    for entry in entries():
        if "counts" in entry:
            render.table(
                counts_rows(entry["counts"]),
                label(entry["version"], "start"),
                caption(entry),
                {"status": "Status", "n": "Statements"},
            )
        elif entry["changes"].empty:
            display(Markdown(render.escape(caption(entry))))
        else:
            render.table(
                changes_rows(entry["changes"], linked),
                label(entry["version"], "changes"),
                caption(entry),
                {"statement": "The guide says", "status": "Status: was → now", "note": "Why: what the evidence says"},
                myst_cols=("statement", "status"),
            )
