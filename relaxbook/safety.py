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


def adverse_effects_figure():
    """Bar chart: adverse-effect statements per drug, split by whether a frequency is known."""
    figures.use_style()
    import matplotlib.pyplot as plt

    ae = datapkg.load("adverse_effects")
    drugs = datapkg.load("drugs")["drug_id"].tolist()
    known = ae["frequency_pct_max"].notna()
    with_freq = [int((known & (ae["drug_id"] == d)).sum()) for d in drugs]
    without = [int((~known & (ae["drug_id"] == d)).sum()) for d in drugs]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(drugs, with_freq, color=figures.PALETTE[0], label="frequency known")
    ax.barh(drugs, without, left=with_freq, color=figures.PALETTE[1], hatch="//", label="frequency NA")
    for i, (a, b) in enumerate(zip(with_freq, without, strict=True)):
        ax.text(a + b + 0.05, i, f"{a + b}", va="center")
    ax.set_xlabel("adverse-effect statements in data/adverse_effects.csv")
    ax.invert_yaxis()
    ax.legend(frameon=False, loc="lower right")
    return figures.svg(fig, frequency_counts(drugs, with_freq, without))


def frequency_counts(drugs, with_freq, without):
    """The adverse-effects chart's rows: statements per drug, with and without a known frequency."""
    import pandas as pd

    return pd.DataFrame(
        {
            "drug_id": drugs,
            "frequency_known": with_freq,
            "frequency_na": without,
            "statements": [a + b for a, b in zip(with_freq, without, strict=True)],
        }
    )


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
