"""Numbers the book states, recomputed from the CSVs with the csv module only, independently of relaxbook: the
tests compare every glued number against these. A helper module (no tests here), shared by test modules, so that no
test module imports another."""

from __future__ import annotations

import csv
from collections import Counter

from conftest import ROOT, claims_with_status

GUIDE_KEY = "benchchem2025lanperisone"  # the source guide's references.bib key
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


def rows(name):
    with open(ROOT / "data" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def value(drug, field, col="value"):
    return next(r[col] for r in rows("drug_values") if r["drug_id"] == drug and r["field"] == field)


def expected_profile_numbers() -> dict:
    from rdkit import Chem
    from rdkit.Chem import Descriptors, rdMolDescriptors

    v = rows("drug_values")
    out = {}
    for d in DRUGS:
        sub = [r for r in v if r["drug_id"] == d and r["field"] in PK_DOSING]
        out[f"pk_{d[:3]}_sourced"] = sum(r["value"] != "NA" for r in sub)
        out[f"pk_{d[:3]}_na"] = sum(r["value"] == "NA" for r in sub)
    pairs = Counter((r["drug_id"], r["field"]) for r in v if r["field"] in PK_DOSING and r["value"] != "NA")
    out["pk_multi_source"] = sum(n > 1 for n in pairs.values())
    checked = unchecked = 0
    for d in DRUGS:
        if value(d, "formula_published") == "NA":
            unchecked += 1
            continue
        mol = Chem.MolFromSmiles(value(d, "smiles"))
        checked += (
            rdMolDescriptors.CalcMolFormula(mol) == value(d, "formula_published")
            and abs(Descriptors.MolWt(mol) - float(value(d, "mw_published_g_per_mol"))) <= 0.01
        )
    out["id_checked"], out["id_unchecked"] = checked, unchecked
    out["id_unchecked_names"] = ", ".join(d for d in DRUGS if value(d, "formula_published") == "NA")
    out["pk_items"] = len(PK_DOSING)
    num = lambda s: None if s == "NA" else float(s)
    above = below = arms_with_dose = 0
    for a in rows("arms"):
        if a["drug_id"] == "NA" or a["dose_min_mg_per_day"] == "NA":
            continue
        arms_with_dose += 1
        lo, hi = num(a["dose_min_mg_per_day"]), num(a["dose_max_mg_per_day"])
        ulo, uhi = (
            num(value(a["drug_id"], "usual_daily_dose", "value_low")),
            num(value(a["drug_id"], "usual_daily_dose", "value_high")),
        )
        mx = num(value(a["drug_id"], "max_daily_dose", "value_high"))
        if ulo is None:
            continue
        if hi > (mx if mx is not None else uhi):
            above += 1
        elif lo < ulo:
            below += 1
    out.update(dose_above=above, dose_below=below, dose_arms=arms_with_dose)
    # the guide's eperisone regimen (its arm cites the guide's own references.bib entry) against the label
    guide = next(a for a in rows("arms") if a["drug_id"] == "eperisone" and a["source_key"] == GUIDE_KEY)
    daily, usual = float(guide["dose_max_mg_per_day"]), float(value("eperisone", "usual_daily_dose", "value_high"))
    out.update(
        guide_epe_regimen=guide["dose_text"].split(" (")[0],
        guide_epe_daily=f"{daily:g} mg/day",
        label_epe_daily=f"{usual:g} mg/day",
        guide_epe_times=f"{daily / usual:g}",
    )
    return out


def comparator_of(e: dict, st: list[dict]) -> dict:
    """The comparator arm's row of outcome_stats.csv for experimental row ``e``: same study, outcome and timepoint."""
    return next(
        r
        for r in st
        if r["role"] == "comparator"
        and r["study_id"] == e["study_id"]
        and r["outcome"] == e["outcome"]
        and r["timepoint"] == e["timepoint"]
    )


def expected_effect_numbers() -> dict:
    """csv-only recomputation of effects.effect_numbers()."""
    st, studies = rows("outcome_stats"), {s["study_id"]: s for s in rows("studies")}
    out = {
        "eff_contrasts": 0,
        "eff_computed": 0,
        "eff_no_dispersion": 0,
        "eff_no_dispersion_type": 0,
        "eff_excluded": 0,
    }
    computed_studies, groups = set(), {}
    for e in (r for r in st if r["role"] == "experimental"):
        c = comparator_of(e, st)
        out["eff_contrasts"] += 1
        if studies[e["study_id"]]["inclusion"] == "excluded":
            out["eff_excluded"] += 1
        elif e["measure"] == "events":
            if all(a["events"] != "NA" and a["n"] != "NA" for a in (e, c)):
                out["eff_computed"] += 1
                computed_studies.add(e["study_id"])
                key = (studies[e["study_id"]]["comparison"], e["outcome"], "RR")
                groups.setdefault(key, []).append(e["study_id"])
        elif "NA" in (e["mean"], c["mean"]):
            pass
        elif "NA" in (e["dispersion"], c["dispersion"]):
            out["eff_no_dispersion"] += 1
        elif "NA" in (e["dispersion_type"], c["dispersion_type"]):
            out["eff_no_dispersion_type"] += 1
        elif "NA" not in (e["n"], c["n"]):
            out["eff_computed"] += 1
            computed_studies.add(e["study_id"])
            key = (studies[e["study_id"]]["comparison"], e["outcome"], "MD")
            groups.setdefault(key, []).append(e["study_id"])
    out["eff_not_computed"] = out["eff_contrasts"] - out["eff_computed"]
    out["eff_other_missing"] = (
        out["eff_not_computed"] - out["eff_no_dispersion"] - out["eff_no_dispersion_type"] - out["eff_excluded"]
    )
    out["eff_studies_computed"] = len(computed_studies)
    out["eff_studies_phrase"] = f"{len(computed_studies)} " + ("study" if len(computed_studies) == 1 else "studies")
    forest = expected_forest_rows()
    out["forest_rows"] = len(forest)
    out["forest_include_null"] = sum(lo <= 1 <= hi for *_, lo, hi in forest)  # risk ratios: 1 is no difference
    # pooled: a comparison, outcome and measure with at least two studies, one row each
    out["eff_pooled"] = sum(1 for ids in groups.values() if len(set(ids)) >= 2 and len(ids) == len(set(ids)))
    return out


def expected_head_to_head_numbers() -> dict:
    """csv-only recomputation of effects.head_to_head_numbers() (baclofen vs diazepam)."""
    pair = {
        s["study_id"]
        for s in rows("studies")
        if sorted(d.strip() for d in s["comparison"].split(" vs ")) == ["baclofen", "diazepam"]
        and s["inclusion"] == "included"
    }
    results = [f for f in rows("findings") if f["study_id"] in pair]
    stats = rows("outcome_stats")

    def complete(arm):
        if arm["measure"] == "events":
            return "NA" not in (arm["events"], arm["n"])
        return "NA" not in (arm["mean"], arm["dispersion"], arm["n"]) and arm["dispersion_type"] in ("SD", "SE")

    with_ci = 0
    for f in results:
        arms = [a for a in stats if a["study_id"] == f["study_id"] and a["scale_id"] == f["scale_id"] != "NA"]
        by_key = {}
        for a in arms:
            by_key.setdefault((a["outcome"], a["timepoint"]), []).append(a)
        with_ci += any(len(g) == 2 and all(complete(a) for a in g) for g in by_key.values())
    return {
        "h2h_studies": len(pair),
        "h2h_results": len(results),
        "h2h_with_direction": sum(f["favours"] != "NA" for f in results),
        "h2h_with_ci": with_ci,
    }


def participants(study_ids: list[str], drugs: list[str]) -> list[int | None]:
    """Participants per study in a comparison: n_total for a crossover study or when every arm is of a compared
    drug; else the sum of the compared arms' n (None when unknown)."""
    studies = {s["study_id"]: s for s in rows("studies")}
    arms = rows("arms")
    out = []
    for sid in study_ids:
        own = [a for a in arms if a["study_id"] == sid]
        inside = [a for a in own if a["drug_id"] in drugs]
        if studies[sid]["crossover"] == "true" or len(inside) == len(own):
            n = studies[sid]["n_total"]
            out.append(None if n == "NA" else int(n))
        else:
            sizes = [a["n_arm"] for a in inside]
            out.append(None if not sizes or "NA" in sizes else sum(int(x) for x in sizes))
    return out


def grade(row) -> str | None:
    if row["start_level"] == "NA":
        return None
    level = {"high": 4, "low": 2}[row["start_level"]]
    level += sum(
        int(row[d]) for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
    )
    return ["very low", "very low", "low", "moderate", "high"][max(level, 1)]


def expected_comparison_numbers() -> dict:
    out = {}
    for r in rows("certainty"):
        key = r["comparison_id"].replace("-", "_")
        ids = [] if r["study_ids"] == "NA" else r["study_ids"].split(";")
        n = participants(ids, r["drug_ids"].split(";"))
        out[f"{key}_studies"] = len(ids)
        out[f"{key}_participants"] = sum(n) if ids and None not in n else "NA"
        out[f"{key}_certainty"] = grade(r) or "no evidence"
    return out


def expected_methods_numbers() -> dict:
    log, records = rows("search_log"), rows("screening")
    other = "named candidates (other methods)"
    screened = [r for r in records if r["stage"] != "not retrieved"]
    assessed = [r for r in screened if r["stage"] == "full record"]
    included = [r for r in assessed if r["decision"] == "included"]
    identified = sum(int(q["records_found"]) for q in log if q["source"] != other)
    elements = rows("claim_elements")
    findings = Counter(e["finding"] for e in elements)
    claims = rows("claims")
    return {
        "prisma_queries": sum(q["source"] != other for q in log),
        "prisma_identified": identified,
        "prisma_duplicates": identified - len(screened),
        "prisma_screened": len(screened),
        "prisma_excluded_screening": sum(r["stage"] == "title/abstract" for r in screened),
        "prisma_assessed": len(assessed),
        "prisma_excluded_assessed": sum(r["decision"] == "excluded" for r in assessed),
        "prisma_included": len(included),
        "prisma_included_new": sum(r["in_book"] == "false" for r in included),
        "prisma_included_held": sum(r["in_book"] == "true" for r in included),
        "prisma_other_sought": sum(int(q["records_found"]) for q in log if q["source"] == other),
        "prisma_other_not_retrieved": sum(r["stage"] == "not retrieved" for r in records),
        "m_claims": len(claims),
        "m_elements": len(elements),
        "m_elements_per_claim": round(len(elements) / len(claims), 1),
        "m_supported": findings["supported"],
        "m_contradicted": findings["contradicted"],
        "m_not_addressed": findings["not addressed"],
        "m_source_not_found": findings["source not found"],
        "m_last_checked": max(e["date_checked"] for e in elements),
    }


def expected_conclusion_numbers() -> dict:
    concl = Counter(c["status"] for c in claims_with_status() if c["chapter"] == "conclusions")
    out = {
        f"concl_{s.replace(' ', '_')}": concl[s]
        for s in ("verified", "partly verified", "unsupported", "contradicted", "not found")
    }
    return {**out, "concl_total": sum(concl.values())}


def expected_changelog_numbers() -> dict:
    """The Changelog's numbers from data/releases.csv and today's statuses: releases, the first release and its size,
    and how many claims' statuses differ from the last release (a claim in only one of them counts too)."""
    snaps: dict[str, dict[str, str]] = {}
    dates = {}
    for r in rows("releases"):
        snaps.setdefault(r["version"], {})[r["claim_id"]] = r["status"]
        dates[r["version"]] = r["released"]
    order = sorted(snaps, key=lambda v: [int(p) for p in v.split(".")])
    last, now = snaps[order[-1]], {c["claim_id"]: c["status"] for c in claims_with_status()}
    return {
        "changelog_releases": len(order),
        "changelog_first_release": order[0],
        "changelog_first_date": dates[order[0]],
        "changelog_first_total": len(snaps[order[0]]),
        "changelog_last_release": order[-1],
        "changelog_unreleased_changed": sum(last.get(k) != now.get(k) for k in last.keys() | now.keys()),
    }


# --- the rows each figure draws (compared with the figure's data download) ------------------------------------------

Z = 1.959963984540054


def expected_claim_status_rows() -> dict[tuple[str, str], int]:
    """(chapter, status) -> statements of the guide, every pair of a chapter in claims.csv and a status (zeros too)."""
    claims = claims_with_status()
    chapters = list(dict.fromkeys(c["chapter"] for c in claims))
    statuses = ["verified", "partly verified", "unsupported", "contradicted", "not found"]
    counts = Counter((c["chapter"], c["status"]) for c in claims)
    return {(ch, s): counts.get((ch, s), 0) for ch in chapters for s in statuses}


# The safety matrix's rows as a reader sees them, with the words of a statement that put it in each (written here
# from the chart's specification, not imported: a change of the grouping in relaxbook must show up as a failure).
MATRIX_ROWS = {
    "Drowsiness, sleepiness": ["drowsiness", "sleepiness", "somnolence", "daytime sedation", "no sedation"],
    "Withdrawal reactions on stopping abruptly": ["withdrawal", "abrupt stop"],
    "Abuse, addiction, dependence": ["abuse", "addiction", "dependence"],
    "Breathing depression with opioids": ["with opioids", "respiratory depression"],
    "Allergic and severe skin reactions": ["hypersensitivity", "anaphylaxis", "stevens-johnson", "epidermal"],
    "Weakness, light-headedness": ["asthenia", "weakness", "light-headedness"],
    "Headache": ["headache"],
    "Stomach pain, indigestion": ["dyspepsia", "epigastric"],
}
MATRIX_OTHER = "Other effects (see the table)"


def _matrix_entry(r: dict) -> tuple[int, str, str]:
    """(rank, kind, text) of one statement of adverse_effects.csv: the lower the rank, the more it says."""
    context = r["context"].lower() if r["context"] not in ("", "NA") else ""
    if r["effect"].lower().startswith("no "):
        return 4, "not seen", "not seen"
    if "boxed warning" in context:
        return 0, "boxed", "boxed\nwarning" + ("\nintrathecal" if "intrathecal" in context else "")
    if r["frequency_text"] not in ("", "NA"):
        freq = r["frequency_text"]  # "7.1% (placebo 3.8%)" is written on two lines: "7.1%", "placebo 3.8%"
        if freq.endswith(")"):
            freq = freq[:-1].replace(" (", "\n")
        return 1, "frequency", freq
    if "warning" in context:
        return 2, "warning", "warning"
    return 3, "reported", "reported"


def expected_adverse_effect_rows() -> list[tuple[str, str, str, str]]:
    """(row, drug, kind, text) of every cell of the drug x warning matrix, row by row, drugs as columns (compared
    drugs first, in drugs.csv order). A cell holds what its statements say most strongly (a boxed warning or a
    frequency before a warning or "reported"; "not seen" besides), at most two lines; a cell no statement speaks to
    is "not stated"; a drug whose only statement is that no human data were found says so in every row."""
    drugs = rows("drugs")
    columns = [d["drug_id"] for d in drugs if d["role_in_book"] == "compared drug"]
    columns += [d["drug_id"] for d in drugs if d["drug_id"] not in columns]
    found: dict[tuple[str, str], set] = {}
    no_data = set()
    for r in rows("adverse_effects"):
        text = r["effect"].lower()
        groups = [name for name, words in MATRIX_ROWS.items() if any(w in text for w in words)] or [MATRIX_OTHER]
        if text.startswith("no ") and groups == [MATRIX_OTHER]:
            no_data.add(r["drug_id"])
            continue
        for g in groups:
            found.setdefault((g, r["drug_id"]), set()).add(_matrix_entry(r))
    cells = {}
    for key, entries in found.items():
        ranked = sorted(entries, key=lambda e: e[0])
        top = ranked[0][0]
        kept = [e for e in ranked if (e[0] <= 1 if top <= 1 else e[0] == top) or e[1] == "not seen"]
        cells[key] = (kept[0][1], "\n".join(e[2] for e in kept[:2]))
    no_data -= {d for _, d in cells}
    shown = [g for g in [*MATRIX_ROWS, MATRIX_OTHER] if any((g, d) in cells for d in columns)]
    return [
        (g, d, *(("no data", "no human data found") if d in no_data else cells.get((g, d), ("not stated", "–"))))
        for g in shown
        for d in columns
    ]


def expected_head_to_head_directions() -> list[tuple[str, str]]:
    """(outcome, direction) of every result of an included baclofen-diazepam trial in findings.csv, as the
    head-to-head figure shows it ("favours <drug>", "no difference", or NA), and one NA row per trial with none."""
    pair = [
        s["study_id"]
        for s in rows("studies")
        if sorted(d.strip() for d in s["comparison"].split(" vs ")) == ["baclofen", "diazepam"]
        and s["inclusion"] == "included"
    ]
    findings = rows("findings")
    out = []
    for sid in pair:
        own = [f for f in findings if f["study_id"] == sid]
        out += [
            (f["outcome"], {"NA": "NA", "neither": "no difference"}.get(f["favours"], f"favours {f['favours']}"))
            for f in own
        ] or [("no result in the records checked", "NA")]
    return out


def expected_forest_rows() -> list[tuple]:
    """(comparison, study label, outcome, timepoint, measure, estimate, CI low, CI high) of every risk ratio with
    complete statistics in an included study: events and n in both arms; 0.5 added to every cell when one is zero."""
    import math

    st, studies = rows("outcome_stats"), {s["study_id"]: s for s in rows("studies")}
    out = []
    for e in (r for r in st if r["role"] == "experimental" and r["measure"] == "events"):
        c = comparator_of(e, st)
        study = studies[e["study_id"]]
        if study["inclusion"] == "excluded" or "NA" in (e["events"], e["n"], c["events"], c["n"]):
            continue
        e1, n1, e2, n2 = float(e["events"]), float(e["n"]), float(c["events"]), float(c["n"])
        if min(e1, e2, n1 - e1, n2 - e2) == 0:
            e1, n1, e2, n2 = e1 + 0.5, n1 + 1, e2 + 0.5, n2 + 1
        log_rr = math.log((e1 / n1) / (e2 / n2))
        se = math.sqrt(1 / e1 - 1 / n1 + 1 / e2 - 1 / n2)
        out.append(
            (
                study["comparison"],
                study["label"],
                e["outcome"],
                e["timepoint"],
                "RR",
                math.exp(log_rr),
                math.exp(log_rr - Z * se),
                math.exp(log_rr + Z * se),
            )
        )
    return out


CHAPTER_PREFIXES = {"mechanisms": "mech", "clinical": "clin", "protocols": "prot", "safety": "safe"}


def expected_chapter_numbers() -> dict:
    """The per-chapter claim counts the key points state (claims.chapter_numbers), and the protocol counts."""
    out = {}
    claims = claims_with_status()
    for chapter, prefix in CHAPTER_PREFIXES.items():
        status = Counter(c["status"] for c in claims if c["chapter"] == chapter)
        out[f"{prefix}_claims"] = sum(status.values())
        for s in ("verified", "partly verified", "unsupported", "contradicted", "not found"):
            out[f"{prefix}_{s.replace(' ', '_')}"] = status[s]
    protocols = rows("protocols")
    out["prot_protocols"] = len({p["protocol_id"] for p in protocols})
    out["prot_items"] = len(protocols)
    return out
