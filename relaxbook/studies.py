"""Studies: characteristics, findings, protocols, design features, risk of bias, and the flow of sources."""

from __future__ import annotations

from collections import Counter

from relaxbook import figures, render
from relaxbook.data import datapkg


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


FREQUENCY = {  # dosing abbreviations as a reader says them
    r"\bb\.i\.d\.|\bBID\b": "twice daily",
    r"\bt\.i\.d\.|\bTID\b": "three times daily",
    r"\bq\.i\.d\.|\bQID\b": "four times daily",
}


def arm_label(intervention, dose_text) -> str:
    """An arm as a reader names it, from its drug and dose (never its id): "Baclofen 5 mg three times daily";
    the intervention alone when it already states that dose or there is none."""
    import re

    text = str(intervention)
    dose = "NA" if not isinstance(dose_text, str) else "" if dose_text == "not applicable" else dose_text
    if dose.startswith("NA"):  # unknown stays NA
        dose = "(dose NA)"
    amount = re.search(r"\d+(\.\d+)? ?mg", dose)
    if dose and not (amount and re.search(r"\b" + re.escape(amount.group()), text)):  # not said already
        text = f"{text}{': ' if ' plus ' in text else ' '}{dose}"
    for pattern, words in FREQUENCY.items():
        text = re.sub(pattern, words, text)
    return text[:1].upper() + text[1:]


def arm_labels():
    """arm_id -> :func:`arm_label` of every arm in arms.csv."""
    arms = datapkg.load("arms")
    return dict(zip(arms["arm_id"], map(arm_label, arms["intervention"], arms["dose_text"]), strict=True))


def characteristics_table(name: str = "tbl-characteristics"):
    studies = datapkg.load("studies")
    arms = datapkg.load("arms")
    doses = (
        arms.assign(d=[arm_label(i, d) for i, d in zip(arms["intervention"], arms["dose_text"], strict=True)])
        .groupby("study_id")["d"]
        .apply("; ".join)
    )
    studies = studies.assign(doses=studies["study_id"].map(doses))
    render.table(
        studies,
        name,
        "Characteristics of studies (design, blinding, size, population, duration, doses)",
        {
            "label": "Study",
            "comparison": "Comparison",
            "evidence_type": "Evidence",
            "design": "Design",
            "randomised": "Randomised",
            "blinding": "Blinding",
            "n_total": "n",
            "population": "Population",
            "duration_weeks": "Weeks",
            "doses": "Doses",
            "inclusion": "Used?",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
        max_rows=render.LIST_ROWS,
        source="data/studies.csv",
    )


def short_reason(reason) -> str:
    """The head of an exclusion reason: 'retracted' from 'retracted (Saudi Pharm J 2020...): ...', NA kept."""
    return str(reason).split(":")[0].split(" (")[0] if isinstance(reason, str) else "NA"


def findings_table(name: str = "tbl-findings"):
    """What each study reported (``data/findings.csv``), as reported, with the study's evidence type and whether
    the book uses it: the findings of excluded studies (retracted, duplicate, not found) are shown for the record
    and marked as not used."""
    findings = datapkg.load("findings")
    studies = datapkg.load("studies").set_index("study_id")
    used = studies["inclusion"].where(
        studies["inclusion"] != "excluded", "excluded: " + studies["exclusion_reason"].map(short_reason)
    )
    findings = findings.assign(
        study=findings["study_id"].map(studies["label"]),
        evidence=findings["study_id"].map(studies["evidence_type"]),
        used=findings["study_id"].map(used),
    )
    render.table(
        findings,
        name,
        "Findings reported by each study, as reported, with their verification status",
        {
            "study": "Study",
            "evidence": "Evidence",
            "outcome": "Outcome",
            "result": "Result as reported",
            "favours": "Favours",
            "verification": "Status",
            "used": "Used?",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
        max_rows=render.LIST_ROWS,
        source="data/findings.csv",
    )


def protocol_table(protocol_id: str, name: str, caption: str):
    prot = datapkg.load("protocols")
    prot = prot[prot["protocol_id"] == protocol_id].sort_values("item_order")
    prot = prot.assign(status=prot["claim_id"].map(render.claim))
    render.table(
        prot,
        name,
        caption,
        {
            "item": "Item",
            "source_says": "The guide says",
            "evidence_says": "The checked record says",
            "status": "Status",
        },
        myst_cols=("status",),
    )


def scales_table(name: str = "tbl-scales"):
    render.table(
        datapkg.load("scales"),
        name,
        "Outcome scales used by the studies",
        {"name": "Scale", "measures": "Measures", "range_text": "Range", "better": "Better is", "source_key": "Source"},
        cite_cols=("source_key",),
    )


def workflow_figure():
    steps = datapkg.load("workflow_steps").sort_values("step")
    nodes = {r["node"]: r["kind"] for _, r in steps.iterrows()}
    edges = [
        (r["node"], r["next_node"], r["edge_label"] if isinstance(r["edge_label"], str) else "")
        for _, r in steps.iterrows()
        if isinstance(r["next_node"], str)
    ]
    for _, r in steps.iterrows():
        if isinstance(r["next_node"], str):
            nodes.setdefault(r["next_node"], "step")
    return figures.flow_diagram([(n, n, k) for n, k in nodes.items()], edges)


def design_table(name: str = "tbl-design"):
    """Design features of each study: randomised, blinded, concealment, registration, timing, size, sponsor."""
    studies = datapkg.load("studies")
    quality = datapkg.load("study_quality").set_index("study_id")
    studies = studies[studies["study_id"].isin(quality.index)].copy()
    for col in ("allocation_concealment", "registration", "timing", "sponsor"):
        studies[col] = studies["study_id"].map(quality[col])
    render.table(
        studies,
        name,
        "Design features of each primary study (NA where the record does not say)",
        {
            "label": "Study",
            "randomised": "Randomised",
            "blinding": "Blinding",
            "allocation_concealment": "Allocation concealment",
            "registration": "Registered",
            "timing": "Prospective or retrospective",
            "n_total": "n",
            "sponsor": "Sponsor",
            "inclusion": "Used?",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
    )


ROB_STYLE = {
    "low": ("+", "#009E73"),
    "some concerns": ("!", "#E69F00"),
    "high": ("−", "#D55E00"),
    "not assessable": ("?", "#BBBBBB"),
}


def rob_figure():
    """Traffic-light plot of RoB 2 judgements: symbol and colour per cell, study x domain."""
    figures.use_style()
    import matplotlib.pyplot as plt
    import pandas as pd

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
        ax.scatter(*zip(*xy, strict=True), s=330, color=colour, edgecolors="#333333", linewidths=0.6)
    ax.set_xticks(range(len(domains)), [d.split(" ", 1)[0] if d != "overall" else "Overall" for d in domains])
    ax.set_yticks(range(len(studies)), [labels[s] for s in studies])
    ax.invert_yaxis()
    ax.set_xlim(-0.6, len(domains) - 0.4)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    handles = [
        plt.Line2D(
            [], [], marker="o", linestyle="", markersize=11, color=c, markeredgecolor="#333333", label=f"{sym}  {j}"
        )
        for j, (sym, c) in ROB_STYLE.items()
    ]
    ax.legend(handles=handles, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4, fontsize=9)
    cells = [{"study": labels[s], "domain": d, "judgement": judged[(s, d)]} for s in studies for d in domains]
    return figures.svg(fig, pd.DataFrame(cells))


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


def source_flow_figure():
    """PRISMA-like flow: references in the source -> works identified -> checked -> studies included/excluded."""
    c = flow_counts()
    studies = datapkg.load("studies")
    reasons = "\n".join(
        f"{r['label']}: {short_reason(r['exclusion_reason'])}"
        for _, r in studies[studies["inclusion"] == "excluded"].iterrows()
    )
    nodes = [
        ("refs", f"References in the source guide\nn = {c['flow_refs']}", "step"),
        ("dup", f"Same work cited twice\nn = {c['flow_duplicates']}", "excluded"),
        ("nowork", f"Site names identifying no work\nn = {c['flow_no_work']}", "excluded"),
        ("works", f"Distinct works identified\nn = {c['flow_works']}", "step"),
        (
            "checked",
            f"Checked against primary records\nverified {c['flow_verified']} · partly {c['flow_partly']}"
            f" · not found {c['flow_not_found']}",
            "process",
        ),
        ("added", f"Studies added by this book\nn = {c['flow_added']}", "step"),
        ("inc", f"Studies included as evidence\nn = {c['flow_included']}", "effect"),
        ("exc", f"Studies excluded\nn = {c['flow_excluded']}\n{reasons}", "excluded"),
    ]
    edges = [
        ("refs", "dup", ""),
        ("refs", "nowork", ""),
        ("refs", "works", ""),
        ("works", "checked", ""),
        ("checked", "inc", ""),
        ("added", "inc", ""),
        ("checked", "exc", ""),
    ]
    return figures.flow_diagram(nodes, edges)


def excluded_table(name: str = "tbl-excluded"):
    """Excluded studies with the reason and, for retracted work, the retraction notice."""
    studies = datapkg.load("studies")
    rows = studies[studies["inclusion"] == "excluded"]
    render.table(
        rows,
        name,
        "Excluded and retracted studies (never used as support)",
        {
            "label": "Study",
            "comparison": "Comparison",
            "guide_refs": "Guide refs",
            "exclusion_reason": "Reason",
            "source_key": "Work",
            "notice_key": "Retraction notice",
        },
        cite_cols=("source_key", "notice_key"),
        max_rows=render.LIST_ROWS,
        source="data/studies.csv",
    )


def clinical_key_points():
    """The opening of the clinical chapter (numbers glued by :func:`study_numbers`, ``claims.chapter_numbers``
    and ``certainty.comparison_numbers``)."""
    g = render.glued
    return render.key_points(
        [
            f"**Head to head.** Only {g('n_direct')} included studies compare two of the book's drugs directly; "
            f"{g('n_indirect')} compare baclofen with tolperisone, a relative of lanperisone.",
            f"**Lanperisone in people.** {g('lanperisone_clinical_studies')} studies compare it with baclofen or "
            f"diazepam; the guide's trial of {g('guide_trial_n')} patients cannot be found.",
            f"**The evidence base.** {g('n_studies')} studies: {g('n_included')} used as evidence and "
            f"{g('n_excluded')} excluded (retracted, or not found).",
            render.status_point("clin"),
        ]
    )


def protocol_numbers() -> dict[str, int]:
    protocols = datapkg.load("protocols")
    return {"prot_protocols": int(protocols["protocol_id"].nunique()), "prot_items": len(protocols)}


def protocols_key_points():
    """The opening of the protocols chapter (numbers glued by :func:`protocol_numbers` and
    ``claims.chapter_numbers("protocols", "prot")``; excluded studies and scale names from the data)."""
    g = render.glued
    protocols = datapkg.load("protocols")
    studies = datapkg.load("studies").set_index("study_id")
    used = studies.loc[protocols["study_id"].unique()]
    excluded = used[used["inclusion"] == "excluded"]
    scales = datapkg.load("scales")
    points = [
        f"**Protocols.** The guide's {g('prot_protocols')} protocols are rebuilt item by item ({g('prot_items')} "
        "items), each beside what the study's own record says.",
        render.status_point("prot"),
        "**Outcome scales.** " + "; ".join(render.escape(n) for n in scales["name"]) + ".",
    ]
    if len(excluded):
        points.insert(
            2,
            "**Not evidence.** "
            + "; ".join(
                f"{render.escape(label)}: {render.escape(short_reason(reason))}"
                for label, reason in zip(excluded["label"], excluded["exclusion_reason"], strict=True)
            )
            + ", so its protocol is shown for the record only.",
        )
    return render.key_points(points)
