"""Adverse effects and warnings per drug."""

from __future__ import annotations

from relaxbook import figures, render
from relaxbook.data import datapkg


def adverse_effects_table(name: str = "tbl-adverse-effects"):
    render.sourced_table(
        datapkg.load("adverse_effects"),
        "verification",
        name,
        "Adverse effects and warnings per drug, with frequencies where known",
        {
            "drug_id": "Drug",
            "effect": "Effect or warning",
            "frequency_text": "Frequency",
            "context": "Context",
            "verification": "Status",
            "source_key": "Source",
        },
    )


# The rows of the drug x warning matrix: a reader's name for each kind of adverse effect or warning, and the words in a
# statement of data/adverse_effects.csv that put it in that row (a statement can fall in several rows). A statement
# that fits no row goes to the "Other" row, so a new kind of effect is never dropped from the figure.
EFFECT_GROUPS = [
    ("Drowsiness, sleepiness", ("drowsiness", "sleepiness", "somnolence", "daytime sedation", "no sedation")),
    ("Withdrawal reactions on stopping abruptly", ("withdrawal", "abrupt stop")),
    ("Abuse, addiction, dependence", ("abuse", "addiction", "dependence")),
    ("Breathing depression with opioids", ("with opioids", "respiratory depression")),
    ("Allergic and severe skin reactions", ("hypersensitivity", "anaphylaxis", "stevens-johnson", "epidermal")),
    ("Weakness, light-headedness", ("asthenia", "weakness", "light-headedness")),
    ("Headache", ("headache",)),
    ("Stomach pain, indigestion", ("dyspepsia", "epigastric")),
]
OTHER = "Other effects (see the table)"
NOT_STATED = "–"
# The fill of a cell by what it says (a cell shows the strongest kinds its statements give: a frequency makes
# "reported" redundant; a boxed warning makes "warning" and "reported" redundant). The text is always written too.
CELL_FILL = {
    "boxed": "#1a1a1a",
    "frequency": "#cfe3f3",
    "warning": "#fde2d2",
    "reported": "#ececec",
    "not seen": "white",
}


def _is_na(value) -> bool:
    import pandas as pd

    return value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() in ("", "NA")


def effect_groups(effect: str) -> list[str]:
    """The matrix rows a statement of an adverse effect belongs to (:data:`EFFECT_GROUPS`), or ``[OTHER]``."""
    text = effect.lower()
    rows = [name for name, words in EFFECT_GROUPS if any(w in text for w in words)]
    return rows or [OTHER]


def _cell_entry(row) -> tuple[str, str]:
    """(kind, text) for one statement: boxed warning, frequency, label warning, reported, or not seen."""
    context = "" if _is_na(row["context"]) else str(row["context"]).lower()
    if str(row["effect"]).lower().startswith("no "):
        return "not seen", "not seen"
    if "boxed warning" in context:  # the route it is limited to, when the source names one
        return "boxed", "boxed\nwarning" + ("\nintrathecal" if "intrathecal" in context else "")
    if not _is_na(row["frequency_text"]):
        text = str(row["frequency_text"])  # "7.1% (placebo 3.8%)" -> two short lines, narrow enough for a phone
        return "frequency", text.replace(" (", "\n").rstrip(")") if text.endswith(")") else text
    if "warning" in context:
        return "warning", "warning"
    return "reported", "reported"


def adverse_effect_matrix(ae, drugs):
    """The drug x warning matrix of ``ae`` (rows of adverse_effects.csv) for ``drugs`` (rows of drugs.csv).

    Returns ``(rows, columns, cells, no_data)``: the row names (in :data:`EFFECT_GROUPS` order, then "Other", only
    those with a statement), the drug columns (compared drugs first), ``cells[(row, drug)] = (kind, text)`` for the
    cells a source speaks to (absent: not stated), and the drugs whose only statement is that no data were found.
    """
    order = {"boxed": 0, "frequency": 1, "warning": 2, "reported": 3, "not seen": 4}
    compared = [d for d, role in zip(drugs["drug_id"], drugs["role_in_book"], strict=True) if role == "compared drug"]
    columns = compared + [d for d in drugs["drug_id"] if d not in compared]
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    no_data = []
    for _, row in ae.iterrows():
        effect = str(row["effect"])
        groups = effect_groups(effect)
        if effect.lower().startswith("no ") and groups == [OTHER]:
            no_data.append(row["drug_id"])  # "no human adverse-effect data found": a statement about the column
            continue
        for group in groups:
            found.setdefault((group, row["drug_id"]), []).append(_cell_entry(row))
    cells = {}
    for key, entries in found.items():
        entries = sorted(dict.fromkeys(entries), key=lambda e: order[e[0]])
        best = order[entries[0][0]]
        if best <= order["frequency"]:  # a boxed warning or a frequency says more than "reported" or "warning"
            entries = [e for e in entries if order[e[0]] <= order["frequency"] or e[0] == "not seen"]
        else:
            entries = [e for e in entries if e[0] == entries[0][0] or e[0] == "not seen"]
        cells[key] = (entries[0][0], "\n".join(text for _, text in entries[:2]))
    names = [name for name, _ in EFFECT_GROUPS] + [OTHER]
    rows = [name for name in names if any((name, d) in cells for d in columns)]
    return rows, columns, cells, sorted(set(no_data) - {d for (_, d) in cells})


def adverse_effects_figure():
    """Drug x warning matrix: one row per kind of adverse effect or warning, one column per drug; each cell says what
    the sources state (boxed warning, frequency, warning, reported, not seen, or a dash when not stated)."""
    figures.use_style()
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rows, columns, cells, no_data = adverse_effect_matrix(datapkg.load("adverse_effects"), datapkg.load("drugs"))
    fig, ax = plt.subplots(figsize=(1.7 + 1.0 * len(columns), 0.72 * len(rows) + 1.6))
    for i, row in enumerate(rows):
        for j, drug in enumerate(columns):
            kind, text = cells.get((row, drug), (None, NOT_STATED))
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=CELL_FILL.get(kind, "white"), edgecolor="#9a9a9a", lw=0.8))
            if drug in no_data:
                continue
            ax.text(
                j + 0.5,
                i + 0.5,
                text,
                ha="center",
                va="center",
                fontsize=(10.5 if kind == "boxed" else 11.5) if kind else 13,
                color="white" if kind == "boxed" else ("#1a1a1a" if kind else "#8a8a8a"),
                fontweight="bold" if kind == "boxed" else "normal",
                linespacing=1.05,
            )
    for drug in no_data:  # one note over the whole column instead of a dash per cell
        j = columns.index(drug)
        note = "no human data found"
        ax.text(j + 0.5, len(rows) / 2, note, rotation=90, ha="center", va="center", color="#555555", fontsize=12)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([j + 0.5 for j in range(len(columns))], columns, fontsize=12)
    ax.xaxis.tick_top()
    wrapped = [textwrap.fill(r, 18, break_on_hyphens=False) for r in rows]
    ax.set_yticks([i + 0.5 for i in range(len(rows))], wrapped, fontsize=12)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel(
        f"black: boxed warning · blue: frequency in %\ngrey: reported without a frequency · {NOT_STATED}: not stated",
        fontsize=11,
        labelpad=8,
    )
    return figures.svg(fig, matrix_cells(rows, columns, cells, no_data))


def matrix_cells(rows, columns, cells, no_data):
    """The matrix's rows as published with the figure: one per cell drawn (row by row, drugs in column order), with
    its kind (boxed, frequency, warning, reported, not seen, not stated, or no data for a drug whose column says no
    human data were found) and the text written in it, line breaks as drawn."""
    import pandas as pd

    out = []
    for row in rows:
        for drug in columns:
            if drug in no_data:
                kind, text = "no data", "no human data found"
            else:
                kind, text = cells.get((row, drug), ("not stated", NOT_STATED))
            out.append({"effect": row, "drug": drug, "kind": kind, "text": text})
    return pd.DataFrame(out, columns=["effect", "drug", "kind", "text"])


def adverse_effect_numbers() -> dict:
    ae = datapkg.load("adverse_effects")
    bac = ae[(ae["drug_id"] == "baclofen") & ae["frequency_pct_max"].notna()]
    return {
        "ae_total": len(ae),
        "ae_with_frequency": int(ae["frequency_pct_max"].notna().sum()),
        "bac_drowsy_min": int(bac["frequency_pct_min"].min()),
        "bac_drowsy_max": int(bac["frequency_pct_max"].max()),
    }


def key_points():
    """The opening of the safety chapter (numbers glued by :func:`adverse_effect_numbers` and
    ``claims.chapter_numbers("safety", "safe")``; the warnings are the label rows of adverse_effects.csv)."""
    g = render.glued
    ae = datapkg.load("adverse_effects")
    warned = lambda drug: "; ".join(  # noqa: E731
        render.escape(e) for e in ae.loc[(ae["drug_id"] == drug) & ae["context"].str.contains("warning"), "effect"]
    )
    return render.key_points(
        [
            render.status_point("safe"),
            f"**Few frequencies.** Of {g('ae_total')} recorded adverse effects, {g('ae_with_frequency')} come with a "
            "frequency; the rest are named in labels or trials without one.",
            f"**Baclofen.** Drowsiness in {g('bac_drowsy_min')} to {g('bac_drowsy_max')}% of patients (label). Label "
            f"warnings: {warned('baclofen')}.",
            f"**Diazepam.** Boxed and label warnings: {warned('diazepam')}.",
        ]
    )
