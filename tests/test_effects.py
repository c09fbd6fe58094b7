"""Effect sizes: known answers from statsmodels' reference values (R metafor/meta), NA never imputed, excluded
studies never in an estimate, and the forest plot shows exactly the rows with complete statistics."""

from __future__ import annotations

import csv
import math

import pytest
from numpy.testing import assert_allclose
from statsmodels.stats.tests.results import results_meta  # a missing test-data module fails loudly, never skips

from conftest import ROOT
from recompute import expected_effect_numbers
from relaxbook import effects, render
from relaxbook.data import bib

# dat.fine1993 columns nei, nci, e2i, c2i as in statsmodels/stats/tests/test_meta.py (perktold2020metaanalysis)
FINE1993 = [
    (19, 22, 11, 12),
    (34, 35, 18, 12),
    (72, 68, 21, 15),
    (22, 20, 14, 5),
    (70, 32, 42, 13),
    (183, 94, 80, 33),
    (26, 50, 13, 18),
    (61, 55, 37, 30),
    (36, 25, 23, 12),
    (45, 35, 19, 14),
    (246, 208, 106, 76),
    (386, 141, 170, 46),
    (59, 32, 34, 17),
    (45, 15, 18, 3),
    (14, 18, 13, 14),
    (26, 19, 12, 10),
    (74, 75, 42, 40),
]
# Kacker (2004) example (results_meta.py header): effects and variances
KACKER_Y = [61.0, 61.4, 62.21, 62.3, 62.34, 62.6, 62.7, 62.84, 65.9]
KACKER_V = [0.2025, 1.2100, 0.0900, 0.2025, 0.3844, 0.5625, 0.0676, 0.0225, 1.8225]


def rows(name):
    with open(ROOT / "data" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- known answers ------------------------------------------------------------------------------------------


def test_log_risk_ratio_equals_metafor_escalc_on_fine1993():
    eff = [effects.log_risk_ratio(e1, n1, e2, n2)[:2] for n1, n2, e1, e2 in FINE1993]
    assert_allclose([e for e, _ in eff], results_meta.eff_prop1.y_rr, rtol=1e-12)
    assert_allclose([v for _, v in eff], results_meta.eff_prop1.v_rr, rtol=1e-12)


def test_random_effects_pool_equals_metafor_dersimonian_laird_on_kacker_example():
    res, ref = effects.pool(KACKER_Y, KACKER_V), results_meta.exk1_dl
    assert res["estimate"] == pytest.approx(ref.b, abs=1e-10)
    assert res["ci_low"] == pytest.approx(ref.ci_lb, abs=1e-8)
    assert res["ci_high"] == pytest.approx(ref.ci_ub, abs=1e-8)
    assert res["tau2"] == pytest.approx(ref.tau2, abs=1e-10)
    assert res["i2_pct"] == pytest.approx(ref.I2, abs=1e-8)
    assert res["q"] == pytest.approx(ref.QE, abs=1e-8)


def test_smd_equals_r_meta_on_the_applied_meta_analysis_example():
    # Carroll and Donat rows of the six-study example; R meta::metacont TE and seTE^2 (statsmodels test_meta.py)
    assert effects.smd(94, 22, 60, 92, 20, 60) == pytest.approx((0.09452437336063831, 0.03337182573880991), rel=1e-12)
    assert effects.smd(94, 19, 200, 82, 17, 200) == pytest.approx((0.66438509989113559, 0.01055724834741877), rel=1e-12)


def test_mean_difference_and_ci_follow_the_handbook_formulas():
    md, var = effects.mean_difference(94, 22, 60, 92, 20, 60)
    assert (md, var) == pytest.approx((2.0, (22**2 + 20**2) / 60))
    low, high = effects.ci(md, var)
    assert (low, high) == pytest.approx((2 - 1.959964 * math.sqrt(var), 2 + 1.959964 * math.sqrt(var)), rel=1e-6)


def test_zero_cell_gets_half_added_and_says_so():
    lr, var, zero = effects.log_risk_ratio(8, 337, 0, 78)
    assert zero and math.exp(lr) == pytest.approx((8.5 / 338) / (0.5 / 79))


# --- rules on the book's data -----------------------------------------------------------------------------------


def test_computed_risk_ratios_equal_a_hand_calculation_from_the_csv():
    c = effects.forest_rows().set_index("outcome")
    assert c.loc["any adverse event", "estimate"] == pytest.approx((61 / 337) / (11 / 78))
    se = math.sqrt(1 / 24 - 1 / 337 + 1 / 3 - 1 / 78)
    assert c.loc["headache", "ci_high"] == pytest.approx(
        math.exp(math.log((24 / 337) / (3 / 78)) + 1.959964 * se), rel=1e-6
    )


def test_events_back_calculated_only_when_exactly_one_integer_gives_the_percentage():
    checked = 0
    for r in rows("outcome_stats"):
        if r["derivation"] != "reported":
            n, pct = int(r["n"]), float(r["percent"])
            places = len(r["percent"].partition(".")[2])  # the precision the source reported
            fits = [k for k in range(n + 1) if round(100 * k / n, places) == round(pct, places)]
            assert fits == [int(r["events"])], r
            checked += 1
    assert checked > 0, "no back-calculated row left: the rule is no longer exercised"


def test_unstated_dispersion_type_or_missing_dispersion_gives_na_never_an_estimate():
    c = effects.contrasts()
    stam = c[(c["study_id"] == "stamenova") & (c["effect_measure"] == "MD")].iloc[0]
    assert stam["reason"] == "dispersion type (SD or SE) not stated" and stam["status"] == "not computed"
    thi = c[c["study_id"] == "thiyagarajan2024"]
    assert (thi["reason"] == "no dispersion reported").all()
    assert c.loc[c["status"] != "computed", "estimate"].isna().all()


def test_excluded_studies_are_never_in_an_estimate_even_with_complete_statistics(monkeypatch):
    real = effects.stats

    def with_sd():  # pretend the retracted study reported SDs: it must still be excluded
        st = real()
        luo = st["study_id"] == "luo2017"
        st.loc[luo, "dispersion_type"] = "SD"
        return st

    monkeypatch.setattr(effects, "stats", with_sd)
    c = effects.contrasts()
    luo = c[c["study_id"] == "luo2017"]
    assert len(luo) == 3 and (luo["status"] == "not computed").all()
    assert luo["reason"].str.startswith("study excluded").all()
    excluded = {r["study_id"] for r in rows("studies") if r["inclusion"] == "excluded"}
    assert not set(effects.forest_rows()["study_id"]) & excluded
    assert not set(effects.pooling().get("comparison", [])) & {"baclofen vs tolperisone"}


def test_forest_plot_rows_equal_the_rows_with_complete_statistics():
    c = effects.contrasts()
    complete = c[(c["status"] == "computed") & ~c["excluded"]]
    fr = effects.forest_rows()
    assert list(fr["outcome"]) == list(complete["outcome"]) and len(fr) == len(complete) > 0
    fig = effects.forest_axes()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert len(labels) == len(fr)
    # each row's estimate and CI is written beside it; axis labels are plain numbers (no mathtext like 10^0)
    written = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {
        f"{e:.2f} ({lo:.2f} to {hi:.2f})" for e, lo, hi in zip(fr["estimate"], fr["ci_low"], fr["ci_high"])
    } <= written
    fig.canvas.draw()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and not any("$" in t for t in ticks) and "1" in ticks
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_pooling_only_with_two_studies_sharing_comparison_and_outcome():
    p = effects.pooling()
    assert (p["k_studies"] < 2).all() and p["estimate"].isna().all()
    assert p["reason"].str.contains("no pooling possible").all()


def test_every_statistic_has_a_source_and_na_renders_as_na():
    keys = bib.keys()
    for r in rows("outcome_stats"):
        assert r["source_key"] in keys
    c = effects.contrasts()
    c["effect"] = ["NA" if s != "computed" else "x" for s in c["status"]]
    text = render.markdown_table(
        c, {"label": "Study", "effect": "Effect", "source_key": "Source"}, cite_cols=("source_key",)
    )
    assert text.count("| NA |") == int((c["status"] != "computed").sum())
    assert "{cite:p}`" in text


# --- independent recomputation of the glued numbers (used by tests/test_site.py) -------------------------------


def test_effect_numbers_equal_the_independent_recomputation():
    assert effects.effect_numbers() == expected_effect_numbers()
