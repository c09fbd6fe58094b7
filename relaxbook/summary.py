"""The landing page's answers, generated from the conclusions, certainty, claims and drug-value tables, so they can
never disagree with the chapters: the key findings, each with its certainty and a link to its evidence, and an
at-a-glance table of the reader's questions per drug."""

from __future__ import annotations

from relaxbook import certainty, claims, profiles, render
from relaxbook.data import datapkg

DRUGS = ["lanperisone", "baclofen", "diazepam"]
# GRADE's standard wording for each certainty level (Santesso et al. 2020, GRADE guidelines 26)
GRADE_WORDS = {"high": "", "moderate": "probably", "low": "may", "very low": "the evidence is very uncertain"}


def _certainty_phrase(level: str | None) -> str:
    if level is None:
        return "no evidence"
    words = GRADE_WORDS[level]
    return f"{level} certainty" + (f": {words}" if words and level == "very low" else "")


def key_findings():
    """The key findings as a Markdown list: each conclusion of the book with its certainty and a link to its
    evidence, then what the guide got wrong and the labels' key warnings."""
    from IPython.display import Markdown

    grades = {r["comparison_id"]: r for r in certainty.certainty_rows()}
    lines = []
    for row in findings():
        topic = row["topic"]
        grade = grades.get(row["comparison_id"]) if isinstance(row["comparison_id"], str) else None
        level = _certainty_phrase(grade["level"]) if grade else "animal data only"
        lines.append(
            f"- **{render.escape(topic)}.** {render.escape(row['book_statement'])} "
            f"({level}; {{ref}}`evidence <conclusions>`)"
        )
    counts = claims.claim_counts()
    lines.append(
        f"- **What the guide got wrong:** of its {sum(counts.values())} statements, {counts['contradicted']} are "
        f"contradicted by the records, {counts['unsupported']} unsupported and {counts['not found']} rest on work that "
        "cannot be found ({ref}`the list, worst first <corrections>`)."
    )
    warnings = _warnings()
    lines.append(
        "- **Key warnings (labels):** "
        + "; ".join(f"{d}: {render.escape(w)}" for d, w in warnings.items())
        + " ({ref}`drug profiles <profiles>`)."
    )
    return Markdown("\n".join(lines))


def findings() -> list[dict]:
    """The conclusions the landing page lists as key findings: those with a ``topic`` in conclusions.csv, in order."""
    concl = datapkg.load("conclusions")
    return concl[concl["topic"].notna()].to_dict("records")


def _warnings() -> dict[str, str]:
    return profiles.label_warnings(["baclofen", "diazepam", "tolperisone"])


def at_a_glance(name: str = "tbl-at-a-glance"):
    """The reader's questions (rows) for lanperisone, baclofen and diazepam (columns), from the data."""
    import pandas as pd

    grades = certainty.certainty_rows()
    numbers = certainty.comparison_numbers()
    studies = datapkg.load("studies")
    arms = datapkg.load("arms")
    frame = claims.frame()
    rows = {
        "efficacy": {"item": "Compared with the others for spasticity"},
        "safety": {"item": "Sedation and adverse effects, compared"},
        "human": {"item": "Human studies in this book"},
        "warning": {"item": "Key warning on the label"},
        "guide": {"item": "The guide's statements about it that fail"},
    }
    warnings = _warnings()
    for drug in DRUGS:
        for key, outcome in (("efficacy", "efficacy"), ("safety", ("sedation", "adverse"))):
            cells = []
            for g in grades:
                drugs = g["drug_ids"].split(";")
                if drug in drugs and g["comparison_id"].endswith(outcome) and g["level"]:
                    others = " or ".join(d for d in drugs if d != drug)
                    n = numbers[g["comparison_id"].replace("-", "_") + "_studies"]
                    cells.append(f"vs {others}: {n} stud{'y' if n == 1 else 'ies'}, {g['level']} certainty")
            rows[key][drug] = "; ".join(cells) or "no comparison with baclofen or diazepam"
        included = studies[
            (studies["inclusion"] == "included")
            & (studies["evidence_type"] != "preclinical")
            & studies["study_id"].isin(arms.loc[arms["drug_id"] == drug, "study_id"])
        ]
        randomised = int(included["randomised"].fillna(False).astype(bool).sum())
        rows["human"][drug] = f"{len(included)} ({randomised} randomised)"
        rows["warning"][drug] = warnings.get(drug, "NA (no label)")
        about = frame[frame["source_text"].str.contains(drug, case=False)]
        bad = about["status"].isin(["contradicted", "unsupported", "not found"])
        rows["guide"][drug] = f"{int(bad.sum())} of {len(about)}"
    render.table(
        pd.DataFrame(rows.values()),
        name,
        "At a glance: the questions a reader brings, per drug",
        {"item": "Question", **{d: d.capitalize() for d in DRUGS}},
        per_drug=True,
    )
