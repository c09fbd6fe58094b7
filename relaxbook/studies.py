"""Studies: characteristics, findings, protocols, design features, risk of bias, and the flow of sources."""

from __future__ import annotations

import textwrap
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


# RoB 2 judgements: the fill of a cell (light, so the judgement written in it stays readable) and the word written.
ROB_STYLE = {
    "low": ("#bfe6d3", "low"),
    "some concerns": ("#fbe1a6", "some\nconcerns"),
    "high": ("#f4b48f", "high"),
    "not assessable": ("#ececec", "not\nassessable"),
}


def rob_domain_name(domain: str) -> str:
    """A RoB 2 domain of the data in words: "D1 randomisation process" -> "Randomisation process"."""
    import re

    words = re.sub(r"^D\d+\s+", "", str(domain).strip())
    return words[:1].upper() + words[1:]


def short_label(label: str) -> str:
    """A study as "First author year" from its label in studies.csv ("Roussan et al. 1985 (as the guide names it)" ->
    "Roussan 1985"; "Garg and Yadav (year not shown)" -> "Garg, year NA"). A label that names no author keeps its
    words up to the first comma or parenthesis, with the year ("Baclofen vs diazepam trial, 1974" -> "Baclofen vs
    diazepam trial 1974")."""
    import re

    text = str(label)
    year = re.search(r"\b(1[89]\d\d|20\d\d)\b", text)
    when = year.group(1) if year else "year NA"
    author = re.match(
        r"((?:(?:van|von|de|der|den|da) )*[A-Z][\w'\-]+)(?: et al\.?| and [A-Z][\w'\-]+)(?=[\s(,]|$)", text
    )
    if author:
        return f"{author.group(1)} {when}" if year else f"{author.group(1)}, {when}"
    head = re.split(r"[,(]", text, maxsplit=1)[0].strip()
    head = re.sub(r"\s*\b(1[89]\d\d|20\d\d)\b\s*$", "", head)
    return f"{head} {when}" if year else f"{head}, {when}"


def short_labels(labels) -> list[str]:
    """:func:`short_label` of each label, made unique in order ("Friedman 2017a", "Friedman 2017b")."""
    shorts = [short_label(x) for x in labels]
    counts, seen = Counter(shorts), Counter()
    out = []
    for s in shorts:
        if counts[s] > 1:
            out.append(f"{s}{'abcdefghijklmnopqrstuvwxyz'[seen[s]]}")
            seen[s] += 1
        else:
            out.append(s)
    return out


def rob_figure():
    """Risk of bias per study (rows, "First author year") and RoB 2 domain (columns, in words): each cell coloured and
    with its judgement written in it."""
    figures.use_style()

    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.patches import Rectangle

    rob = datapkg.load("risk_of_bias")
    labels = datapkg.load("studies").set_index("study_id")["label"]
    studies = list(dict.fromkeys(rob["study_id"]))
    domains = list(dict.fromkeys(rob["domain"]))
    judged: dict[tuple, str] = {}
    for row in rob.itertuples(index=False):
        judged.setdefault((row.study_id, row.domain), row.judgement)  # the first judgement of a cell, as listed
    short = dict(zip(studies, short_labels(labels[s] for s in studies), strict=True))  # "First author year"
    fig, ax = plt.subplots(figsize=(1.7 + 1.05 * len(domains), 0.42 * len(studies) + 1.3))
    for i, s in enumerate(studies):
        for j, d in enumerate(domains):
            judgement = judged[(s, d)]
            fill, word = ROB_STYLE[judgement]
            overall = d == "overall"
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=fill, edgecolor="white", lw=1.5))
            ax.text(
                j + 0.5,
                i + 0.5,
                word,
                ha="center",
                va="center",
                fontsize=figures.SMALL,
                linespacing=0.95,
                color="#1a1a1a",
                fontweight="bold" if judgement == "high" or overall else "normal",
            )
    if "overall" in domains:
        ax.axvline(domains.index("overall"), color="#1a1a1a", lw=1.2)
    ax.set_xlim(0, len(domains))
    ax.set_ylim(len(studies), 0)
    names = [textwrap.fill(rob_domain_name(d), 13, break_on_hyphens=False) for d in domains]
    ax.set_xticks([j + 0.5 for j in range(len(domains))], names, fontsize=figures.SMALL)
    ax.xaxis.tick_top()
    ax.set_yticks(
        [i + 0.5 for i in range(len(studies))],
        [textwrap.fill(short[s], 26) for s in studies],
        fontsize=10,
    )
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    cells = [
        {"study": short[s], "domain": rob_domain_name(d), "judgement": judged[(s, d)]} for s in studies for d in domains
    ]
    overall = {short[s]: judged[(s, "overall")] for s in studies if (s, "overall") in judged}
    by_judgement = {j: [s for s, v in overall.items() if v == j] for j in ROB_STYLE if j in overall.values()}
    summary = " ".join(f"Overall {j} ({len(names)}): {'; '.join(names)}." for j, names in by_judgement.items())
    return figures.svg(fig, pd.DataFrame(cells, columns=["study", "domain", "judgement"]), summary)


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
        "flow_from_guide": len(studies) - len(added),
        "flow_considered": len(studies),
        "flow_included": int((studies["inclusion"] == "included").sum()),
        "flow_excluded": int((studies["inclusion"] == "excluded").sum()),
    }


def source_flow():
    """The source flow as boxes and how they add up: ``(boxes, splits, merges, links)``. ``boxes``: id -> (label,
    count, kind); ``splits``: (box, [boxes it splits into]), each box the sum of its parts; ``merges``: (box, [boxes
    that flow into it]), each box the sum of its inputs; ``links``: (from, to, label), a relation that is no sum (the
    works the guide cites lead to some of the studies). Every count comes from the data (:func:`flow_counts`)."""
    from relaxbook.data.status import ICONS, STATUSES

    c = flow_counts()
    refs = datapkg.load("guide_references")
    works = refs.drop_duplicates("source_key")
    statuses = Counter(works.loc[works["identifies_work"] != "no", "status"])
    boxes = {
        "refs": ("References in the source guide", c["flow_refs"], "step"),
        "dup": ("Same work\ncited twice", c["flow_duplicates"], "excluded"),
        "nowork": ("Site names\nidentifying no work", c["flow_no_work"], "excluded"),
        "works": ("Distinct works identified,\nchecked against\nprimary records", c["flow_works"], "step"),
        "from_guide": ("Studies the guide's\nreferences lead to", c["flow_from_guide"], "step"),
        "added": ("Studies added\nby this book", c["flow_added"], "step"),
        "considered": ("Studies considered", c["flow_considered"], "step"),
        "inc": ("Studies included as evidence", c["flow_included"], "effect"),
        "exc": ("Studies excluded", c["flow_excluded"], "excluded"),
    }
    checked = []
    for status in [*STATUSES, *sorted(set(statuses) - set(STATUSES))]:  # every status present: the split adds up
        if statuses.get(status):
            mark = f"{ICONS[status]} " if status in ICONS else ""
            boxes[f"status {status}"] = (f"{mark}{status}", statuses[status], "process")
            checked.append(f"status {status}")
    splits = [("refs", ["dup", "nowork", "works"]), ("works", checked), ("considered", ["inc", "exc"])]
    merges = [("considered", ["from_guide", "added"])]
    links = [("works", "from_guide", "some report studies", {"minlen": "2"})]  # below the checks: a narrower figure
    return boxes, splits, merges, links


def source_flow_figure():
    """PRISMA-like flow: references in the source -> works identified -> checked; studies from the guide and added by
    this book -> considered -> included/excluded. Every box equals the sum of the boxes it splits into."""
    boxes, splits, merges, links = source_flow()
    studies = datapkg.load("studies")
    excluded = studies[studies["inclusion"] == "excluded"]
    reasons = "".join(
        "\n" + "\n".join(textwrap.wrap(f"{r['label']}: {short_reason(r['exclusion_reason'])}", 34))
        for _, r in excluded.iterrows()
    )
    nodes = [
        (key, f"{label}\nn = {n}" + (reasons if key == "exc" else ""), kind) for key, (label, n, kind) in boxes.items()
    ]
    edges = [(parent, child, "") for parent, children in splits for child in children]
    edges += [(part, whole, "") for whole, parts in merges for part in parts]
    edges += list(links)
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
