"""What chapters call: one short function per table, figure or number, computed from ``data/``.

Chapters stay prose plus short calls; the logic lives here once, with unit tests in ``tests/``.
"""
from __future__ import annotations

from collections import Counter

from relaxbook import datapkg, figures, render

STATUSES = ["verified", "partly verified", "unsupported", "contradicted", "not found"]
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
    _sourced_table(mech[mech["basis"] == "as the checked evidence states it"], "verification", name,
                   "Mechanisms of action as the checked evidence states them",
                   {"drug_id": "Drug", "target": "Target", "site": "Site", "action": "Action",
                    "effect": "Effect", "verification": "Status", "source_key": "Source"})


def guide_table(number: int, name: str, caption: str):
    """The guide's Table ``number`` rebuilt verbatim from ``guide_tables.csv`` plus a status column."""
    cells = datapkg.load("guide_tables")
    cells = cells[cells["table_no"] == number]
    headers = cells.sort_values("col_no").drop_duplicates("col_no")["column"].tolist()
    rows = []
    for _, grp in cells.groupby("row_no", sort=True):
        grp = grp.sort_values("col_no")
        row = dict(zip(headers, grp["text"]))
        row["Status (this book)"] = " ".join(render.claim(c) for c in dict.fromkeys(grp["claim_id"]))
        rows.append(row)
    import pandas as pd

    render.table(pd.DataFrame(rows), name, caption, myst_cols=("Status (this book)",))


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
                 cite_cols=("source_key",), max_rows=render.LIST_ROWS, source="data/studies.csv")


def short_reason(reason) -> str:
    """The head of an exclusion reason: 'retracted' from 'retracted (Saudi Pharm J 2020...): ...', NA kept."""
    return str(reason).split(":")[0].split(" (")[0] if isinstance(reason, str) else "NA"


def findings_table(name: str = "tbl-findings"):
    """What each study reported (``data/findings.csv``), as reported, with the study's evidence type and whether
    the book uses it: the findings of excluded studies (retracted, duplicate, not found) are shown for the record
    and marked as not used."""
    findings = datapkg.load("findings")
    studies = datapkg.load("studies").set_index("study_id")
    used = studies["inclusion"].where(studies["inclusion"] != "excluded",
                                      "excluded: " + studies["exclusion_reason"].map(short_reason))
    findings = findings.assign(study=findings["study_id"].map(studies["label"]),
                               evidence=findings["study_id"].map(studies["evidence_type"]),
                               used=findings["study_id"].map(used))
    render.table(findings, name, "Findings reported by each study, as reported, with their verification status",
                 {"study": "Study", "evidence": "Evidence", "outcome": "Outcome", "result": "Result as reported",
                  "favours": "Favours", "verification": "Status", "used": "Used?", "source_key": "Source"},
                 cite_cols=("source_key",), max_rows=render.LIST_ROWS, source="data/findings.csv")


def claims_table(chapter: str, name: str):
    claims = datapkg.load("claims")
    claims = claims[claims["chapter"] == chapter].copy()
    claims["anchor"] = claims["claim_id"].map(render.claim_anchor)
    claims["badge"] = claims["claim_id"].map(render.claim)
    render.table(claims, name, "Statements of the source guide checked in this chapter",
                 {"anchor": "Claim", "source_text": "The guide says", "guide_refs": "Guide refs",
                  "badge": "Status", "evidence_says": "The evidence says", "checked_against": "Checked against",
                  "date_checked": "Checked on"},
                 cite_cols=("checked_against",), myst_cols=("anchor", "badge"))


def protocol_table(protocol_id: str, name: str, caption: str):
    prot = datapkg.load("protocols")
    prot = prot[prot["protocol_id"] == protocol_id].sort_values("item_order")
    prot = prot.assign(status=prot["claim_id"].map(render.claim))
    render.table(prot, name, caption, {"item": "Item", "source_says": "The guide says",
                                       "evidence_says": "The checked record says", "status": "Status"},
                 myst_cols=("status",))


def scales_table(name: str = "tbl-scales"):
    render.table(datapkg.load("scales"), name, "Outcome scales used by the studies",
                 {"name": "Scale", "measures": "Measures", "range_text": "Range", "better": "Better is",
                  "source_key": "Source"}, cite_cols=("source_key",))


def _sourced_table(df, status_col, name, caption, columns):
    """A table whose ``status_col`` shows a verification status (icon + text) and whose source_key is cited."""
    df = df.copy()
    df[status_col] = df[status_col].map(_status_text)
    render.table(df, name, caption, columns, cite_cols=("source_key",))


def adverse_effects_table(name: str = "tbl-adverse-effects"):
    _sourced_table(datapkg.load("adverse_effects"), "verification", name,
                   "Adverse effects and warnings per drug, with frequencies where known",
                   {"drug_id": "Drug", "effect": "Effect or warning", "frequency_text": "Frequency",
                    "context": "Context", "verification": "Status", "source_key": "Source"})


def conclusions_table(name: str = "tbl-conclusions"):
    """Each conclusion of the guide (its wording, status) beside what the evidence supports and its certainty."""
    import pandas as pd

    claims = datapkg.load("claims").set_index("claim_id")
    concl = datapkg.load("conclusions")
    links = datapkg.load("conclusion_evidence")
    studies = datapkg.load("studies").set_index("study_id")
    grades = {r["comparison_id"]: r for r in certainty_rows()}
    rows = []
    for _, c in concl.iterrows():
        ev = links[links["claim_id"] == c["claim_id"]]
        grade = grades.get(c["comparison_id"]) if isinstance(c["comparison_id"], str) else None
        rows.append({"anchor": render.claim_anchor(c["claim_id"]),
                     "guide": claims.loc[c["claim_id"], "source_text"],
                     "badge": render.claim(c["claim_id"]),
                     "book": c["book_statement"],
                     "certainty": grade["certainty_text"] if grade else "not graded (animal data only)",
                     "evidence": "; ".join(f"{studies.loc[s, 'label']} ({r})" for s, r in zip(ev["study_id"], ev["role"])),
                     "source_key": c["source_key"]})
    render.table(pd.DataFrame(rows), name,
                 "The guide's conclusions (its wording and status) beside what the verified evidence supports",
                 {"anchor": "Claim", "guide": "The guide concludes", "badge": "Status",
                  "book": "What the evidence supports", "certainty": "Certainty", "evidence": "Evidence rows",
                  "source_key": "Sources"}, cite_cols=("source_key",), myst_cols=("anchor", "badge"))


def guide_references_table(name: str = "tbl-guide-references"):
    _sourced_table(datapkg.load("guide_references"), "status", name,
                   "The source guide's 20 references and the work each identifies",
                   {"ref_no": "No.", "as_cited": "As cited by the guide", "identifies_work": "Identifies a work?",
                    "status": "Status", "source_key": "Entry", "note": "Note"})


# --- figures -------------------------------------------------------------------------------------------------

@figures.kept(style=False)
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


@figures.kept(style=False)
def workflow_figure():
    steps = datapkg.load("workflow_steps").sort_values("step")
    nodes = {r["node"]: r["kind"] for _, r in steps.iterrows()}
    edges = [(r["node"], r["next_node"], r["edge_label"] if isinstance(r["edge_label"], str) else "")
             for _, r in steps.iterrows() if isinstance(r["next_node"], str)]
    for _, r in steps.iterrows():
        if isinstance(r["next_node"], str):
            nodes.setdefault(r["next_node"], "step")
    return figures.flow_diagram([(n, n, k) for n, k in nodes.items()], edges)


@figures.kept()
def adverse_effects_figure():
    """Bar chart: adverse-effect statements per drug, split by whether a frequency is known."""
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


@figures.kept()
def claim_status_figure():
    """Stacked bars: claims of the guide by verification status per chapter."""
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


# --- the evidence audit ----------------------------------------------------------------------------------------

LEVELS = {4: "high", 3: "moderate", 2: "low", 1: "very low"}
START = {"high": 4, "low": 2}
DOMAINS = ["risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"]


def certainty_rows() -> list[dict]:
    """GRADE-style certainty per comparison: start level plus downgrades (floor: very low); NA when no studies."""
    rows = []
    for r in datapkg.load("certainty").to_dict("records"):
        start = r["start_level"]
        if not isinstance(start, str):
            r.update(level=None, certainty_text="no evidence (no studies)")
        else:
            level = max(1, START[start] + sum(int(r[d]) for d in DOMAINS))
            r.update(level=LEVELS[level], certainty_text="⊕" * level + "◯" * (4 - level) + " " + LEVELS[level])
        rows.append(r)
    return rows


def sof_table(name: str = "tbl-sof"):
    """Summary of findings: per comparison and outcome, studies, participants, certainty and each downgrade."""
    import pandas as pd

    studies = datapkg.load("studies").set_index("study_id")
    out = []
    for r in certainty_rows():
        ids = r["study_ids"].split(";") if isinstance(r["study_ids"], str) else []
        n = [studies.loc[i, "n_total"] for i in ids]
        known = [int(x) for x in n if not _isna(x)]
        downs = [f"{d.replace('_', ' ')} {int(r[d])}: {r[d + '_reason']}" for d in DOMAINS if int(r[d]) < 0]
        out.append({"comparison": r["comparison"], "outcome": r["outcome"],
                    "studies": "; ".join(studies.loc[i, "label"] for i in ids) or "none",
                    "n": (f"{sum(known)}" + (f" (+{len(n) - len(known)} study NA)" if len(known) < len(n) else ""))
                    if ids else "NA",
                    "start": r["start_level"], "downgrades": "; ".join(downs) or "none",
                    "certainty": r["certainty_text"]})
    render.table(pd.DataFrame(out), name, "Summary of findings with GRADE-style certainty per comparison",
                 {"comparison": "Comparison", "outcome": "Outcome", "studies": "Studies", "n": "Participants",
                  "start": "Start", "downgrades": "Downgrades (reason)", "certainty": "Certainty"})


def _isna(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def design_table(name: str = "tbl-design"):
    """Design features of each study: randomised, blinded, concealment, registration, timing, size, sponsor."""
    studies = datapkg.load("studies")
    quality = datapkg.load("study_quality").set_index("study_id")
    studies = studies[studies["study_id"].isin(quality.index)].copy()
    for col in ("allocation_concealment", "registration", "timing", "sponsor"):
        studies[col] = studies["study_id"].map(quality[col])
    render.table(studies, name, "Design features of each primary study (NA where the record does not say)",
                 {"label": "Study", "randomised": "Randomised", "blinding": "Blinding",
                  "allocation_concealment": "Allocation concealment", "registration": "Registered",
                  "timing": "Prospective or retrospective", "n_total": "n", "sponsor": "Sponsor",
                  "inclusion": "Used?", "source_key": "Source"}, cite_cols=("source_key",))


ROB_STYLE = {"low": ("+", "#009E73"), "some concerns": ("!", "#E69F00"), "high": ("−", "#D55E00"),
             "not assessable": ("?", "#BBBBBB")}


@figures.kept()
def rob_figure():
    """Traffic-light plot of RoB 2 judgements: symbol and colour per cell, study x domain."""
    import matplotlib.pyplot as plt

    rob = datapkg.load("risk_of_bias")
    labels = datapkg.load("studies").set_index("study_id")["label"]
    studies = list(dict.fromkeys(rob["study_id"]))
    domains = list(dict.fromkeys(rob["domain"]))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(studies) + 1.6))
    judged: dict[tuple, str] = {}
    for row in rob.itertuples(index=False):
        judged.setdefault((row.study_id, row.domain), row.judgement)  # the first judgement of a cell, as listed
    cells: dict[str, list[tuple[int, int]]] = {}  # colour -> the cells drawn in it: one scatter per colour
    for i, s in enumerate(studies):
        for j, d in enumerate(domains):
            sym, colour = ROB_STYLE[judged[(s, d)]]
            cells.setdefault(colour, []).append((j, i))
            ax.text(j, i, sym, ha="center", va="center", fontsize=11, fontweight="bold", color="#111111")
    for colour, xy in cells.items():
        ax.scatter(*zip(*xy), s=330, color=colour, edgecolors="#333333", linewidths=0.6)
    ax.set_xticks(range(len(domains)), [d.split(" ", 1)[0] if d != "overall" else "Overall" for d in domains])
    ax.set_yticks(range(len(studies)), [labels[s] for s in studies])
    ax.invert_yaxis()
    ax.set_xlim(-0.6, len(domains) - 0.4)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    handles = [plt.Line2D([], [], marker="o", linestyle="", markersize=11, color=c, markeredgecolor="#333333",
                          label=f"{sym}  {j}") for j, (sym, c) in ROB_STYLE.items()]
    ax.legend(handles=handles, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, fontsize=9)
    return figures.png(fig)


def flow_counts() -> dict[str, int]:
    """Counts for the source-flow figure, all from data."""
    refs = datapkg.load("guide_references")
    studies = datapkg.load("studies")
    works = refs.drop_duplicates("source_key")
    identified = works[works["identifies_work"] != "no"]
    status = Counter(identified["status"])
    added = studies[studies["guide_refs"] == "none"]
    return {
        "flow_refs": len(refs),
        "flow_duplicates": len(refs) - len(works),
        "flow_no_work": int((works["identifies_work"] == "no").sum()),
        "flow_works": len(identified),
        "flow_verified": int(status.get("verified", 0)),
        "flow_partly": int(status.get("partly verified", 0)),
        "flow_not_found": int(status.get("not found", 0)),
        "flow_added": len(added),
        "flow_included": int((studies["inclusion"] == "included").sum()),
        "flow_excluded": int((studies["inclusion"] == "excluded").sum()),
    }


@figures.kept(style=False)
def source_flow_figure():
    """PRISMA-like flow: references in the source -> works identified -> checked -> studies included/excluded."""
    c = flow_counts()
    studies = datapkg.load("studies")
    reasons = "\n".join(f"{r['label']}: {short_reason(r['exclusion_reason'])}"
                        for _, r in studies[studies["inclusion"] == "excluded"].iterrows())
    nodes = [
        ("refs", f"References in the source guide\nn = {c['flow_refs']}", "step"),
        ("dup", f"Same work cited twice\nn = {c['flow_duplicates']}", "excluded"),
        ("nowork", f"Site names identifying no work\nn = {c['flow_no_work']}", "excluded"),
        ("works", f"Distinct works identified\nn = {c['flow_works']}", "step"),
        ("checked", f"Checked against primary records\nverified {c['flow_verified']} · partly {c['flow_partly']}"
                    f" · not found {c['flow_not_found']}", "process"),
        ("added", f"Studies added by this book\nn = {c['flow_added']}", "step"),
        ("inc", f"Studies included as evidence\nn = {c['flow_included']}", "effect"),
        ("exc", f"Studies excluded\nn = {c['flow_excluded']}\n{reasons}", "excluded"),
    ]
    edges = [("refs", "dup", ""), ("refs", "nowork", ""), ("refs", "works", ""), ("works", "checked", ""),
             ("checked", "inc", ""), ("added", "inc", ""), ("checked", "exc", "")]
    return figures.flow_diagram(nodes, edges)


def _claims_with_status(statuses, name, caption, evidence_header):
    claims = datapkg.load("claims")
    rows = claims[claims["status"].isin(statuses)].copy()
    rows["anchor"] = rows["claim_id"].map(render.claim_anchor)
    rows["badge"] = rows["claim_id"].map(render.claim)
    render.table(rows, name, caption,
                 {"anchor": "Claim", "chapter": "Chapter", "source_text": "The source says",
                  "evidence_says": evidence_header, "badge": "Status", "checked_against": "Checked against"},
                 cite_cols=("checked_against",), myst_cols=("anchor", "badge"))


def corrections_table(name: str = "tbl-corrections"):
    """Every claim whose status is 'contradicted': the source says / the evidence says / source."""
    _claims_with_status(["contradicted"], name, "Corrections to the source: claims contradicted by the evidence",
                        "The evidence says")


def problems_table(name: str = "tbl-problems"):
    """Claims that are unsupported or could not be found (not contradicted, but not to be relied on)."""
    _claims_with_status(["unsupported", "not found"], name,
                        "Claims of the source that are unsupported or whose source could not be found", "What we found")


def excluded_table(name: str = "tbl-excluded"):
    """Excluded studies with the reason and, for retracted work, the retraction notice."""
    studies = datapkg.load("studies")
    rows = studies[studies["inclusion"] == "excluded"]
    render.table(rows, name, "Excluded and retracted studies (never used as support)",
                 {"label": "Study", "comparison": "Comparison", "guide_refs": "Guide refs",
                  "exclusion_reason": "Reason", "source_key": "Work", "notice_key": "Retraction notice"},
                 cite_cols=("source_key", "notice_key"), max_rows=render.LIST_ROWS, source="data/studies.csv")


def duplicate_citations_table(name: str = "tbl-duplicate-citations"):
    """Guide reference numbers that point to one and the same work (or to the same bare site name)."""
    import pandas as pd

    refs = datapkg.load("guide_references")
    groups = refs.groupby("source_key", sort=False)["ref_no"].apply(list)
    rows = [{"refs": ", ".join(f"[{n}]" for n in nos), "source_key": key, "count": len(nos)}
            for key, nos in groups.items() if len(nos) > 1]
    render.table(pd.DataFrame(rows), name, "The source's reference numbers that cite one work more than once",
                 {"refs": "Guide references", "count": "Times cited", "source_key": "One entry"},
                 cite_cols=("source_key",))


def audit_numbers() -> dict[str, int]:
    counts = claim_counts()
    refs = datapkg.load("guide_references")
    from relaxbook import bib

    entries = bib.entries()
    keys = refs["source_key"].unique()
    with_id = sum(1 for k in keys if "doi" in entries[k].fields or "pmid" in entries[k].fields)
    return {**{f"audit_{k.replace(' ', '_')}": v for k, v in counts.items()},
            "audit_total": sum(counts.values()), "audit_refs_with_id": with_id, "audit_ref_works": len(keys),
            **flow_counts()}
