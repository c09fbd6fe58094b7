"""The guide's statements and how they were checked: claims tables, status counts, corrections, references."""

from __future__ import annotations

from collections import Counter

from relaxbook import figures, render
from relaxbook.data import datapkg
from relaxbook.data.status import FINDING_ICONS, ICONS, STATUS_COLOURS, STATUSES, claim_number, label
from relaxbook.studies import flow_counts


def frame():
    """claims.csv, each claim with what its elements (claim_elements.csv) give it: ``status`` (computed by the
    rule in relaxbook/data/status.py, never typed), ``checked_against`` (the sources' keys), ``date_checked`` and
    ``elements`` (its element rows)."""
    import pandas as pd

    from relaxbook.data.status import with_status

    elements = datapkg.load("claim_elements").astype(object).where(lambda d: d.notna(), None)
    return pd.DataFrame(with_status(datapkg.load("claims").to_dict("records"), elements.to_dict("records")))


def claim_counts(chapter: str | None = None) -> dict[str, int]:
    """Number of guide claims per status (all chapters, or one)."""
    claims = frame()
    if chapter:
        claims = claims[claims["chapter"] == chapter]
    counts = Counter(claims["status"])
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def chapter_numbers(chapter: str, prefix: str) -> dict[str, int]:
    """The chapter's claim counts for glue: ``{prefix}_claims`` and ``{prefix}_{status}`` (see render.status_point)."""
    counts = claim_counts(chapter)
    return {
        f"{prefix}_claims": sum(counts.values()),
        **{f"{prefix}_{k.replace(' ', '_')}": v for k, v in counts.items()},
    }


def guide_table(number: int, name: str, caption: str):
    """The guide's Table ``number`` rebuilt verbatim from ``guide_tables.csv`` plus a status column."""
    cells = datapkg.load("guide_tables")
    cells = cells[cells["table_no"] == number]
    headers = cells.sort_values("col_no").drop_duplicates("col_no")["column"].tolist()
    rows = []
    for _, grp in cells.groupby("row_no", sort=True):
        grp = grp.sort_values("col_no")
        row = dict(zip(headers, grp["text"], strict=True))
        row["Status (this book)"] = " ".join(render.claim(c) for c in dict.fromkeys(grp["claim_id"]))
        rows.append(row)
    import pandas as pd

    render.table(pd.DataFrame(rows), name, caption, myst_cols=("Status (this book)",))


def claims_table(chapter: str, name: str):
    """The chapter's claims (status computed from their elements), then the elements each was split into."""
    claims = frame()
    claims = claims[claims["chapter"] == chapter].copy()
    claims["anchor"] = claims["claim_id"].map(render.claim_anchor)
    claims["badge"] = claims["claim_id"].map(render.claim)
    render.table(
        claims,
        name,
        "Statements of the source guide checked in this chapter",
        {
            "anchor": "Claim",
            "source_text": "The guide says",
            "guide_refs": "Guide refs",
            "badge": "Status",
            "evidence_says": "The evidence says",
            "checked_against": "Checked against",
            "date_checked": "Checked on",
        },
        cite_cols=("checked_against",),
        myst_cols=("anchor", "badge"),
    )
    elements_table(claims, f"{name}-elements")


def elements_table(claims, name: str):
    """Each element of ``claims``: what was checked, the finding, the source and where in it."""
    import pandas as pd

    rows = [
        {
            "claim": f"{claim_number(c['claim_id'])}.{e['element_no']}",
            "element": e["element"],
            "finding": f"{FINDING_ICONS[e['finding']]} {e['finding']}",
            "source_key": e["source_key"],
            "locator": e["locator"],
        }
        for c in claims.to_dict("records")
        for e in c["elements"]
    ]
    render.table(
        pd.DataFrame(rows, columns=["claim", "element", "finding", "source_key", "locator"]),
        name,
        "How each statement was checked: its elements, what the source says of each, and where",
        {
            "claim": "Element",
            "element": "The guide says",
            "finding": "Finding",
            "source_key": "Source",
            "locator": "Where in the source",
        },
        cite_cols=("source_key",),
    )


def claim_status_figure():
    """Stacked bars: claims of the guide by verification status per chapter, in the badges' colours
    (``STATUS_COLOURS``), each segment labelled with the status icon and its count (never colour alone)."""
    figures.use_style()
    import matplotlib.pyplot as plt

    claims = frame()
    chapters = list(dict.fromkeys(claims["chapter"]))
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(chapters) + 1.2))
    left = [0] * len(chapters)
    for status in STATUSES:
        vals = [int(((claims["chapter"] == c) & (claims["status"] == status)).sum()) for c in chapters]
        colour = STATUS_COLOURS[status]["text"]
        bars = ax.barh(chapters, vals, left=left, color=colour, edgecolor="white", label=label(status))
        for bar, n in zip(bars, vals, strict=True):
            if n:
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    f"{ICONS[status]}{n}",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=figures.SMALL,
                    fontweight="bold",
                )
        left = [a + b for a, b in zip(left, vals, strict=True)]
    ax.set_xlabel("statements of the source guide")
    ax.invert_yaxis()
    ax.legend(frameon=False, fontsize=figures.SMALL, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    return figures.svg(fig, status_counts(claims, chapters))


def status_counts(claims, chapters):
    """The claim-status chart's rows: statements of the guide per chapter and status, zero counts included."""
    import pandas as pd

    return pd.DataFrame(
        [
            {"chapter": c, "status": s, "statements": int(((claims["chapter"] == c) & (claims["status"] == s)).sum())}
            for c in chapters
            for s in STATUSES
        ]
    )


def _claims_with_status(statuses, name, caption, evidence_header):
    claims = frame()
    rows = claims[claims["status"].isin(statuses)].copy()
    rows["anchor"] = rows["claim_id"].map(render.claim_anchor)
    rows["badge"] = rows["claim_id"].map(render.claim)
    render.table(
        rows,
        name,
        caption,
        {
            "anchor": "Claim",
            "chapter": "Chapter",
            "source_text": "The source says",
            "evidence_says": evidence_header,
            "badge": "Status",
            "checked_against": "Checked against",
        },
        cite_cols=("checked_against",),
        myst_cols=("anchor", "badge"),
    )


def corrections_table(name: str = "tbl-corrections"):
    """Every claim whose status is 'contradicted': the source says / the evidence says / source."""
    _claims_with_status(
        ["contradicted"], name, "Corrections to the source: claims contradicted by the evidence", "The evidence says"
    )


def problems_table(name: str = "tbl-problems"):
    """Claims that are unsupported or could not be found (not contradicted, but not to be relied on)."""
    _claims_with_status(
        ["unsupported", "not found"],
        name,
        "Claims of the source that are unsupported or whose source could not be found",
        "What we found",
    )


def duplicate_citations_table(name: str = "tbl-duplicate-citations"):
    """Guide reference numbers that point to one and the same work (or to the same bare site name)."""
    import pandas as pd

    refs = datapkg.load("guide_references")
    groups = refs.groupby("source_key", sort=False)["ref_no"].apply(list)
    rows = [
        {"refs": ", ".join(f"[{n}]" for n in nos), "source_key": key, "count": len(nos)}
        for key, nos in groups.items()
        if len(nos) > 1
    ]
    render.table(
        pd.DataFrame(rows),
        name,
        "The source's reference numbers that cite one work more than once",
        {"refs": "Guide references", "count": "Times cited", "source_key": "One entry"},
        cite_cols=("source_key",),
    )


def guide_references_table(name: str = "tbl-guide-references"):
    refs = datapkg.load("guide_references")
    render.sourced_table(
        refs,
        "status",
        name,
        f"The source guide's {len(refs)} references and the work each identifies",
        {
            "ref_no": "No.",
            "as_cited": "As cited by the guide",
            "identifies_work": "Identifies a work?",
            "status": "Status",
            "source_key": "Entry",
            "note": "Note",
        },
    )


def reference_numbers() -> dict:
    from relaxbook.data import bib

    refs = datapkg.load("guide_references")
    return {
        "bib_total": len(bib.keys()),
        "guide_works": int(refs.loc[refs["identifies_work"] != "no", "source_key"].nunique()),
        "guide_no_work": int((refs["identifies_work"] == "no").sum()),
        "guide_refs": len(refs),
    }


def guide_table_rows(number: int) -> int:
    """How many rows (studies) the guide's Table ``number`` has."""
    cells = datapkg.load("guide_tables")
    return int(cells.loc[cells["table_no"] == number, "row_no"].nunique())


def audit_numbers() -> dict[str, int]:
    counts = claim_counts()
    refs = datapkg.load("guide_references")
    from relaxbook.data import bib

    entries = bib.entries()
    keys = refs["source_key"].unique()
    with_id = sum(1 for k in keys if "doi" in entries[k].fields or "pmid" in entries[k].fields)
    return {
        **{f"audit_{k.replace(' ', '_')}": v for k, v in counts.items()},
        "audit_total": sum(counts.values()),
        "audit_refs_with_id": with_id,
        "audit_ref_works": len(keys),
        "guide_refs": len(refs),
        **flow_counts(),
    }


RANK = ["contradicted", "not found", "unsupported"]


def what_the_guide_got_wrong():
    """A ranked prose list: the statements the records contradict, then those whose source cannot be found, then
    those no valid source supports; each with what the evidence says and its badge."""
    from IPython.display import Markdown

    frame_ = frame()
    lines = []
    for status in RANK:
        for c in frame_[frame_["status"] == status].to_dict("records"):
            lines.append(
                f"1. {render.claim(c['claim_id'])} *{render.escape(c['source_text'])}* — "
                f"{render.escape(c['evidence_says'])}"
            )
    return Markdown("\n".join(lines))


def corrections_key_points():
    """The opening of the corrections chapter: what the guide got wrong, in counts (glued by audit_numbers)."""
    g = render.glued
    return render.key_points(
        [
            f"**Contradicted.** {g('audit_contradicted')} of the guide's {g('audit_total')} statements say the "
            "opposite of what the records they rest on say.",
            f"**Sources that cannot be found.** {g('audit_not_found')} statements rest on a trial or paper that no "
            "registry, database or journal holds.",
            f"**Unsupported.** For {g('audit_unsupported')} statements no valid source states any part; several are "
            "true of tolperisone or eperisone, not of lanperisone.",
            f"**What stands.** {g('audit_verified')} statements are verified and {g('audit_partly_verified')} partly "
            f"verified; {g('flow_excluded')} studies are excluded from the evidence (retracted, or not found).",
        ]
    )


def audit_key_points():
    """The opening of the audit chapter: statements by status, the guide's references, and the certainty of the
    head-to-head evidence (glued by audit_numbers and certainty.comparison_numbers)."""
    g = render.glued
    return render.key_points(
        [
            f"**Statements.** The guide's statements: {g('audit_total')}. Verified: {g('audit_verified')}; partly "
            f"verified: {g('audit_partly_verified')}; unsupported: {g('audit_unsupported')}; contradicted: "
            f"{g('audit_contradicted')}; not found: {g('audit_not_found')}.",
            f"**References.** The guide's {g('guide_refs')} references name {g('flow_works')} distinct works: "
            f"{g('flow_duplicates')} are repeats and {g('flow_no_work')} identify no work at all.",
            f"**Evidence beyond the guide.** The book adds {g('flow_added')} studies the guide does not cite; "
            f"{g('flow_included')} studies are used as evidence and {g('flow_excluded')} excluded.",
            "**Certainty.** Baclofen against diazepam for spasticity rests on "
            f"{g('baclofen_diazepam_efficacy_studies')} small studies ({g('baclofen_diazepam_efficacy_participants')} "
            f"participants): {g('baclofen_diazepam_efficacy_certainty')} certainty. Lanperisone has "
            f"{g('lanperisone_clinical_studies')} clinical studies.",
        ]
    )
