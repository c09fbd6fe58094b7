"""Effect sizes with 95% CIs from ``data/outcome_stats.csv``, using ``statsmodels.stats.meta_analysis``.

Rules (issue 5, CONTRIBUTING.md):

* each experimental arm is paired with the comparator arm of the same study, outcome and timepoint;
* continuous outcomes give a mean difference (MD) only when both arms report a mean, a dispersion whose type is
  stated (SD, or SE converted exactly as SD = SE * sqrt(n)) and n; otherwise the row stays NA with the reason;
* event outcomes give a risk ratio (RR) when both arms report events and n (0.5 is added to every cell only when a
  cell is zero, and the row says so);
* excluded studies (``studies.inclusion == "excluded"``: retracted, duplicate, not found) are never in an estimate;
* pooling (random effects, DerSimonian-Laird) only when at least two studies share comparison, outcome, scale and
  effect measure; otherwise the reason is given.
"""

from __future__ import annotations

import math

from relaxbook import figures, render
from relaxbook.data import datapkg
from relaxbook.studies import short_labels

Z = 1.959963984540054  # standard normal 97.5th percentile


# --- effect sizes (pure functions, unit-tested against published values) -------------------------------------


def mean_difference(m1, sd1, n1, m2, sd2, n2) -> tuple[float, float]:
    """MD = m1 - m2 and its variance sd1²/n1 + sd2²/n2 (Cochrane Handbook, chapter 6)."""
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def smd(m1, sd1, n1, m2, sd2, n2) -> tuple[float, float]:
    """Bias-corrected standardised mean difference (Hedges' g) and its variance, by statsmodels."""
    from statsmodels.stats.meta_analysis import effectsize_smd

    eff, var = effectsize_smd(m1, sd1, n1, m2, sd2, n2)
    return float(eff), float(var)


def log_risk_ratio(e1, n1, e2, n2) -> tuple[float, float, bool]:
    """log RR of arm 1 vs arm 2 and its variance, by statsmodels; 0.5 added to all cells only if one is zero."""
    import numpy as np
    from statsmodels.stats.meta_analysis import effectsize_2proportions

    zero = min(e1, e2, n1 - e1, n2 - e2) == 0
    eff, var = effectsize_2proportions(
        np.array([e1]),
        np.array([n1]),
        np.array([e2]),
        np.array([n2]),
        statistic="risk-ratio",
        zero_correction=0.5 if zero else None,
    )
    return float(eff[0]), float(var[0]), zero


def ci(estimate: float, variance: float) -> tuple[float, float]:
    se = math.sqrt(variance)
    return estimate - Z * se, estimate + Z * se


def pool(effects, variances) -> dict:
    """Random-effects pooled estimate (DerSimonian-Laird) with 95% CI, I² (%) and τ², by statsmodels."""
    import numpy as np
    from statsmodels.stats.meta_analysis import combine_effects

    res = combine_effects(np.asarray(effects, float), np.asarray(variances, float), method_re="dl")
    low, high = res.conf_int(use_t=False)[1]
    return {
        "estimate": float(res.mean_effect_re),
        "ci_low": float(low),
        "ci_high": float(high),
        "i2_pct": float(res.i2 * 100),
        "tau2": float(res.tau2),
        "k": int(res.k),
        "q": float(res.q),
    }


# --- from data ------------------------------------------------------------------------------------------------


def _num(value):
    """A float, or None for NA."""
    import pandas as pd

    return None if pd.isna(value) else float(value)


def _text(value):
    import pandas as pd

    return None if pd.isna(value) else str(value)


def _reason_continuous(e, c) -> str | None:
    if e["study_excluded"]:
        return f"study excluded ({e['exclusion_reason']})"
    for arm, name in ((e, "experimental"), (c, "comparator")):
        if _num(arm["mean"]) is None:
            return f"{name} arm mean not reported"
    for arm in (e, c):
        if _num(arm["dispersion"]) is None:
            return "no dispersion reported"
    for arm in (e, c):
        if _text(arm["dispersion_type"]) not in ("SD", "SE"):
            return "dispersion type (SD or SE) not stated"
    for arm in (e, c):
        if _num(arm["n"]) is None:
            return "arm size not reported"
    return None


def _reason_events(e, c) -> str | None:
    if e["study_excluded"]:
        return f"study excluded ({e['exclusion_reason']})"
    for arm, name in ((e, "experimental"), (c, "comparator")):
        if _num(arm["n"]) is None:
            return f"{name} arm size not reported" + (" (percentages only)" if _num(arm["percent"]) is not None else "")
        if _num(arm["events"]) is None:
            return f"{name} arm event count not reported"
    return None


def stats():
    """outcome_stats joined with study comparison and inclusion."""
    st = datapkg.load("outcome_stats")
    studies = datapkg.load("studies").set_index("study_id")
    st = st.assign(
        comparison=st["study_id"].map(studies["comparison"]),
        label=st["study_id"].map(studies["label"]),
        study_excluded=st["study_id"].map(studies["inclusion"]).eq("excluded"),
        exclusion_reason=st["study_id"].map(studies["exclusion_reason"]),
    )
    return st


def contrasts():
    """One row per experimental-vs-comparator pair, with the effect size or NA and the reason it is NA."""
    import pandas as pd

    st = stats()
    rows = []
    for _, e in st[st["role"] == "experimental"].iterrows():
        same = (st["study_id"] == e["study_id"]) & (st["outcome"] == e["outcome"]) & (st["role"] == "comparator")
        same &= st["timepoint"].fillna("NA") == ("NA" if pd.isna(e["timepoint"]) else e["timepoint"])
        comp = st[same]
        row = {
            "study_id": e["study_id"],
            "label": e["label"],
            "comparison": e["comparison"],
            "outcome": e["outcome"],
            "scale_id": e["scale_id"],
            "timepoint": e["timepoint"],
            "measure": e["measure"],
            "experimental_arm": e["arm_id"],
            "comparator_arm": None,
            "effect_measure": None,
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "log_estimate": None,
            "variance": None,
            "status": "not computed",
            "reason": None,
            "note": None,
            "source_key": e["source_key"],
            "excluded": bool(e["study_excluded"]),
        }
        if len(comp) != 1:
            row["reason"] = "no single comparator arm for this outcome and timepoint"
            rows.append(row)
            continue
        c = comp.iloc[0]
        row["comparator_arm"] = c["arm_id"]
        if _text(e["measure"]) == "events":
            row["effect_measure"] = "RR"
            row["reason"] = _reason_events(e, c)
            if row["reason"] is None:
                lr, var, zero = log_risk_ratio(int(e["events"]), int(e["n"]), int(c["events"]), int(c["n"]))
                low, high = ci(lr, var)
                row.update(
                    estimate=math.exp(lr),
                    ci_low=math.exp(low),
                    ci_high=math.exp(high),
                    log_estimate=lr,
                    variance=var,
                    status="computed",
                    note="0.5 added to every cell (a zero cell)" if zero else None,
                )
        else:
            row["effect_measure"] = "MD"
            row["reason"] = _reason_continuous(e, c)
            if row["reason"] is None:
                sds = [
                    float(a["dispersion"]) * (math.sqrt(float(a["n"])) if a["dispersion_type"] == "SE" else 1)
                    for a in (e, c)
                ]
                md, var = mean_difference(
                    float(e["mean"]), sds[0], float(e["n"]), float(c["mean"]), sds[1], float(c["n"])
                )
                low, high = ci(md, var)
                row.update(estimate=md, ci_low=low, ci_high=high, log_estimate=md, variance=var, status="computed")
        rows.append(row)
    return pd.DataFrame(rows)


def forest_rows(c=None):
    """The rows a forest plot may show: computed, from included studies only (of `c`, default :func:`contrasts`)."""
    c = contrasts() if c is None else c
    return c[(c["status"] == "computed") & ~c["excluded"]].reset_index(drop=True)


def pooling():
    """Per comparison, outcome, scale and measure with any computed row: pooled estimate, or why none."""
    import pandas as pd

    rows = []
    fr = forest_rows()
    for key, grp in fr.groupby(["comparison", "outcome", "effect_measure"], sort=True, dropna=False):
        comparison, outcome, measure = key
        studies = grp["study_id"].nunique()
        row = {
            "comparison": comparison,
            "outcome": outcome,
            "effect_measure": measure,
            "k_studies": studies,
            "estimate": None,
            "ci_low": None,
            "ci_high": None,
            "i2_pct": None,
            "tau2": None,
        }
        if studies >= 2 and len(grp) == studies:
            p = pool(grp["log_estimate"], grp["variance"])
            back = math.exp if measure == "RR" else (lambda x: x)
            row.update(
                estimate=back(p["estimate"]),
                ci_low=back(p["ci_low"]),
                ci_high=back(p["ci_high"]),
                i2_pct=p["i2_pct"],
                tau2=p["tau2"],
                reason="pooled (random effects, DerSimonian-Laird)",
            )
        elif studies >= 2:
            row["reason"] = "several rows per study; not pooled"
        else:
            row["reason"] = "only one study with complete statistics: no pooling possible"
        rows.append(row)
    return pd.DataFrame(rows)


# --- numbers, tables, figures -------------------------------------------------------------------------------------


def effect_numbers() -> dict:
    c = contrasts()
    p = pooling()
    comp = c["status"] == "computed"
    reasons = c.loc[~comp, "reason"]
    studies = int(c.loc[comp, "study_id"].nunique())
    return {
        "eff_contrasts": len(c),
        "eff_computed": int(comp.sum()),
        "eff_not_computed": int((~comp).sum()),
        "eff_no_dispersion": int(reasons.eq("no dispersion reported").sum()),
        "eff_no_dispersion_type": int(reasons.eq("dispersion type (SD or SE) not stated").sum()),
        "eff_excluded": int(reasons.str.startswith("study excluded").sum()),
        "eff_other_missing": int(
            (~comp).sum()
            - reasons.eq("no dispersion reported").sum()
            - reasons.eq("dispersion type (SD or SE) not stated").sum()
            - reasons.str.startswith("study excluded").sum()
        ),
        "eff_pooled": int(p["reason"].str.startswith("pooled").sum()) if len(p) else 0,
        "eff_studies_computed": studies,
        "eff_studies_phrase": counted(studies, "study", "studies"),
        **forest_numbers(forest_rows(c)),
    }


def counted(n: int, one: str, many: str) -> str:
    """ "1 study", "2 studies": a count with its noun, for prose."""
    return f"{n} {one if n == 1 else many}"


def forest_numbers(fr) -> dict:
    """How many rows `fr` (the forest plot's rows) hold, and how many of their intervals include no difference."""
    include = sum(
        lo <= NO_DIFFERENCE[m] <= hi
        for m, lo, hi in zip(fr["effect_measure"], fr["ci_low"], fr["ci_high"], strict=True)
    )
    return {"forest_rows": len(fr), "forest_include_null": int(include)}


def _fmt(x, digits=2):
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def effects_table(name: str = "tbl-effects"):
    c = contrasts().copy()
    c["effect"] = [
        f"{m} {_fmt(e)} ({_fmt(lo)} to {_fmt(hi)})" if s == "computed" else "NA"
        for m, e, lo, hi, s in zip(
            c["effect_measure"], c["estimate"], c["ci_low"], c["ci_high"], c["status"], strict=True
        )
    ]
    c["why"] = [n if s == "computed" else r for s, r, n in zip(c["status"], c["reason"], c["note"], strict=True)]
    render.table(
        c,
        name,
        "Every comparison with summary statistics: effect size with 95% CI, or NA and why",
        {
            "label": "Study",
            "comparison": "Comparison (first vs second)",
            "outcome": "Outcome",
            "timepoint": "Time",
            "effect": "Effect (95% CI)",
            "why": "Why NA / note",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
    )


def pooling_table(name: str = "tbl-pooling"):
    p = pooling().copy()
    p["pooled"] = [
        f"{_fmt(e)} ({_fmt(lo)} to {_fmt(hi)}); I² {_fmt(i, 0)}%; τ² {_fmt(t, 3)}" if e is not None else "NA"
        for e, lo, hi, i, t in zip(p["estimate"], p["ci_low"], p["ci_high"], p["i2_pct"], p["tau2"], strict=True)
    ]
    render.table(
        p,
        name,
        "Pooling by comparison and outcome",
        {
            "comparison": "Comparison",
            "outcome": "Outcome",
            "effect_measure": "Measure",
            "k_studies": "Studies",
            "pooled": "Pooled (95% CI)",
            "reason": "Why",
        },
    )


def stats_table(name: str = "tbl-outcome-stats"):
    from relaxbook.studies import arm_labels

    st = stats()
    st["arm"] = st["arm_id"].map(arm_labels())
    render.table(
        st,
        name,
        "Summary statistics per arm as reported (NA where the source gives none)",
        {
            "label": "Study",
            "arm": "Arm (drug and dose)",
            "outcome": "Outcome",
            "timepoint": "Time",
            "mean": "Mean",
            "dispersion": "±",
            "dispersion_type": "SD/SE",
            "n": "n",
            "events": "Events",
            "percent": "%",
            "derivation": "How obtained",
            "source_key": "Source",
        },
        cite_cols=("source_key",),
    )


def forest_figure():
    """The forest plot of :func:`forest_rows` (see :func:`forest_axes`), summarised in words for its alt text."""
    figures.use_style()
    fr = forest_rows()
    return figures.svg(forest_axes(fr), fr[FOREST_COLUMNS], forest_summary(fr))


NO_DIFFERENCE = {"RR": 1.0, "SMD": 0.0}


def forest_summary(fr) -> str:
    """Every row `fr` of the forest plot in words, and how many of its intervals include no difference."""
    rows = [
        f"{r['comparison']}, {r['label']}, {r['outcome']}: {r['effect_measure']} {r['estimate']:.2f} "
        f"({r['ci_low']:.2f} to {r['ci_high']:.2f})"
        for _, r in fr.iterrows()
    ]
    n = forest_numbers(fr)
    return "; ".join(rows) + f". {n['forest_include_null']} of {n['forest_rows']} intervals include no difference."


FOREST_COLUMNS = ["comparison", "label", "outcome", "timepoint", "effect_measure", "estimate", "ci_low", "ci_high"]


RR_TICKS = (0.01, 0.1, 0.5, 1, 2, 10, 100)
AXIS_LABEL = {
    "RR": "risk ratio, first drug vs second (log scale; 1 = no difference)",
    "SMD": "standardised mean difference, Hedges' g (0 = no difference)",
}


def forest_axes(fr=None):
    """The forest plot as a matplotlib figure (tests count its rows): one panel per effect measure, one row per
    contrast with its estimate and 95% CI written beside it, rows of one panel on one shared axis (log for RR,
    with plain tick labels)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator
    from matplotlib.transforms import blended_transform_factory

    fr = forest_rows() if fr is None else fr
    measures = sorted(fr["effect_measure"].unique())
    sizes = [int((fr["effect_measure"] == m).sum()) for m in measures]
    fig, axes = plt.subplots(
        max(len(measures), 1),
        1,
        squeeze=False,
        figsize=(8, 0.9 + 0.45 * len(fr) + 0.9 * len(measures)),
        gridspec_kw={"height_ratios": sizes or [1]},
    )
    for ax, measure in zip(axes[:, 0], measures, strict=True):
        grp = fr[fr["effect_measure"] == measure].sort_values(["comparison", "label", "outcome"], kind="stable")
        y = list(range(len(grp)))[::-1]
        est, lo, hi = grp["estimate"].to_numpy(), grp["ci_low"].to_numpy(), grp["ci_high"].to_numpy()
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="s", color=figures.PALETTE[0], capsize=3)
        shared = [col for col in ("comparison", "label") if grp[col].nunique() == 1]  # said once, in the title
        ax.set_yticks(
            y,
            [
                ": ".join([*(r[col] for col in ("comparison", "label") if col not in shared), r["outcome"]])
                for _, r in grp.iterrows()
            ],
        )
        ax.set_ylim(-0.7, len(grp) - 0.3)
        ax.axvline(1.0 if measure == "RR" else 0.0, color="#555555", linestyle="--", linewidth=1)
        if measure == "RR":
            left, right = min(lo.min(), 1.0) / 1.4, max(hi.max(), 1.0) * 1.4
            ax.set_xscale("log")
            ax.set_xlim(left, right)
            ax.xaxis.set_major_locator(FixedLocator([t for t in RR_TICKS if left <= t <= right]))
            figures.plain_numbers(ax.xaxis)
            ax.xaxis.set_minor_locator(NullLocator())
        column = blended_transform_factory(ax.transAxes, ax.transData)  # x in the panel's width, y per row
        ax.text(
            1.03,
            len(grp) - 0.3,
            f"{measure} (95% CI)",
            transform=column,
            va="bottom",
            fontsize=figures.SMALL,
            fontweight="bold",
        )
        for yi, e, a, b in zip(y, est, lo, hi, strict=True):
            ax.text(1.03, yi, f"{e:.2f} ({a:.2f} to {b:.2f})", transform=column, va="center", fontsize=figures.SMALL)
        ax.set_title(", ".join(grp[col].iloc[0] for col in shared), fontsize=10, loc="left")
        ax.set_xlabel(AXIS_LABEL.get(measure, measure))
    fig.tight_layout()
    return fig


def key_points():
    """The opening of the effect-size chapter (numbers glued by :func:`effect_numbers`)."""
    g = render.glued
    return render.key_points(
        [
            f"**Few effect sizes.** Of {g('eff_contrasts')} comparisons of an arm with its comparator, "
            f"{g('eff_computed')} effect sizes could be computed, from {g('eff_studies_computed')} studies.",
            f"**Why so few.** {g('eff_no_dispersion')} report means without a spread, {g('eff_no_dispersion_type')} "
            f"do not say whether the spread is an SD or an SE, {g('eff_excluded')} come from a retracted study and "
            f"{g('eff_other_missing')} lack the comparator's value or the arm sizes. Nothing is imputed.",
            f"**No pooled estimate.** Pooled estimates: {g('eff_pooled')}. Pooling needs at least two studies of the "
            "same comparison and outcome.",
        ]
    )


# --- head to head: what the trials of one drug against another report ---------------------------------------------

DIRECTIONS = ("favours {second}", "no difference", "favours {first}")


def _drugs_of(comparison) -> list[str]:
    return [d.strip() for d in str(comparison).split(" vs ")]


def _mean_text(value) -> str:
    return "NA" if _num(value) is None else f"{_num(value):g}"


def head_to_head(first: str = "baclofen", second: str = "diazepam"):
    """One row per result reported by an included study comparing ``first`` with ``second`` directly
    (``findings.csv``; a study with no result gets one row saying so): the study ("First author year"), the outcome,
    the direction (``favours <drug>``, ``no difference`` or ``NA``) and ``size``, the size as reported, one line per
    measurement: an effect size (``first`` vs ``second``) with its 95% CI where :func:`contrasts` could compute one,
    else the two arms' values (``first`` vs ``second``) and why there is no CI; ``NA`` when nothing is reported."""
    import pandas as pd

    studies = datapkg.load("studies")
    pair = studies[
        studies["comparison"].map(lambda c: sorted(_drugs_of(c)) == sorted([first, second]))
        & studies["inclusion"].eq("included")
    ]
    findings = datapkg.load("findings")
    st, con = stats(), contrasts()
    labels = dict(zip(pair["study_id"], short_labels(pair["label"]), strict=True))
    rows = []
    for _, study in pair.iterrows():
        sid = study["study_id"]
        swap = _drugs_of(study["comparison"])[0] != first  # experimental arms are the first drug named
        own = findings[findings["study_id"] == sid]
        if own.empty:
            rows.append([sid, labels[sid], "no result in the records checked", "NA", "NA", False])
        for _, f in own.iterrows():
            favours = _text(f["favours"])
            direction = "NA" if favours is None else "no difference" if favours == "neither" else f"favours {favours}"
            scale = _text(f["scale_id"])
            measured = con[(con["study_id"] == sid) & (con["scale_id"] == scale)] if scale else con.iloc[0:0]
            size, with_ci = _sizes(measured, st, swap)
            rows.append([sid, labels[sid], str(f["outcome"]), direction, size, with_ci])
    return pd.DataFrame(rows, columns=["study_id", "study", "outcome", "direction", "size", "with_ci"])


def _sizes(measured, st, swap: bool) -> tuple[str, bool]:
    """The size lines of :func:`head_to_head` for the contrasts ``measured`` of one result, and whether any has a CI:
    what was measured, then one line per contrast naming what varies between them (outcome part, timepoint); a
    reason for no CI shared by every line is said once."""
    if measured.empty:
        return "NA", False
    vary = [col for col in ("outcome", "timepoint") if measured[col].fillna("NA").nunique() > 1]
    kinds = ", ".join(dict.fromkeys(str(m) for m in measured["measure"].fillna("NA")))
    lines, reasons = [f"{kinds}:"], []
    for _, c in measured.iterrows():
        where = " ".join(_part(c[col]) if col == "outcome" else str(c[col]) for col in vary)
        if c["status"] == "computed":
            est, lo, hi = c["estimate"], c["ci_low"], c["ci_high"]
            if swap:
                est, lo, hi = (1 / est, 1 / hi, 1 / lo) if c["effect_measure"] == "RR" else (-est, -hi, -lo)
            lines.append(f"{where} {c['effect_measure']} {_fmt(est)} ({_fmt(lo)} to {_fmt(hi)})".strip())
            reasons.append(None)
            continue
        same = (st["study_id"] == c["study_id"]) & (st["outcome"] == c["outcome"])
        same &= st["timepoint"].fillna("NA") == (_text(c["timepoint"]) or "NA")
        means = st[same].set_index("arm_id")["mean"]
        pair = [_mean_text(means.get(c["experimental_arm"])), _mean_text(means.get(c["comparator_arm"]))]
        if swap:
            pair.reverse()
        lines.append(f"{where} {pair[0]} vs {pair[1]}".strip())
        reasons.append(str(c["reason"]))
    if None not in reasons and len(set(reasons)) == 1:
        lines.append(f"no CI: {reasons[0]}")
    else:
        lines[1:] = [line if r is None else f"{line} (no CI: {r})" for line, r in zip(lines[1:], reasons, strict=True)]
    return "\n".join(lines), None in reasons


def _part(outcome) -> str:
    """The part of an outcome_stats outcome after its colon ("muscle tone: hip flexors" -> "hip flexors")."""
    text = str(outcome)
    return text.split(":", 1)[1].strip() if ":" in text else text


def head_to_head_numbers(first: str = "baclofen", second: str = "diazepam") -> dict[str, int]:
    """Counts for the lead sentence of the head-to-head figure: included studies comparing the two drugs directly,
    the results they report, those with a direction, and those with an effect size and CI."""
    h = head_to_head(first, second)
    reported = h[h["outcome"] != "no result in the records checked"]
    return {
        "h2h_studies": int(h["study_id"].nunique()),
        "h2h_results": len(reported),
        "h2h_with_direction": int((reported["direction"] != "NA").sum()),
        "h2h_with_ci": int(reported["with_ci"].sum()),
    }


def head_to_head_figure(first: str = "baclofen", second: str = "diazepam"):
    """What each direct comparison of ``first`` with ``second`` reports (:func:`head_to_head`): one row per result,
    a mark in the column of its direction (favours ``second``, no difference, favours ``first``, or NA), and the size
    as reported written beside it."""
    figures.use_style()
    import textwrap

    import matplotlib.pyplot as plt

    h = head_to_head(first, second)
    slots = [f"favours {second}", "no difference", f"favours {first}", "NA"]
    slot_x = {s: 2.4 + 0.86 * i for i, s in enumerate(slots)}
    heads = [f"favours\n{second}", "no\ndifference", f"favours\n{first}", "not\nreported"]
    left = [f"{r['study']}\n{textwrap.fill(r['outcome'], 22)}" for _, r in h.iterrows()]
    sizes = ["\n".join(textwrap.fill(line, 34) for line in str(t).split("\n")) for t in h["size"]]
    heights = [max(t.count("\n"), r.count("\n")) + 1.6 for t, r in zip(left, sizes, strict=True)]
    total = sum(heights) or 1
    fig, ax = plt.subplots(figsize=(7.6, 0.19 * total + 1.1))
    ax.set_xlim(0, 7.6)
    ax.set_ylim(total, -2.6)
    ax.axis("off")
    for slot, head in zip(slots, heads, strict=True):
        ax.text(slot_x[slot], -0.4, head, ha="center", va="bottom", fontsize=figures.SMALL, fontweight="bold")
    ax.text(
        5.5,
        -0.4,
        f"size as reported\n({first} vs {second})",
        ha="left",
        va="bottom",
        fontsize=figures.SMALL,
        fontweight="bold",
    )
    y = 0.0
    for (_, r), text, size, height in zip(h.iterrows(), left, sizes, heights, strict=True):
        ax.axhline(y, color="#cccccc", lw=0.8)
        middle = y + height / 2
        ax.text(0.05, middle, text, ha="left", va="center", fontsize=figures.SMALL, linespacing=1.25)
        slot = r["direction"] if r["direction"] in slot_x else "NA"
        for other in slots[:-1]:  # the empty places the result could have been in
            ax.plot(slot_x[other], middle, marker="o", markersize=5, color="#dddddd", zorder=1)
        if slot == "NA":
            ax.text(
                slot_x[slot], middle, "NA", ha="center", va="center", fontsize=10, fontweight="bold", color="#555555"
            )
        else:
            ax.plot(slot_x[slot], middle, marker="o", markersize=13, color=figures.PALETTE[0], zorder=2)
        ax.text(5.5, middle, size, ha="left", va="center", fontsize=figures.SMALL, linespacing=1.25)
        y += height
    ax.axhline(y, color="#cccccc", lw=0.8)
    return figures.svg(fig, h[HEAD_TO_HEAD_COLUMNS])


HEAD_TO_HEAD_COLUMNS = ["study", "outcome", "direction", "size"]  # what each row of the figure shows
