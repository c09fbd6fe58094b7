"""Drug profiles: computed formula/weight equal the published values, every value has a source, NA stays NA,
study doses outside the label are flagged, and the glued numbers are recomputed independently."""

from __future__ import annotations

import pytest

from conftest import ROOT
from recompute import DRUGS, expected_profile_numbers, rows, value
from relaxbook import profiles, render
from relaxbook.data import bib


@pytest.mark.parametrize("drug", DRUGS)
def test_computed_formula_and_weight_equal_the_published_values(drug):
    from rdkit import Chem
    from rdkit.Chem import Descriptors, rdMolDescriptors

    smiles, formula, mw = value(drug, "smiles"), value(drug, "formula_published"), value(drug, "mw_published_g_per_mol")
    mol = Chem.MolFromSmiles(smiles)
    assert mol is not None, smiles
    if formula == "NA":
        assert drug == "lanperisone" and mw == "NA"  # the only drug without a published value: stays NA
        return
    assert rdMolDescriptors.CalcMolFormula(mol) == formula
    assert abs(Descriptors.MolWt(mol) - float(mw)) <= 0.01
    row = profiles.identity().set_index("drug_id").loc[drug]
    assert row["check"] == "agrees"


def test_identity_check_reports_a_mismatch(monkeypatch):
    real = profiles.compute_identity
    monkeypatch.setattr(profiles, "compute_identity", lambda s: real("CCO") if s and "Cl" in s else real(s))
    checks = profiles.identity().set_index("drug_id")["check"]
    assert checks["baclofen"] == "MISMATCH" and checks["tolperisone"] == "agrees"


def test_lanperisone_smiles_is_the_published_r_enantiomer():
    from rdkit import Chem

    mol = Chem.MolFromSmiles(value("lanperisone", "smiles"))
    assert Chem.FindMolChiralCenters(mol, useLegacyImplementation=False) == [(1, "R")]
    assert "(R)" in value("lanperisone", "stereochemistry")


def test_every_drug_has_every_profile_field():
    """Every field of the vocabulary (datapackage.json), for every drug: NA with a note where no source gives it."""
    import json

    package = json.loads((ROOT / "data" / "datapackage.json").read_text())
    schema = next(r for r in package["resources"] if r["name"] == "drug_values")["schema"]
    wanted = set(next(f for f in schema["fields"] if f["name"] == "field")["constraints"]["enum"])
    assert {"inn", "half_life", "renal_impairment", "interaction_opioids", "active_metabolite_half_life"} <= wanted
    fields = {(r["drug_id"], r["field"]) for r in rows("drug_values")}
    for d in DRUGS:
        assert {f for dd, f in fields if dd == d} == wanted, d


def test_no_value_in_any_profile_table_or_figure_without_a_source():
    keys = bib.keys()
    for name in ("drug_values", "regulatory_events", "preclinical_results", "arms"):
        for r in rows(name):
            assert r["source_key"] != "NA" and all(k in keys for k in r["source_key"].split(";")), (name, r)
    for _, r in profiles.identity().iterrows():
        assert r["source_key"]
    assert profiles.label_ranges()["source_key"].str.len().gt(0).all()


def test_na_stays_na_in_data_and_tables():
    for r in rows("drug_values"):
        if r["value"] == "NA":
            assert r["value_low"] == r["value_high"] == "NA", r
            assert r["verification"] in ("not found", "partly verified"), r
    v = profiles.values("pharmacokinetics")
    lan = v[v["drug_id"] == "lanperisone"]
    text = render.markdown_table(lan, {"field": "Item", "value": "Value"})
    assert text.count("| NA |") == int(lan["value"].isna().sum()) >= 4
    lab = profiles.label_ranges().set_index("drug_id")
    assert lab.loc["lanperisone"].drop("source_key").isna().all()


@pytest.mark.parametrize(
    "args,expected",
    [
        ((450, 450, 150, 150, None), "above labelled range"),
        ((300, 900, 150, 450, 450), "above labelled range"),
        ((25, 60, 40, 80, 80), "below usual range"),
        ((10, 40, 6, 40, None), "within labelled range"),
        ((200, 200, None, None, None), "no labelled range"),
        ((None, None, 40, 80, 80), "dose NA"),
    ],
)
def test_classify_dose(args, expected):
    assert profiles.classify_dose(*args) == expected


def test_guides_eperisone_450_mg_is_flagged_against_the_150_mg_label():
    d = profiles.study_doses().set_index("arm_id")
    assert d.loc["guide-lan-epe-b", "flag"] == "above labelled range"
    assert d.loc["stamenova-a", "flag"] == "above labelled range"
    assert d.loc["chandanwale2011-a", "flag"] == "within labelled range"


def test_preclinical_table_is_labelled_preclinical_and_keeps_the_missing_tolperisone_comparison():
    pre = rows("preclinical_results")
    assert {r["study_id"] for r in pre} == {"sakitama1997"}
    tol = [r for r in pre if r["comparator"] == "tolperisone"]
    assert tol and tol[0]["relative_potency"] == "NA" and tol[0]["verification"] == "not found"
    assert "PRECLINICAL" in (ROOT / "relaxbook" / "profiles.py").read_text()


# --- independent recomputation of the glued numbers (used by tests/test_site.py) -------------------------------


def test_profile_numbers_equal_the_independent_recomputation():
    assert profiles.profile_numbers() == expected_profile_numbers()


def test_profile_charts_keep_their_na_notes_on_their_row_inside_the_plot_and_use_plain_dose_numbers(monkeypatch):
    from relaxbook import figures
    from relaxbook.data import datapkg

    monkeypatch.setattr(datapkg, "_declared", None)
    figs = []
    monkeypatch.setattr(figures, "svg", lambda fig, rows: figs.append(fig))
    profiles.dose_figure()
    profiles.timeline_figure()
    events = datapkg.load("regulatory_events")
    expected = [
        set(profiles.label_ranges().query("usual_low.isna()")["drug_id"]),  # no labelled dose
        set(profiles.DRUGS) - set(events.loc[events["year"].notna(), "drug_id"]),
    ]  # no dated event
    for fig, drugs in zip(figs, expected):
        fig.canvas.draw()
        ax = fig.axes[0]
        box = ax.get_window_extent()
        rows = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
        notes = [t for t in ax.texts if "(NA)" in t.get_text()]
        assert len(notes) == len(drugs)
        for note, drug in zip(notes, sorted(drugs, key=profiles.DRUGS.index)):
            b = note.get_window_extent()
            assert box.x0 <= b.x0 and box.y0 <= b.y0 and b.y1 <= box.y1, note.get_text()
            y = ax.transData.inverted().transform(((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2))[1]
            assert abs(y - rows[drug]) < 0.25, (note.get_text(), drug)
    ticks = [t.get_text() for t in figs[0].axes[0].get_xticklabels() if t.get_text()]
    assert ticks and not any("$" in t for t in ticks)
