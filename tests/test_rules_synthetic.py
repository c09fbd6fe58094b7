"""Rules that today's data do not exercise, checked on small synthetic data packages (scratch copies of data/ with
a few rows changed), so that a broken variant of each rule fails here even while the real data stay clean."""

from __future__ import annotations

import csv
import math

import pytest

from conftest import rewrite


def test_a_formula_looking_text_cell_is_neutralised_in_the_download(data, tmp_path):
    from relaxbook.ext import site

    def formula(rows):
        rows[0]["effect"] = '=HYPERLINK("http://example.invalid","click")'
        rows[0]["frequency_pct_min"] = "10"
        return rows

    rewrite(data / "adverse_effects.csv", formula)
    site.write_downloads(tmp_path / "out", None)
    with open(tmp_path / "out" / site.DATA_DIR / "adverse_effects.csv", newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    assert first["effect"] == '\'=HYPERLINK("http://example.invalid","click")'
    assert first["frequency_pct_min"] == "10"  # a numeric field is left as it is


def _stats(sd_type):
    def change(rows):
        pair = [r for r in rows if r["study_id"] == "stamenova"][:2]
        for r, mean, disp, n in zip(pair, ("10", "6"), ("4", "3"), ("50", "40"), strict=True):
            r.update(mean=mean, dispersion=disp, dispersion_type=sd_type, n=n, measure="final value")
        return rows

    return change


@pytest.mark.parametrize("kind", ["SD", "SE"])
def test_a_mean_difference_uses_the_sd_and_converts_an_se_first(data, kind):
    from relaxbook import effects

    rewrite(data / "outcome_stats.csv", _stats(kind))
    row = effects.contrasts().query("study_id == 'stamenova' and status == 'computed'").iloc[0]
    sd = (4.0, 3.0) if kind == "SD" else (4.0 * math.sqrt(50), 3.0 * math.sqrt(40))
    assert row["estimate"] == pytest.approx(4.0)
    assert row["variance"] == pytest.approx(sd[0] ** 2 / 50 + sd[1] ** 2 / 40)


@pytest.mark.parametrize(
    "start, downgrade, level",
    [("high", 0, "high"), ("high", -1, "moderate"), ("high", -2, "low"), ("low", 0, "low"), ("low", -2, "very low")],
)
def test_certainty_starts_where_the_design_says_and_each_downgrade_counts(data, start, downgrade, level):
    from relaxbook import certainty

    def one(rows):
        row = rows[0]
        row.update(
            start_level=start,
            risk_of_bias=str(downgrade),
            inconsistency="0",
            indirectness="0",
            imprecision="0",
            publication_bias="0",
        )
        return rows

    rewrite(data / "certainty.csv", one)
    assert certainty.certainty_rows()[0]["level"] == level


def test_participants_count_only_the_arms_compared_and_a_crossover_once(data):
    from relaxbook import certainty

    def extra_arm(rows):
        arm = dict(next(r for r in rows if r["study_id"] == "goyal2016"))
        rows.append({**arm, "arm_id": "goyal2016-x", "drug_id": "NA", "intervention": "physiotherapy", "n_arm": "5"})
        return [
            dict(r, n_arm="30") if r["study_id"] == "goyal2016" and r["arm_id"] != "goyal2016-x" else r for r in rows
        ]

    rewrite(data / "arms.csv", extra_arm)
    assert certainty.participants(["goyal2016"], ["baclofen", "diazepam"]) == [60]  # not 65: physio is not compared
    assert certainty.participants(["roussan1985"], ["baclofen", "diazepam"]) == [13]  # crossover: 13, not 26
