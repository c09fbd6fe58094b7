"""What chapters call: one short function per table, figure or number, computed from ``data/``.

Chapters stay prose plus short calls; the logic lives here once, with unit tests in ``tests/``.
"""
from __future__ import annotations

from collections import Counter

from relaxbook import datapkg, figures, render

STATUSES = ["verified", "partly verified", "unsupported", "contradicted", "not found"]
MAX_TABLE_ROWS = 50  # longer tables show their first rows and link the full CSV
STATUS_ICON = {"verified": "✔", "partly verified": "◐", "unsupported": "✖", "contradicted": "⚠", "not found": "?"}


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


def _status_text(status: str) -> str:
    return f"{STATUS_ICON[status]} {status}"


# --- numbers -------------------------------------------------------------------------------------------------

def claim_counts(chapter: str | None = None) -> dict[str, int]:
    """Number of guide claims per status (all chapters, or one)."""
    claims = datapkg.load("claims")
    if chapter:
        claims = claims[claims["chapter"] == chapter]
    counts = Counter(claims["status"])
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def study_numbers() -> dict[str, int]:
    studies = datapkg.load("studies")
    included = studies[studies["inclusion"] == "included"]
    return {
        "n_studies": len(studies),
        "n_included": len(included),
        "n_excluded": int((studies["inclusion"] == "excluded").sum()),
        "n_direct": int((included["evidence_type"] == "direct").sum()),
        "n_indirect": int((included["evidence_type"] == "indirect").sum()),
    }


def study_value(study_id: str, column: str):
    studies = datapkg.load("studies").set_index("study_id")
    value = studies.loc[study_id, column]
    return value.item() if hasattr(value, "item") else value


# --- tables --------------------------------------------------------------------------------------------------

def mechanism_table(name: str = "tbl-mechanisms"):
    mech = datapkg.load("mechanisms")
    mech = mech[mech["basis"] == "as the checked evidence states it"].copy()
    mech["verification"] = mech["verification"].map(_status_text)
    render.table(mech, name, "Mechanisms of action as the checked evidence states them",
                 {"drug_id": "Drug", "target": "Target", "site": "Site", "action": "Action",
                  "effect": "Effect", "verification": "Status", "source_key": "Source"}, cite_cols=("source_key",))


def guide_table(number: int, name: str, caption: str):
    """The guide's Table ``number`` rebuilt verbatim from ``guide_tables.csv`` plus a status column."""
    cells = datapkg.load("guide_tables")
    cells = cells[cells["table_no"] == number]
    claims = datapkg.load("claims").set_index("claim_id")
    headers = cells.sort_values("col_no").drop_duplicates("col_no")["column"].tolist()
    rows = []
    for _, grp in cells.groupby("row_no", sort=True):
        grp = grp.sort_values("col_no")
        row = dict(zip(headers, grp["text"]))
        status = claims.loc[grp["claim_id"].iloc[-1], "status"]
        row["Status (this book)"] = _status_text(status)
        row["Claim"] = ", ".join(dict.fromkeys(grp["claim_id"]))
        rows.append(row)
    import pandas as pd

    render.table(pd.DataFrame(rows), name, caption)


def characteristics_table(name: str = "tbl-characteristics"):
    studies = datapkg.load("studies")
    arms = datapkg.load("arms")
    doses = (arms.assign(d=arms["intervention"] + ": " + arms["dose_text"].fillna("NA"))
             .groupby("study_id")["d"].apply("; ".join))
    studies = studies.assign(doses=studies["study_id"].map(doses))
    render.table(studies, name, "Characteristics of studies (design, blinding, size, population, duration, doses)",
                 {"label": "Study", "comparison": "Comparison", "evidence_type": "Evidence", "design": "Design",
                  "randomised": "Randomised", "blinding": "Blinding", "n_total": "n", "population": "Population",
                  "duration_weeks": "Weeks", "doses": "Doses", "inclusion": "Used?", "source_key": "Source"},
                 cite_cols=("source_key",), max_rows=MAX_TABLE_ROWS, source="data/studies.csv")


def claims_table(chapter: str, name: str):
    claims = datapkg.load("claims")
    claims = claims[claims["chapter"] == chapter].copy()
    claims["status"] = claims["status"].map(_status_text)
    render.table(claims, name, f"Statements of the source guide checked in this chapter",
                 {"claim_id": "Claim", "source_text": "The guide says", "guide_refs": "Guide refs",
                  "status": "Status", "checked_against": "Checked against", "note": "Note"},
                 cite_cols=("checked_against",))


def protocol_table(protocol_id: str, name: str, caption: str):
    prot = datapkg.load("protocols")
    prot = prot[prot["protocol_id"] == protocol_id].sort_values("item_order")
    claims = datapkg.load("claims").set_index("claim_id")
    prot = prot.assign(status=prot["claim_id"].map(lambda c: _status_text(claims.loc[c, "status"])))
    render.table(prot, name, caption, {"item": "Item", "source_says": "The guide says",
                                       "evidence_says": "The checked record says", "status": "Status"})


def scales_table(name: str = "tbl-scales"):
    render.table(datapkg.load("scales"), name, "Outcome scales used by the studies",
                 {"name": "Scale", "measures": "Measures", "range_text": "Range", "better": "Better is",
                  "source_key": "Source"}, cite_cols=("source_key",))


def adverse_effects_table(name: str = "tbl-adverse-effects"):
    ae = datapkg.load("adverse_effects").copy()
    ae["verification"] = ae["verification"].map(_status_text)
    render.table(ae, name, "Adverse effects and warnings per drug, with frequencies where known",
                 {"drug_id": "Drug", "effect": "Effect or warning", "frequency_text": "Frequency",
                  "context": "Context", "verification": "Status", "source_key": "Source"}, cite_cols=("source_key",))


def conclusions_table(name: str = "tbl-conclusions"):
    claims = datapkg.load("claims")
    links = datapkg.load("conclusion_evidence")
    studies = datapkg.load("studies").set_index("study_id")
    rows = []
    for _, c in claims[claims["chapter"] == "conclusions"].iterrows():
        ev = links[links["claim_id"] == c["claim_id"]]
        rows.append({"claim_id": c["claim_id"], "source_text": c["source_text"],
                     "evidence": "; ".join(f"{studies.loc[s, 'label']} ({r})" for s, r in zip(ev["study_id"], ev["role"]))
                     or "NA",
                     "status": _status_text(c["status"]), "checked_against": c["checked_against"]})
    import pandas as pd

    render.table(pd.DataFrame(rows), name, "Each conclusion of the source guide with the evidence rows it rests on",
                 {"claim_id": "Claim", "source_text": "The guide concludes", "evidence": "Evidence rows",
                  "status": "Status", "checked_against": "Checked against"}, cite_cols=("checked_against",))


def guide_references_table(name: str = "tbl-guide-references"):
    refs = datapkg.load("guide_references").copy()
    refs["status"] = refs["status"].map(_status_text)
    render.table(refs, name, "The source guide's 20 references and the work each identifies",
                 {"ref_no": "No.", "as_cited": "As cited by the guide", "identifies_work": "Identifies a work?",
                  "status": "Status", "source_key": "Entry", "note": "Note"}, cite_cols=("source_key",))


# --- figures -------------------------------------------------------------------------------------------------

def pathway_figure(drug_id: str):
    """The pathway of one drug as a diagram image; unverified edges are dashed and labelled."""
    steps = datapkg.load("pathway_steps")
    steps = steps[steps["drug_id"] == drug_id].sort_values("step")
    if steps.empty:
        raise datapkg.DataError([datapkg.Problem("data/pathway_steps.csv", None, "drug_id", "no-rows",
                                                 f"no pathway steps for '{drug_id}'")])
    nodes, edges = {}, []
    for _, r in steps.iterrows():
        nodes.setdefault(r["from_node"], r["from_kind"])
        nodes.setdefault(r["to_node"], r["to_kind"])
        label = r["relation"] + ("" if r["verification"] == "verified" else f"\n({r['verification']})")
        edges.append((r["from_node"], r["to_node"], label))
    return figures.flow_diagram([(n, n, k) for n, k in nodes.items()], edges)


def workflow_figure():
    steps = datapkg.load("workflow_steps").sort_values("step")
    nodes = {r["node"]: r["kind"] for _, r in steps.iterrows()}
    edges = [(r["node"], r["next_node"], r["edge_label"] if isinstance(r["edge_label"], str) else "")
             for _, r in steps.iterrows() if isinstance(r["next_node"], str)]
    for _, r in steps.iterrows():
        if isinstance(r["next_node"], str):
            nodes.setdefault(r["next_node"], "step")
    return figures.flow_diagram([(n, n, k) for n, k in nodes.items()], edges)


def adverse_effects_figure():
    """Bar chart: adverse-effect statements per drug, split by whether a frequency is known."""
    figures.use_style()
    import matplotlib.pyplot as plt

    ae = datapkg.load("adverse_effects")
    drugs = datapkg.load("drugs")["drug_id"].tolist()
    known = ae["frequency_pct_max"].notna()
    with_freq = [int((known & (ae["drug_id"] == d)).sum()) for d in drugs]
    without = [int((~known & (ae["drug_id"] == d)).sum()) for d in drugs]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(drugs, with_freq, color=figures.PALETTE[0], label="frequency known")
    ax.barh(drugs, without, left=with_freq, color=figures.PALETTE[1], hatch="//", label="frequency NA")
    for i, (a, b) in enumerate(zip(with_freq, without)):
        ax.text(a + b + 0.05, i, f"{a + b}", va="center")
    ax.set_xlabel("adverse-effect statements in data/adverse_effects.csv")
    ax.invert_yaxis()
    ax.legend(frameon=False, loc="lower right")
    return figures.png(fig)


def claim_status_figure():
    """Stacked bars: claims of the guide by verification status per chapter."""
    figures.use_style()
    import matplotlib.pyplot as plt

    claims = datapkg.load("claims")
    chapters = list(dict.fromkeys(claims["chapter"]))
    fig, ax = plt.subplots(figsize=(7, 3.4))
    left = [0] * len(chapters)
    hatches = ["", "..", "xx", "//", "--"]
    for status, colour, hatch in zip(STATUSES, figures.PALETTE, hatches):
        vals = [int(((claims["chapter"] == c) & (claims["status"] == status)).sum()) for c in chapters]
        ax.barh(chapters, vals, left=left, color=colour, hatch=hatch, edgecolor="white",
                label=f"{STATUS_ICON[status]} {status}")
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel("statements of the source guide")
    ax.invert_yaxis()
    ax.legend(frameon=False, fontsize=9, loc="center left", bbox_to_anchor=(1, 0.5))
    return figures.png(fig)


def adverse_effect_numbers() -> dict:
    ae = datapkg.load("adverse_effects")
    bac = ae[(ae["drug_id"] == "baclofen") & ae["frequency_pct_max"].notna()]
    return {"ae_total": len(ae), "ae_with_frequency": int(ae["frequency_pct_max"].notna().sum()),
            "bac_drowsy_min": int(bac["frequency_pct_min"].min()), "bac_drowsy_max": int(bac["frequency_pct_max"].max())}


def reference_numbers() -> dict:
    from relaxbook import bib

    refs = datapkg.load("guide_references")
    return {"bib_total": len(bib.keys()), "guide_works": int(refs.loc[refs["identifies_work"] != "no", "source_key"].nunique()),
            "guide_no_work": int((refs["identifies_work"] == "no").sum())}
