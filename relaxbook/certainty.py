"""GRADE-style certainty per comparison, the Summary of Findings, and the conclusions beside their evidence."""

from __future__ import annotations

from relaxbook import render
from relaxbook.data import datapkg

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


def participants(study_ids: list[str], drug_ids: list[str]) -> list[int | None]:
    """Per study, the participants in the comparison of ``drug_ids``: the patients of its arms of those drugs (an
    arm of anything else, such as physical therapy alone, is not in the comparison); the study's n_total when all
    its arms are in the comparison, or when it is a crossover (every patient took each drug). None when unknown."""
    studies = datapkg.load("studies").set_index("study_id")
    arms = datapkg.load("arms")
    out = []
    for sid in study_ids:
        crossover = studies.loc[sid, "crossover"]
        if not _isna(crossover) and bool(crossover):
            total = studies.loc[sid, "n_total"]
            out.append(None if _isna(total) else int(total))
            continue
        own = arms[arms["study_id"] == sid]
        inside = own[own["drug_id"].isin(drug_ids)]
        if len(inside) == len(own):  # every arm is in the comparison: the study's own total
            total = studies.loc[sid, "n_total"]
            out.append(None if _isna(total) else int(total))
            continue
        sizes = inside["n_arm"].tolist()
        out.append(None if not sizes or any(_isna(x) for x in sizes) else int(sum(sizes)))
    return out


GRADE_SENTENCE = {  # the GRADE Working Group's standard wording per level (GRADE guidelines 26, 2020)
    "high": "{a} compared with {b} results in the difference the studies found in {o}.",
    "moderate": "{a} compared with {b} probably makes the difference the studies found in {o}.",
    "low": "{a} compared with {b} may make the difference the studies found in {o}.",
    "very low": "The evidence is very uncertain about the effect of {a} compared with {b} on {o}.",
}


def sof_rows() -> tuple[list[dict], list[str]]:
    """Summary-of-findings rows (Cochrane/GRADE style) and their lettered footnotes, one per downgrade reason."""
    from relaxbook import effects

    studies = datapkg.load("studies").set_index("study_id")
    contrasts = effects.contrasts()
    out, notes = [], []
    for r in certainty_rows():
        ids = r["study_ids"].split(";") if isinstance(r["study_ids"], str) else []
        n = participants(ids, r["drug_ids"].split(";"))
        known = [x for x in n if x is not None]
        marks = []
        for d in DOMAINS:
            if int(r[d]) < 0:
                notes.append(
                    f"{DOMAIN_NAMES[d]}, downgraded {-int(r[d])} level{'s' if int(r[d]) < -1 else ''}: "
                    f"{r[d + '_reason']}"
                )
                marks.append(chr(ord("a") + len(notes) - 1))
        a, b = (part.strip() for part in str(r["comparison"]).split(" vs ", 1))
        sentence = (
            GRADE_SENTENCE[r["level"]].format(a=a, b=b, o=r["outcome"]) if r["level"] else "No study compared them."
        )
        sentence = sentence[0].upper() + sentence[1:]
        out.append(
            {
                "outcome": f"{r['comparison']}: {r['outcome']}",
                "n": (f"{sum(known)}" + (" (some NA)" if len(known) < len(n) else "")) + f" ({len(ids)} "
                f"stud{'y' if len(ids) == 1 else 'ies'})"
                if ids
                else "none",
                "effect": _estimates(ids, contrasts),
                "certainty": r["certainty_text"] + (f" ({', '.join(marks)})" if marks else ""),
                "sentence": sentence,
                "studies": "; ".join(studies.loc[i, "label"] for i in ids) or "none",
            }
        )
    return out, notes


def _estimates(study_ids: list[str], contrasts) -> str:
    """The effect sizes computed for these studies (measure, estimate, 95% CI), or NA and why."""
    done = contrasts[
        contrasts["study_id"].isin(study_ids) & (contrasts["status"] == "computed") & ~contrasts["excluded"]
    ]
    if done.empty:
        return "NA: no study reports an estimable statistic"
    return "; ".join(
        f"{r.effect_measure} {r.estimate:.2f} ({r.ci_low:.2f} to {r.ci_high:.2f}), {r.label}" for r in done.itertuples()
    )


DOMAIN_NAMES = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}


def sof_table(name: str = "tbl-sof"):
    """Summary of findings, Cochrane/GRADE style: per comparison and outcome, participants (studies), relative effect
    (NA when the studies report no estimable statistic), certainty with lettered footnotes giving each downgrade's
    reason, and GRADE's standard sentence."""
    import pandas as pd
    from IPython.display import Markdown, display

    rows, notes = sof_rows()
    render.table(
        pd.DataFrame(rows),
        name,
        "Summary of findings: every comparison the book grades, with GRADE certainty and its reasons",
        {
            "outcome": "Comparison and outcome",
            "n": "Participants (studies)",
            "effect": "Relative effect (95% CI)",
            "certainty": "Certainty",
            "sentence": "What this means",
            "studies": "Studies",
        },
    )
    display(
        Markdown(
            "**Footnotes.** " + " ".join(f"({chr(ord('a') + i)}) {render.escape(t)}." for i, t in enumerate(notes))
        )
    )


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
        rows.append(
            {
                "anchor": render.claim_anchor(c["claim_id"]),
                "guide": claims.loc[c["claim_id"], "source_text"],
                "badge": render.claim(c["claim_id"]),
                "book": c["book_statement"],
                "certainty": grade["certainty_text"] if grade else "not graded (animal data only)",
                "evidence": "; ".join(
                    f"{studies.loc[s, 'label']} ({r})" for s, r in zip(ev["study_id"], ev["role"], strict=True)
                ),
                "source_key": c["source_key"],
            }
        )
    render.table(
        pd.DataFrame(rows),
        name,
        "The guide's conclusions (its wording and status) beside what the verified evidence supports",
        {
            "anchor": "Claim",
            "guide": "The guide concludes",
            "badge": "Status",
            "book": "What the evidence supports",
            "certainty": "Certainty",
            "evidence": "Evidence rows",
            "source_key": "Sources",
        },
        cite_cols=("source_key",),
        myst_cols=("anchor", "badge"),
    )


def _isna(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def comparison_numbers() -> dict[str, object]:
    """Per comparison (``baclofen_diazepam_efficacy_...``): its studies, its participants (only the arms compared;
    'NA' when any is unknown) and its certainty level, for prose."""
    out: dict[str, object] = {}
    for r in certainty_rows():
        key = r["comparison_id"].replace("-", "_")
        ids = r["study_ids"].split(";") if isinstance(r["study_ids"], str) else []
        n = participants(ids, r["drug_ids"].split(";"))
        out[f"{key}_studies"] = len(ids)
        out[f"{key}_participants"] = sum(n) if ids and None not in n else "NA"
        out[f"{key}_certainty"] = r["level"] or "no evidence"
    return out


def key_points():
    """The opening of the conclusions chapter (numbers glued by :func:`comparison_numbers` and the chapter's
    claim counts)."""
    g = render.glued
    return render.key_points(
        [
            f"**The guide's conclusions.** Split into {g('concl_total')} statements: {g('concl_verified')} verified, "
            f"{g('concl_partly_verified')} partly verified, {g('concl_unsupported')} unsupported and "
            f"{g('concl_contradicted')} contradicted.",
            "**Baclofen or diazepam for spasticity.** "
            f"{g('baclofen_diazepam_efficacy_studies')} studies, {g('baclofen_diazepam_efficacy_participants')} "
            f"participants: {g('baclofen_diazepam_efficacy_certainty')} certainty (GRADE).",
            f"**Sedation.** {g('baclofen_diazepam_sedation_studies')} studies, "
            f"{g('baclofen_diazepam_sedation_participants')} participants: "
            f"{g('baclofen_diazepam_sedation_certainty')} certainty (GRADE).",
            f"**Lanperisone.** {g('lanperisone_clinical_studies')} clinical studies compare it with baclofen or "
            "diazepam: what the guide concludes about it rests on animal data.",
        ]
    )
