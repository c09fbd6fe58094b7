"""The verification statuses of the guide's claims and the one rule that computes a claim's status from its elements.

Each statement of the guide is split into checkable elements (``data/claim_elements.csv``), and each element gets a
finding from a valid (not retracted, not excluded) source:

* ``supported``: the source states it;
* ``contradicted``: the source states otherwise;
* ``not addressed``: no checked source states it or its opposite;
* ``source not found``: the work the guide cites for it cannot be located.

A claim's status follows from its elements' findings, in this order (:func:`claim_status`):

1. any element contradicted -> **contradicted** (one false element makes the statement wrong as written);
2. every element supported -> **verified**;
3. some supported, none contradicted -> **partly verified**;
4. none supported, every element's cited work missing -> **not found**;
5. none supported otherwise -> **unsupported** (no valid source says it).
"""

from __future__ import annotations

STATUSES = ["verified", "partly verified", "unsupported", "contradicted", "not found"]
ICONS = {"verified": "✔", "partly verified": "◐", "unsupported": "✖", "contradicted": "⚠", "not found": "?"}
FINDINGS = ["supported", "contradicted", "not addressed", "source not found"]
# the mark each finding shows beside its text (the same marks as the statuses it leads to)
FINDING_ICONS = {"supported": "✔", "contradicted": "⚠", "not addressed": "✖", "source not found": "?"}
SUPPORTING = ("verified", "partly verified")
# One palette for every place a status is shown: the claim badges (``_static/claims.css``, ``.claim-<status>``: text
# colour on background colour) and the charts (bar in the text colour, icon and count written on it in white).
# tests/test_figures.py compares it with the stylesheet. Colour is never alone: the icon and label go with it.
STATUS_COLOURS = {
    "verified": {"text": "#0b6b3a", "background": "#e6f4ea"},
    "partly verified": {"text": "#6b4e00", "background": "#fdf3d7"},
    "unsupported": {"text": "#8a1c1c", "background": "#fbe9e9"},
    "contradicted": {"text": "#7a1257", "background": "#f9e6f2"},
    "not found": {"text": "#33415c", "background": "#e9edf5"},
}


def claim_status(findings: list[str]) -> str:
    """The status a claim's element ``findings`` give under the rule above (ValueError for none or an unknown one)."""
    if not findings:
        raise ValueError("a claim needs at least one element")
    unknown = sorted(set(findings) - set(FINDINGS))
    if unknown:
        raise ValueError(f"unknown finding(s) {unknown}: expected one of {FINDINGS}")
    if "contradicted" in findings:
        return "contradicted"
    if all(f == "supported" for f in findings):
        return "verified"
    if "supported" in findings:
        return "partly verified"
    if all(f == "source not found" for f in findings):
        return "not found"
    return "unsupported"


def label(status: str) -> str:
    """A status as readers see it: icon and text (never colour or icon alone)."""
    return f"{ICONS[status]} {status}"


def with_status(claims: list[dict], elements: list[dict]) -> list[dict]:
    """Each claim (a dict) with what its elements give it: ``status`` (by :func:`claim_status`), ``elements`` (its
    element rows, in order), ``checked_against`` (the sources' keys, ``;``-separated, in order of first use) and
    ``date_checked`` (the latest element's date). A claim without elements gets status None (validation names it)."""
    by_claim: dict[str, list[dict]] = {}
    for element in sorted(elements, key=lambda e: (e["claim_id"], int(e["element_no"]))):
        by_claim.setdefault(element["claim_id"], []).append(element)
    out = []
    for claim in claims:
        own = by_claim.get(claim["claim_id"], [])
        keys = [k.strip() for e in own if e.get("source_key") for k in str(e["source_key"]).split(";")]
        dates = [str(e["date_checked"]) for e in own if e.get("date_checked")]
        out.append(
            {
                **claim,
                "status": claim_status([e["finding"] for e in own]) if own else None,
                "elements": own,
                "checked_against": ";".join(dict.fromkeys(k for k in keys if k and k != "NA")) or None,
                "date_checked": max(dates) if dates else None,
            }
        )
    return out


def claim_number(claim_id: str) -> str:
    """How readers see a claim: its number ("37" for c37), never the internal id."""
    return str(int(str(claim_id).lstrip("c")))
