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


def first(drug: str, field: str, v=None, missing: bool = False):
    """The first row for ``drug``/``field`` (a pandas Series) of ``v`` (default: the whole drug_values table; pass
    it when asking many times: loading is the slow part). With ``missing``, None when there is no such row (else an
    IndexError)."""
    v = values() if v is None else v
    rows = v[(v["drug_id"] == drug) & (v["field"] == field)]
    return None if missing and rows.empty else rows.iloc[0]


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


IDENTITY_ROWS = {
    "inn": "INN",
    "stereochemistry": "Stereochemistry",
    "smiles": "SMILES (sourced)",
    "formula_computed": "Formula (RDKit)",
    "formula_published": "Formula (published)",
    "mw_computed": "Molecular weight, g/mol (RDKit)",
    "mw_published": "Molecular weight, g/mol (published)",
    "check": "Check",
}


def identity_table(name: str = "tbl-identity"):
    """:func:`identity` with one column per drug: each row an item, the last row the sources."""
    import pandas as pd

    ident = identity().set_index("drug_id")
    rows = [
        {"item": label, **{d: render.escape(ident.loc[d, col]) for d in DRUGS}} for col, label in IDENTITY_ROWS.items()
    ]
    rows.append({"item": "Sources", **{d: render.cite(ident.loc[d, "source_key"]) for d in DRUGS}})
    render.table(
        pd.DataFrame(rows),
        name,
        "Identity: SMILES (sourced), formula and weight computed with RDKit and checked against the published values",
        {"item": "Item", **{d: d.capitalize() for d in DRUGS}},
        myst_cols=tuple(DRUGS),
        per_drug=True,
    )


# A reader's label for every field of drug_values.csv (a test fails when a field has none); the unit is added from
# the data.
FIELD_LABELS = {
    "inn": "International nonproprietary name",
    "chemical_class": "Chemical class",
    "stereochemistry": "Stereochemistry",
    "smiles": "Structure (SMILES)",
    "formula_published": "Published molecular formula",
    "mw_published_g_per_mol": "Published molecular weight",
    "atc_code": "ATC code",
    "status": "Marketing status",
    "first_approval": "First approval",
    "bioavailability": "Oral bioavailability",
    "tmax": "Time to peak concentration",
    "half_life": "Half-life of the drug",
    "metabolism": "Metabolism",
    "active_metabolites": "Active metabolites",
    "active_metabolite_half_life": "Half-life of active metabolites",
    "usual_daily_dose": "Usual daily dose",
    "max_daily_dose": "Maximum daily dose",
    "renal_impairment": "Renal impairment",
    "hepatic_impairment": "Hepatic impairment",
    "elderly": "Older adults",
    "principal_adverse_effects": "Principal adverse effects",
    "boxed_warning": "Boxed warning",
    "warnings": "Warnings",
    "contraindications": "Contraindications",
    "interaction_alcohol": "With alcohol",
    "interaction_opioids": "With opioids",
    "interaction_cns_depressants": "With other CNS depressants",
    "interaction_cyp": "CYP interactions",
    "interaction_other": "Other interactions",
    "populations_not_established": "Where efficacy or safety is not established",
}


def shared_unit(field: str, v=None) -> str | None:
    """The unit every known value of ``field`` has, or None (no unit, or units that differ: then each value shows
    its own)."""
    v = values() if v is None else v
    rows = v[(v["field"] == field) & ~v["value"].map(_isna_text)]
    units = set(rows["unit"].fillna("NA"))
    return units.pop() if len(units) == 1 and "NA" not in units else None


def field_label(field: str, v=None) -> str:
    """The row label of ``field``: its reader's label and the unit all its values share."""
    unit = shared_unit(field, v)
    return FIELD_LABELS[field] + (f" ({unit})" if unit else "")


def _cell(rows, unit_in_label: bool) -> str:
    """One drug's values of one field as MyST: each value (with its unit unless the row label gives it) and its
    source, and its status when not verified."""
    parts = []
    for r in rows.to_dict("records"):
        if _isna_text(r["value"]):
            parts.append("NA")
            continue
        unit = "" if unit_in_label or _isna_text(r["unit"]) else f" {r['unit']}"
        status = "" if r["verification"] == "verified" else f" ({render.status_text(r['verification'])})"
        parts.append(f"{render.escape(str(r['value']) + unit)}{status} {render.cite(r['source_key'])}")
    return "; ".join(dict.fromkeys(parts)) or "NA"


SEE_PHARMACIST = "see {numref}`tbl-pharmacist`"


def section_rows(section: str, v=None):
    """One row per field of ``section`` (its reader's label with unit), one column per drug; each cell every sourced
    value (conflicting sources side by side), bar the values the pharmacist table already shows, which it names."""
    import pandas as pd

    v = values() if v is None else v
    shown = pharmacist_value_ids(v)
    sec = v[v["section"] == section]
    rows = []
    for field in dict.fromkeys(sec["field"]):
        row = {"item": render.escape(field_label(field, v))}
        for drug in DRUGS:
            cell = sec[(sec["field"] == field) & (sec["drug_id"] == drug)]
            rest = cell[~cell["value_id"].isin(shown)]
            row[drug] = (
                _cell(rest, shared_unit(field, v) is not None) if len(rest) else (SEE_PHARMACIST if len(cell) else "NA")
            )
        cells = {row[d] for d in DRUGS}
        if SEE_PHARMACIST not in cells or cells - {SEE_PHARMACIST, "NA"}:  # a row that adds nothing is left out
            rows.append(row)
    return pd.DataFrame(rows, columns=["item", *DRUGS])


def section_table(section: str, name: str, caption: str):
    """All values of one profile section, pivoted: one row per item, one column per drug (NA where no checked
    source gives it; each value's note, with the URL read, is in the downloadable CSV)."""
    render.table(
        section_rows(section),
        name,
        caption,
        {"item": "Item", **{d: d.capitalize() for d in DRUGS}},
        myst_cols=("item", *DRUGS),
        per_drug=True,
    )


def structure_figure():
    """RDKit grid of the five structures (free bases), two per row and large, each labelled with its INN and
    computed formula in a legend font that stays readable when the page is a phone's width."""
    from rdkit import Chem

    ident = identity()
    mols = [Chem.MolFromSmiles(s) for s in ident["smiles"]]
    return figures.molecule_grid(
        mols,
        [f"{d} ({f})" for d, f in zip(ident["drug_id"], ident["formula_computed"], strict=True)],
        ident[["drug_id", "formula_computed", "smiles"]],
        per_row=2,
        size=(440, 360),
        options={"legendFontSize": 30, "legendFraction": 0.16, "fixedFontSize": 22, "bondLineWidth": 3},
    )


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
            ax.text(
                first + 2,
                y,
                "no approval or regulatory event found (NA)",
                va="center",
                fontsize=figures.SMALL,
                style="italic",
            )
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
                fontsize=figures.SMALL,
            )
        y += lines[d]
        ax.axhline(y - 0.5, color="#cccccc", lw=0.8)
    ax.set_yticks(centres, DRUGS)
    ax.set_ylim(y - 0.5, -0.5)
    ax.set_xlim(first, last)
    ax.set_xlabel("year")
    ax.grid(axis="x", color="#eeeeee")
    ax.tick_params(axis="y", length=0)
    return figures.svg(fig, timeline_rows(ev))


def timeline_rows(ev):
    """The timeline's rows, as drawn: band by band (drugs in book order), each event with its label as written; a
    drug without a dated event gets one row saying so."""
    import pandas as pd

    out = []
    for d in DRUGS:
        own = ev[ev["drug_id"] == d]
        if own.empty:
            out.append({"drug_id": d, "label": "no approval or regulatory event found (NA)"})
        for _, r in own.iterrows():
            out.append(
                {
                    "drug_id": d,
                    "date": _text(r["date_text"]),
                    "year": int(r["year"]),
                    "precision": r["precision"],
                    "event_type": r["event_type"],
                    "jurisdiction": _text(r["jurisdiction"]),
                    "label": event_label(r),
                    "source_key": r["source_key"],
                }
            )
    columns = ["drug_id", "date", "year", "precision", "event_type", "jurisdiction", "label", "source_key"]
    return pd.DataFrame(out, columns=columns).astype({"year": "Int64"})


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
            end = r["usual_high"]
            if _n(r["max"]) is not None:
                ax.plot([r["max"]] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
                end = max(end, r["max"])
            ax.annotate(
                _label_dose_text(r),
                (end, y),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=figures.SMALL,
            )
        else:
            ax.text(
                0.01,
                y,
                "no labelled dose (NA)",
                fontsize=figures.SMALL,
                style="italic",
                va="center",
                transform=left_edge,
            )
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
            ax.annotate(
                _study_dose_text(g),
                (g["high"], at),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=figures.SMALL,
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
    return figures.svg(fig, dose_rows(lab, groups))


def _label_dose_text(r) -> str:
    """The text beside a drug's labelled dose: "label: usual 30–75 mg, max 100 mg"."""
    single = r["usual_low"] == r["usual_high"]
    usual = _mg(r["usual_low"]) if single else f"{_mg(r['usual_low'])}–{_mg(r['usual_high'])}"
    return f"label: usual {usual} mg" + (f", max {_mg(r['max'])} mg" if _n(r["max"]) is not None else "")


def _study_dose_text(g) -> str:
    """The text beside a mark of study doses: "3 arms, 30–60 mg: within labelled range"."""
    arms = f"{g['arms']} arm" + ("s" if g["arms"] != 1 else "")
    dose = _mg(g["low"]) if g["low"] == g["high"] else f"{_mg(g['low'])}–{_mg(g['high'])}"
    return f"{arms}, {dose} mg: {g['flag']}"


def dose_rows(lab, groups):
    """The dose chart's rows, as drawn: per drug, its label's usual daily dose and maximum (or that the label gives
    none), then each mark of its study doses (:func:`dose_groups`: kind of dose, lowest and highest dose, arms),
    each with the text written beside it."""
    import pandas as pd

    rows = []
    for _, r in lab.iterrows():
        d = r["drug_id"]
        if _n(r["usual_low"]) is None:
            rows.append({"drug_id": d, "shown": "label dose", "label": "no labelled dose (NA)"})
        else:
            high_max = {
                "low": r["usual_low"],
                "high": r["usual_high"],
                "max": r["max"] if _n(r["max"]) is not None else None,
            }
            rows.append({"drug_id": d, "shown": "label dose", **high_max, "label": _label_dose_text(r)})
        for _, g in groups[groups["drug_id"] == d].iterrows():
            rows.append(
                {
                    "drug_id": d,
                    "shown": f"study dose: {g['flag']}",
                    "low": g["low"],
                    "high": g["high"],
                    "arms": g["arms"],
                    "label": _study_dose_text(g),
                }
            )
    out = pd.DataFrame(rows, columns=["drug_id", "shown", "low", "high", "max", "arms", "label"])
    out["arms"] = out["arms"].astype("Int64")
    return out


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
    sourced = v[v["value"].notna()]
    out["pk_multi_source"] = int((sourced.groupby(["drug_id", "field"]).size() > 1).sum())
    ident = identity()
    out["id_checked"] = int((ident["check"] == "agrees").sum())
    out["id_unchecked"] = int(ident["check"].str.startswith("NA").sum())
    out["id_unchecked_names"] = ", ".join(ident.loc[ident["check"].str.startswith("NA"), "drug_id"])
    out["pk_items"] = len(PK_DOSING)
    flags = study_doses(with_labels=False)["flag"]
    out["dose_above"] = int((flags == "above labelled range").sum())
    out["dose_below"] = int((flags == "below usual range").sum())
    out["dose_arms"] = int((flags != "dose NA").sum())
    return out | guide_dose_numbers()


def guide_dose_numbers(drug: str = "eperisone") -> dict:
    """The guide's claimed regimen for ``drug`` against the label's usual daily dose (for the prose)."""
    arms = datapkg.load("arms")
    arm = arms[(arms["source_key"] == datapkg.GUIDE) & (arms["drug_id"] == drug)].iloc[0]
    usual = label_ranges().set_index("drug_id").loc[drug, "usual_high"]
    daily = float(arm["dose_max_mg_per_day"])
    return {
        "guide_epe_regimen": str(arm["dose_text"]).replace(" (as claimed)", ""),
        "guide_epe_daily": f"{daily:g} mg/day",
        "label_epe_daily": f"{usual:g} mg/day",
        "guide_epe_times": f"{daily / usual:g}",
    }


PHARMACIST = [  # what the pharmacist table shows, in order (labels: FIELD_LABELS)
    "boxed_warning",
    "contraindications",
    "renal_impairment",
    "hepatic_impairment",
    "elderly",
    "interaction_alcohol",
    "interaction_opioids",
    "interaction_cns_depressants",
    "interaction_cyp",
    "half_life",
    "active_metabolites",
    "active_metabolite_half_life",
    "populations_not_established",
]


def label_warnings(drugs: list[str]) -> dict[str, str]:
    """Each drug's key label warning: its boxed warning, else its first listed warning (the text before any
    parenthesis); drugs with neither are left out."""
    v, out = values(), {}
    for drug in drugs:
        for field in ("boxed_warning", "warnings"):
            row = first(drug, field, v, missing=True)
            if row is not None and not _isna_text(row["value"]) and not str(row["value"]).startswith("none"):
                out[drug] = str(row["value"]).split(" (")[0]
                break
    return out


def key_points():
    """The opening of the profiles chapter (numbers glued by :func:`profile_numbers`; warnings from the labels)."""
    g = render.glued
    warnings = label_warnings(DRUGS)
    return render.key_points(
        [
            f"**Lanperisone is barely documented.** Pharmacokinetic and dosing items with a source: "
            f"{g('pk_lan_sourced')}; unknown (NA): {g('pk_lan_na')}. It has no label.",
            f"**Doses in trials.** {g('dose_above')} of {g('dose_arms')} study arms with a recorded daily dose lie "
            f"above the labelled range and {g('dose_below')} below the usual range.",
            "**Key label warnings.** "
            + "; ".join(f"{d.capitalize()}: {render.escape(w)}" for d, w in warnings.items())
            + ".",
            f"**Identity checked.** RDKit's formula and weight agree with the published values for {g('id_checked')} "
            f"drugs; {g('id_unchecked')} has no published value to check.",
        ]
    )


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
    for field in PHARMACIST:
        row = {"item": field_label(field, v)}
        for drug in DRUGS:
            cell = first(drug, field, v, missing=True)
            if cell is None or _isna_text(cell["value"]):
                row[drug] = "NA"
            else:
                keys = ",".join(dict.fromkeys(k.strip() for k in str(cell["source_key"]).split(";")))
                row[drug] = f"{render.escape(cell['value'])} {{cite:p}}`{keys}`"
        rows.append(row)
    render.table(
        pd.DataFrame(rows),
        name,
        "What to check first, per drug: special populations, interactions and active metabolites (labels first)",
        {"item": "Item", **{d: d.capitalize() for d in DRUGS}},
        myst_cols=tuple(DRUGS),
        per_drug=True,
    )


def _isna_text(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) in ("NA", "<NA>")
