"""Drug profiles from ``data/drug_values.csv``, ``regulatory_events.csv``, ``arms.csv`` and ``preclinical_results.csv``.

Molecular formula and weight are computed with RDKit from each sourced SMILES and compared with the published
values (tests fail on a mismatch). Every value shown carries its source; NA stays NA.
"""

from __future__ import annotations

import math

from relaxbook import figures, render
from relaxbook.data import datapkg

DRUGS = ["lanperisone", "tolperisone", "eperisone", "baclofen", "diazepam"]
PK_DOSING = [
    "bioavailability",
    "tmax",
    "half_life",
    "metabolism",
    "active_metabolites",
    "usual_daily_dose",
    "max_daily_dose",
]
MW_TOLERANCE = 0.01  # g/mol: published weights are rounded to 2-3 decimals and atomic-weight tables differ slightly


def values(section: str | None = None):
    v = datapkg.load("drug_values")
    return v if section is None else v[v["section"] == section]


def first(drug: str, field: str, v=None):
    """The first row for ``drug``/``field`` (a pandas Series) of ``v`` (default: the whole drug_values table; pass
    it when asking many times: loading is the slow part)."""
    v = values() if v is None else v
    return v[(v["drug_id"] == drug) & (v["field"] == field)].iloc[0]


def compute_identity(smiles: str | None) -> tuple[str | None, float | None]:
    """(formula, average molecular weight) computed by RDKit; (None, None) for NA."""
    if smiles is None:
        return None, None
    from rdkit import Chem
    from rdkit.Chem import Descriptors, rdMolDescriptors

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}")
    return rdMolDescriptors.CalcMolFormula(mol), float(Descriptors.MolWt(mol))


def _n(value):
    """A float, or None for NA/NaN."""
    import pandas as pd

    return None if value is None or pd.isna(value) else float(value)


def _text(value):
    import pandas as pd

    return None if pd.isna(value) else str(value)


def identity():
    """Per drug: sourced SMILES, computed vs published formula and weight, and whether they agree."""
    import pandas as pd

    rows, v = [], values()
    for d in DRUGS:
        smi, form, mw = first(d, "smiles", v), first(d, "formula_published", v), first(d, "mw_published_g_per_mol", v)
        f_calc, mw_calc = compute_identity(_text(smi["value"]))
        pub_mw = None if pd.isna(mw["value_low"]) else float(mw["value_low"])
        if _text(form["value"]) is None or pub_mw is None:
            check = "NA (no published value)"
        else:
            ok = f_calc == form["value"] and abs(mw_calc - pub_mw) <= MW_TOLERANCE
            check = "agrees" if ok else "MISMATCH"
        rows.append(
            {
                "drug_id": d,
                "inn": first(d, "inn", v)["value"],
                "stereochemistry": first(d, "stereochemistry", v)["value"],
                "smiles": smi["value"],
                "formula_computed": f_calc,
                "mw_computed": None if mw_calc is None else round(mw_calc, 2),
                "formula_published": form["value"],
                "mw_published": pub_mw,
                "check": check,
                "source_key": ";".join(
                    dict.fromkeys(k for r in (smi, form, mw) for k in str(r["source_key"]).split(";"))
                ),
            }
        )
    return pd.DataFrame(rows)


def identity_table(name: str = "tbl-identity"):
    render.table(
        identity(),
        name,
        "Identity: SMILES (sourced), formula and weight computed with RDKit and checked against the published values",
        {
            "inn": "INN",
            "stereochemistry": "Stereochemistry",
            "smiles": "SMILES",
            "formula_computed": "Formula (RDKit)",
            "formula_published": "Formula (published)",
            "mw_computed": "MW g/mol (RDKit)",
            "mw_published": "MW (published)",
            "check": "Check",
            "source_key": "Sources",
        },
        cite_cols=("source_key",),
    )


def section_table(section: str, name: str, caption: str):
    """All values of one profile section, one row per sourced value (NA shown as NA, with its source; each value's
    note, with the URL read, is in the downloadable CSV), bar those the pharmacist table already shows."""
    v = values(section).copy()
    v = v[~v["value_id"].isin(pharmacist_value_ids(values()))]
    v["unit"] = v["unit"].fillna("")
    v["field"] = v["field"].str.replace("_", " ")
    render.table(
        v,
        name,
        caption,
        {
            "drug_id": "Drug",
            "field": "Item",
            "value": "Value",
            "unit": "Unit",
            "verification": "Status",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
    )


def structure_figure():
    """RDKit grid of the five structures (free bases), two per row and large, each labelled with its INN and
    computed formula in a legend font that stays readable when the page is a phone's width."""
    import io

    from IPython.display import Image
    from rdkit import Chem
    from rdkit.Chem import Draw

    ident = identity()
    mols = [Chem.MolFromSmiles(s) for s in ident["smiles"]]
    options = Draw.MolDrawOptions()
    options.legendFontSize = 30
    options.legendFraction = 0.16
    options.minFontSize = 18  # atom labels
    options.bondLineWidth = 3
    img = Draw.MolsToGridImage(
        mols,
        molsPerRow=2,
        subImgSize=(440, 360),
        legends=[f"{d} ({f})" for d, f in zip(ident["drug_id"], ident["formula_computed"], strict=True)],
        drawOptions=options,
    )
    if not hasattr(img, "save"):  # inside IPython, RDKit already returns a PNG display object
        return Image(data=img.data, format="png")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return Image(data=buf.getvalue(), format="png")


EVENT_STYLE = {
    "first approval": ("o", "#0072B2"),
    "launch": ("^", "#009E73"),
    "restriction": ("X", "#D55E00"),
    "re-examination": ("P", "#CC79A7"),
    "boxed warning": ("D", "#E69F00"),
}


def event_label(r) -> str:
    """An event's label on the timeline: its date as precise as the source gives it, what happened and where."""
    where = _text(r["jurisdiction"])
    short = {"European Union": "EU", "EU member states": "EU countries", "United States": "US"}.get(where, where)
    return f"{_text(r['date_text']) or 'date NA'}: {r['event_type']}" + (f" ({short})" if short else "")


def timeline_figure():
    """Regulatory events, one band per drug and one line per event inside it, each event labelled beside its mark
    (to the right of early events, to the left of late ones), so no two labels share a line; a decade-precision
    event is drawn as a span."""
    figures.use_style()
    import matplotlib.pyplot as plt

    ev = datapkg.load("regulatory_events")
    ev = ev[ev["year"].notna()].sort_values(["year", "date_text"], kind="stable")
    lines = {d: max(int((ev["drug_id"] == d).sum()), 1) for d in DRUGS}
    first, last = 1955, 2026
    mid = (first + last) / 2
    fig, ax = plt.subplots(figsize=(8.5, 0.36 * sum(lines.values()) + 0.9))
    y, centres = 0.0, []
    for d in DRUGS:
        own = ev[ev["drug_id"] == d]
        centres.append(y + (lines[d] - 1) / 2)
        if own.empty:
            ax.text(first + 2, y, "no approval or regulatory event found (NA)", va="center", fontsize=9, style="italic")
        for k, (_, r) in enumerate(own.iterrows()):
            marker, colour = EVENT_STYLE[r["event_type"]]
            at = y + k
            if r["precision"] == "decade":
                ax.plot([r["year"], r["year"] + 9], [at, at], color=colour, lw=6, alpha=0.5, solid_capstyle="butt")
            ax.scatter(r["year"], at, marker=marker, color=colour, s=60, zorder=3, edgecolor="black", linewidth=0.5)
            right = r["year"] < mid
            end = r["year"] + (9 if r["precision"] == "decade" else 0)
            ax.annotate(
                event_label(r),
                (end if right else r["year"], at),
                xytext=(7 if right else -7, 0),
                textcoords="offset points",
                ha="left" if right else "right",
                va="center",
                fontsize=9,
            )
        y += lines[d]
        ax.axhline(y - 0.5, color="#cccccc", lw=0.8)
    ax.set_yticks(centres, DRUGS)
    ax.set_ylim(y - 0.5, -0.5)
    ax.set_xlim(first, last)
    ax.set_xlabel("year")
    ax.grid(axis="x", color="#eeeeee")
    ax.tick_params(axis="y", length=0)
    return figures.png(fig)


# --- doses ------------------------------------------------------------------------------------------------------


def label_ranges():
    """Per drug: usual daily dose range and maximum daily dose (mg/day) from the label values, NA where none."""
    import pandas as pd

    rows, v = [], values()
    for d in DRUGS:
        usual, mx = first(d, "usual_daily_dose", v), first(d, "max_daily_dose", v)
        num = lambda x: None if pd.isna(x) else float(x)
        rows.append(
            {
                "drug_id": d,
                "usual_low": num(usual["value_low"]),
                "usual_high": num(usual["value_high"]),
                "max": num(mx["value_high"]),
                "source_key": ";".join(
                    dict.fromkeys(str(usual["source_key"]).split(";") + str(mx["source_key"]).split(";"))
                ),
            }
        )
    return pd.DataFrame(rows)


def classify_dose(low, high, usual_low, usual_high, maximum) -> str:
    """Where a study's daily dose range lies relative to the labelled range (the upper limit is the maximum daily
    dose when the label gives one, otherwise the top of the usual range)."""
    low, high, usual_low, usual_high, maximum = (_n(x) for x in (low, high, usual_low, usual_high, maximum))
    if low is None or high is None:
        return "dose NA"
    if usual_low is None or usual_high is None:
        return "no labelled range"
    upper = maximum if maximum is not None else usual_high
    if high > upper:
        return "above labelled range"
    if low < usual_low:
        return "below usual range"
    return "within labelled range"


def study_doses(with_labels: bool = True):
    """Every drug arm with a daily dose, classified against the label (arms of all studies, as recorded), with
    its study's label unless ``with_labels`` is false (then ``studies`` is not read)."""
    import pandas as pd

    arms = datapkg.load("arms")
    lab = label_ranges().set_index("drug_id")
    arms = arms[arms["drug_id"].notna()].copy()
    num = lambda x: None if pd.isna(x) else float(x)
    if with_labels:
        arms["label"] = arms["study_id"].map(datapkg.load("studies").set_index("study_id")["label"])
    arms["flag"] = [
        classify_dose(num(lo), num(hi), lab.loc[d, "usual_low"], lab.loc[d, "usual_high"], lab.loc[d, "max"])
        for d, lo, hi in zip(arms["drug_id"], arms["dose_min_mg_per_day"], arms["dose_max_mg_per_day"], strict=True)
    ]
    return arms


DOSE_STYLE = {
    "within labelled range": ("o", "#009E73"),
    "above labelled range": ("X", "#D55E00"),
    "below usual range": ("v", "#B07800"),
    "no labelled range": ("s", "#CC79A7"),
}


def dose_groups():
    """The study arms' daily doses per drug and flag (:func:`classify_dose`), one row per group: the lowest and
    highest dose of its arms and how many arms it holds (the dose chart draws one mark per group)."""
    doses = study_doses(with_labels=False)  # the chart shows no study names: a label edit does not redraw it
    doses = doses[doses["flag"] != "dose NA"]
    grouped = doses.groupby(["drug_id", "flag"], sort=False).agg(
        low=("dose_min_mg_per_day", "min"), high=("dose_max_mg_per_day", "max"), arms=("arm_id", "size")
    )
    order = {f: i for i, f in enumerate(DOSE_STYLE)}
    out = grouped.reset_index()
    out["_drug"] = out["drug_id"].map(DRUGS.index)
    out["_flag"] = out["flag"].map(order)
    return out.sort_values(["_drug", "_flag"]).drop(columns=["_drug", "_flag"]).reset_index(drop=True)


def _mg(x) -> str:
    return f"{float(x):g}"


def dose_figure():
    """Per drug, the labelled usual daily dose (bar) and maximum (tick), labelled with their numbers, and below them
    one line per kind of study dose (within, above or below the labelled range, or no range), from the lowest to the
    highest dose of its arms, labelled with how many arms it holds: a few marks per drug, whatever the number of
    arms, and no legend to look up."""
    figures.use_style()
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    lab = label_ranges()
    groups = dose_groups()
    per_drug = {d: int((groups["drug_id"] == d).sum()) for d in lab["drug_id"]}
    heights = {d: 1 + per_drug[d] for d in lab["drug_id"]}
    fig, ax = plt.subplots(figsize=(8.5, 0.34 * sum(heights.values()) + 0.9))
    left_edge = blended_transform_factory(ax.transAxes, ax.transData)
    y, centres = 0.0, []
    for _, r in lab.iterrows():
        d = r["drug_id"]
        centres.append(y)
        if _n(r["usual_low"]) is not None:
            single = r["usual_low"] == r["usual_high"]  # a single-dose label still shows, as a square
            ax.plot(
                [r["usual_low"], r["usual_high"]],
                [y, y],
                color="#9ecae1",
                lw=12,
                solid_capstyle="butt",
                marker="s" if single else None,
                markersize=11,
                markeredgecolor="#9ecae1",
            )
            usual = _mg(r["usual_low"]) if single else f"{_mg(r['usual_low'])}–{_mg(r['usual_high'])}"
            text = f"label: usual {usual} mg"
            end = r["usual_high"]
            if _n(r["max"]) is not None:
                ax.plot([r["max"]] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
                text += f", max {_mg(r['max'])} mg"
                end = max(end, r["max"])
            ax.annotate(text, (end, y), xytext=(8, 0), textcoords="offset points", va="center", fontsize=9)
        else:
            ax.text(0.01, y, "no labelled dose (NA)", fontsize=9, style="italic", va="center", transform=left_edge)
        for k, (_, g) in enumerate(groups[groups["drug_id"] == d].iterrows(), start=1):
            at = y + k
            marker, colour = DOSE_STYLE[g["flag"]]
            ax.plot([g["low"], g["high"]], [at, at], color=colour, lw=2)
            ax.scatter(
                [g["low"], g["high"]],
                [at, at],
                marker=marker,
                color=colour,
                s=40,
                zorder=3,
                edgecolor="black",
                linewidth=0.4,
            )
            arms = f"{g['arms']} arm" + ("s" if g["arms"] != 1 else "")
            dose = _mg(g["low"]) if g["low"] == g["high"] else f"{_mg(g['low'])}–{_mg(g['high'])}"
            ax.annotate(
                f"{arms}, {dose} mg: {g['flag']}",
                (g["high"], at),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=8.5,
                color="#1a1a1a",
            )
        y += heights[d]
        ax.axhline(y - 0.5, color="#dddddd", lw=0.8)
    ax.set_yticks(centres, lab["drug_id"])
    ax.set_ylim(y - 0.5, -0.6)
    ax.set_xscale("log")
    ax.set_xlim(4, 6000)  # room on the right for the direct labels
    figures.plain_numbers(ax.xaxis)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("daily dose, mg/day (log scale)")
    return figures.png(fig)


def dose_table(name: str = "tbl-study-doses"):
    d = study_doses()
    d = d[d["flag"] != "dose NA"]
    render.table(
        d,
        name,
        "Daily doses recorded for study arms, against the labelled range (arms without a dose omitted)",
        {
            "label": "Study",
            "drug_id": "Drug",
            "dose_text": "Dose as reported",
            "dose_min_mg_per_day": "Min mg/day",
            "dose_max_mg_per_day": "Max mg/day",
            "flag": "Against the label",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
        max_rows=render.LIST_ROWS,
        source="data/arms.csv",
    )


def preclinical_table(name: str = "tbl-preclinical"):
    p = datapkg.load("preclinical_results")
    render.table(
        p,
        name,
        "PRECLINICAL (animal) results for lanperisone: reflex inhibition relative to eperisone and tolperisone",
        {
            "compound": "Compound",
            "comparator": "Comparator",
            "model": "Model",
            "route": "Route",
            "measure": "Measure",
            "result": "Result",
            "relative_potency": "Potency",
            "relative_duration": "Duration",
            "verification": "Status",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
    )


# --- numbers ----------------------------------------------------------------------------------------------------


def profile_numbers() -> dict:
    """Sourced (non-NA) vs NA counts of PK/dosing values per drug, and dose flags, for prose via glue."""
    v = values()
    v = v[v["field"].isin(PK_DOSING)]
    out = {}
    for d in DRUGS:
        sub = v[v["drug_id"] == d]
        out[f"pk_{d[:3]}_sourced"] = int(sub["value"].notna().sum())
        out[f"pk_{d[:3]}_na"] = int(sub["value"].isna().sum())
    ident = identity()
    out["id_checked"] = int((ident["check"] == "agrees").sum())
    out["id_unchecked"] = int(ident["check"].str.startswith("NA").sum())
    flags = study_doses(with_labels=False)["flag"]
    out["dose_above"] = int((flags == "above labelled range").sum())
    out["dose_below"] = int((flags == "below usual range").sum())
    out["dose_arms"] = int((flags != "dose NA").sum())
    return out


PHARMACIST = {
    "boxed_warning": "Boxed warning",
    "contraindications": "Contraindications",
    "renal_impairment": "Renal impairment",
    "hepatic_impairment": "Hepatic impairment",
    "elderly": "Older adults",
    "interaction_alcohol": "With alcohol",
    "interaction_opioids": "With opioids",
    "interaction_cns_depressants": "With other CNS depressants",
    "interaction_cyp": "CYP interactions",
    "half_life": "Half-life of the drug (h)",
    "active_metabolites": "Active metabolites",
    "active_metabolite_half_life": "Half-life of active metabolites (h)",
    "populations_not_established": "Where efficacy or safety is not established",
}


def pharmacist_value_ids(v) -> set[str]:
    """The rows :func:`pharmacist_table` shows: the first row per drug and pharmacist field."""
    shown = v[v["field"].isin(PHARMACIST) & v["drug_id"].isin(DRUGS)]
    return set(shown.drop_duplicates(["drug_id", "field"])["value_id"])


def pharmacist_table(name: str = "tbl-pharmacist"):
    """What a pharmacist checks first, one column per drug: special populations, interactions, metabolites and their
    half-lives (each cell is the first sourced value; every source is in the tables below and in the CSV)."""
    import pandas as pd

    v = values()
    rows = []
    for field, label in PHARMACIST.items():
        row = {"item": label}
        for drug in DRUGS:
            cell = v[(v["drug_id"] == drug) & (v["field"] == field)]
            if cell.empty or _isna_text(cell.iloc[0]["value"]):
                row[drug] = "NA"
            else:
                keys = ",".join(dict.fromkeys(k.strip() for k in str(cell.iloc[0]["source_key"]).split(";")))
                row[drug] = f"{render.escape(cell.iloc[0]['value'])} {{cite:p}}`{keys}`"
        rows.append(row)
    render.table(
        pd.DataFrame(rows),
        name,
        "What to check first, per drug: special populations, interactions and active metabolites (labels first)",
        {"item": "Item", **{d: d.capitalize() for d in DRUGS}},
        myst_cols=tuple(DRUGS),
    )


def _isna_text(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NA", "<NA>")
