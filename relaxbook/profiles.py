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
    """RDKit grid of the five structures (free bases), labelled with the INN."""
    from rdkit import Chem

    ident = identity()
    mols = [Chem.MolFromSmiles(s) for s in ident["smiles"]]
    return figures.molecule_grid(
        mols,
        [f"{d} ({f})" for d, f in zip(ident["drug_id"], ident["formula_computed"], strict=True)],
        ident[["drug_id", "formula_computed", "smiles"]],
        per_row=5,
        size=(260, 220),
    )


def timeline_figure():
    """Regulatory events per drug on a time axis; a decade-precision event is drawn as a span."""
    figures.use_style()
    import matplotlib.pyplot as plt

    ev = datapkg.load("regulatory_events")
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    markers = {
        "first approval": ("o", figures.PALETTE[0]),
        "launch": ("^", figures.PALETTE[2]),
        "restriction": ("X", figures.PALETTE[3]),
        "re-examination": ("P", figures.PALETTE[4]),
        "boxed warning": ("D", figures.PALETTE[1]),
    }
    for i, d in enumerate(DRUGS):
        for _, r in ev[(ev["drug_id"] == d) & ev["year"].notna()].iterrows():
            marker, colour = markers[r["event_type"]]
            if r["precision"] == "decade":
                ax.plot([r["year"], r["year"] + 9], [i, i], color=colour, linewidth=6, alpha=0.6, solid_capstyle="butt")
            ax.scatter(
                r["year"],
                i,
                marker=marker,
                color=colour,
                s=70,
                zorder=3,
                edgecolor="black",
                linewidth=0.5,
                label=r["event_type"],
            )
        if ev[(ev["drug_id"] == d) & ev["year"].notna()].empty:
            ax.text(1957, i, "no approval or regulatory event found (NA)", va="center", fontsize=9, style="italic")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), uniq.keys(), frameon=False, fontsize=9, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_yticks(range(len(DRUGS)), DRUGS)
    ax.set_ylim(len(DRUGS) - 0.4, -0.6)  # top to bottom, with room around the first and last rows
    ax.set_xlim(1955, 2026)
    ax.set_xlabel("year")
    ax.grid(axis="x", color="#dddddd")
    drawn = ev[ev["year"].notna() & ev["drug_id"].isin(DRUGS)]
    drawn = drawn.sort_values("drug_id", key=lambda s: s.map(DRUGS.index), kind="stable")
    return figures.svg(fig, drawn[["drug_id", "year", "precision", "event_type", "jurisdiction", "source_key"]])


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


def dose_figure():
    """Labelled usual range (bar) and maximum (tick) per drug, with the study arms' daily doses overlaid: one marker
    pair per distinct dose range and flag, labelled "xN" when N arms share it (readable at any number of arms)."""
    figures.use_style()
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    lab = label_ranges()
    doses = study_doses(with_labels=False)  # the chart shows no study names: a label edit does not redraw it
    doses = doses[doses["flag"] != "dose NA"]
    doses = (
        doses.groupby(["drug_id", "dose_min_mg_per_day", "dose_max_mg_per_day", "flag"], dropna=False, sort=False)
        .size()
        .reset_index(name="arms")
    )
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for i, r in lab.iterrows():
        if _n(r["usual_low"]) is not None:
            ax.plot(
                [r["usual_low"], r["usual_high"]],
                [i, i],
                color="#9ecae1",
                linewidth=14,
                solid_capstyle="butt",
                marker="s",
                markersize=13,
                label="usual daily dose (label)",
            )  # marker: a single-dose label shows
        else:
            ax.text(
                0.01,
                i,
                "no labelled dose (NA)",
                fontsize=9,
                style="italic",
                va="center",
                transform=blended_transform_factory(ax.transAxes, ax.transData),
            )  # at the left, on its row
        if _n(r["max"]) is not None:
            ax.plot([r["max"]] * 2, [i - 0.3, i + 0.3], color="black", linewidth=2, label="maximum daily dose (label)")
    styles = {
        "within labelled range": ("o", figures.PALETTE[2]),
        "above labelled range": ("X", figures.PALETTE[3]),
        "below usual range": ("v", figures.PALETTE[1]),
        "no labelled range": ("s", figures.PALETTE[4]),
    }
    order = {d: i for i, d in enumerate(lab["drug_id"])}
    for k, (_, r) in enumerate(doses.iterrows()):
        y = order[r["drug_id"]] + 0.18 + 0.08 * (k % 4)
        marker, colour = styles[r["flag"]]
        ax.plot([r["dose_min_mg_per_day"], r["dose_max_mg_per_day"]], [y, y], color=colour, linewidth=1.5)
        ax.scatter(
            [r["dose_min_mg_per_day"], r["dose_max_mg_per_day"]],
            [y, y],
            marker=marker,
            color=colour,
            s=45,
            zorder=3,
            edgecolor="black",
            linewidth=0.4,
            label=f"study dose: {r['flag']}",
        )
        if r["arms"] > 1:
            ax.annotate(
                f"\u00d7{r['arms']}",
                (r["dose_max_mg_per_day"], y),
                xytext=(5, -3),
                textcoords="offset points",
                fontsize=7.5,
            )
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    ax.legend(uniq.values(), uniq.keys(), frameon=False, fontsize=8.5, loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_yticks(range(len(lab)), lab["drug_id"])
    ax.set_ylim(len(lab) - 0.35, -0.6)  # top to bottom; study doses sit just below their drug's row
    ax.set_xscale("log")
    figures.plain_numbers(ax.xaxis)
    ax.set_xlabel("daily dose, mg/day (log scale)")
    return figures.svg(fig, dose_rows(lab, doses))


def dose_rows(lab, doses):
    """The dose chart's rows: each drug's labelled usual range and maximum (where the label gives them), then each
    distinct study dose range with its flag and the number of arms sharing it."""
    import pandas as pd

    rows = []
    for _, r in lab.iterrows():
        if _n(r["usual_low"]) is not None:
            rows.append(
                {
                    "drug_id": r["drug_id"],
                    "shown": "usual daily dose (label)",
                    "low": r["usual_low"],
                    "high": r["usual_high"],
                }
            )
        if _n(r["max"]) is not None:
            rows.append(
                {"drug_id": r["drug_id"], "shown": "maximum daily dose (label)", "low": r["max"], "high": r["max"]}
            )
    for _, r in doses.iterrows():
        rows.append(
            {
                "drug_id": r["drug_id"],
                "shown": f"study dose: {r['flag']}",
                "low": r["dose_min_mg_per_day"],
                "high": r["dose_max_mg_per_day"],
                "arms": r["arms"],
            }
        )
    return pd.DataFrame(rows, columns=["drug_id", "shown", "low", "high", "arms"])


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
