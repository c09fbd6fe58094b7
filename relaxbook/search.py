"""The documented search behind the book: its queries, the records screened, and the PRISMA 2020 flow."""

from __future__ import annotations

from relaxbook import figures, render
from relaxbook.data import datapkg

OTHER_METHODS = "named candidates (other methods)"


def prisma_counts() -> dict[str, int]:
    """Every box of the PRISMA 2020 flow, from search_log.csv and screening.csv. Each box equals the sum of the
    boxes it splits into (tests/test_methods.py recomputes them from the CSVs)."""
    log = datapkg.load("search_log")
    records = datapkg.load("screening")
    databases = log[log["source"] != OTHER_METHODS]
    screened = records[records["stage"] != "not retrieved"]
    assessed = screened[screened["stage"] == "full record"]
    included = assessed[assessed["decision"] == "included"]
    counts = {
        "prisma_queries": len(databases),
        "prisma_identified": int(databases["records_found"].sum()),
        "prisma_screened": len(screened),
        "prisma_excluded_screening": int((screened["stage"] == "title/abstract").sum()),
        "prisma_assessed": len(assessed),
        "prisma_excluded_assessed": int((assessed["decision"] == "excluded").sum()),
        "prisma_included": len(included),
        "prisma_included_new": int((~included["in_book"].astype(bool)).sum()),
        "prisma_included_held": int(included["in_book"].astype(bool).sum()),
        "prisma_other_sought": int(log.loc[log["source"] == OTHER_METHODS, "records_found"].sum()),
        "prisma_other_not_retrieved": int((records["stage"] == "not retrieved").sum()),
    }
    counts["prisma_duplicates"] = counts["prisma_identified"] - counts["prisma_screened"]
    return counts


def exclusion_reasons(stage: str) -> list[tuple[str, int]]:
    """(reason, records) for the records excluded at ``stage``, the most frequent first."""
    records = datapkg.load("screening")
    excluded = records[(records["stage"] == stage) & (records["decision"] == "excluded")]
    return [(str(k), int(v)) for k, v in excluded["reason"].value_counts(sort=True).items()]


def prisma_figure():
    """The PRISMA 2020 flow diagram: identification, screening, inclusion, with the reasons for exclusion."""
    c = prisma_counts()
    full = "\n".join(f"{reason}: {n}" for reason, n in exclusion_reasons("full record"))
    first = "\n".join(f"{reason}: {n}" for reason, n in exclusion_reasons("title/abstract"))
    nodes = [
        ("id", f"Records identified\n{c['prisma_queries']} queries, n = {c['prisma_identified']}", "step"),
        ("dup", f"Duplicate copies removed\nn = {c['prisma_duplicates']}", "excluded"),
        ("scr", f"Records screened (title and abstract)\nn = {c['prisma_screened']}", "step"),
        ("exs", f"Records excluded\nn = {c['prisma_excluded_screening']}\n{first}", "excluded"),
        ("ass", f"Full records assessed\nn = {c['prisma_assessed']}", "step"),
        ("exa", f"Records excluded, with reasons\nn = {c['prisma_excluded_assessed']}\n{full}", "excluded"),
        (
            "inc",
            f"Studies included\nn = {c['prisma_included']}\nnew: {c['prisma_included_new']} · "
            f"held already: {c['prisma_included_held']}",
            "effect",
        ),
        (
            "oth",
            f"Sought by name (other methods)\nn = {c['prisma_other_sought']}\nnot retrieved: "
            f"{c['prisma_other_not_retrieved']}",
            "process",
        ),
    ]
    edges = [
        ("id", "dup", ""),
        ("id", "scr", ""),
        ("scr", "exs", ""),
        ("scr", "ass", ""),
        ("ass", "exa", ""),
        ("ass", "inc", ""),
    ]
    return figures.flow_diagram(nodes, edges)


def search_table(name: str = "tbl-search"):
    """Every query: source, terms, date, records returned."""
    render.table(
        datapkg.load("search_log"),
        name,
        "The queries of the documented search, in the order run",
        {"query_no": "No.", "source": "Searched", "query": "Terms", "date": "Date", "records_found": "Records"},
    )


def included_table(name: str = "tbl-included-by-search"):
    """The records the search included, with their design and whether the book held them already."""
    records = datapkg.load("screening")
    included = records[records["decision"] == "included"].copy()
    included["held"] = included["in_book"].map({True: "yes", False: "new"})
    render.table(
        included,
        name,
        "Studies and reviews the search included",
        {
            "source_key": "Record",
            "design": "Design",
            "drugs": "Drugs compared",
            "condition": "Condition",
            "reason": "Included as",
            "held": "Held already?",
        },
        cite_cols=("source_key",),
    )


def methods_numbers() -> dict:
    """Numbers the Methods chapter states: the flow, and how many claims and elements were checked."""
    from relaxbook import claims

    frame = claims.frame()
    elements = datapkg.load("claim_elements")
    findings = elements["finding"].value_counts()
    return {
        **prisma_counts(),
        "m_claims": len(frame),
        "m_elements": len(elements),
        "m_elements_per_claim": round(len(elements) / len(frame), 1),
        "m_supported": int(findings.get("supported", 0)),
        "m_contradicted": int(findings.get("contradicted", 0)),
        "m_not_addressed": int(findings.get("not addressed", 0)),
        "m_source_not_found": int(findings.get("source not found", 0)),
        "m_last_checked": str(elements["date_checked"].max()),
    }


def key_points():
    """The opening of the Methods chapter (numbers glued by :func:`methods_numbers`)."""
    g = render.glued
    return render.key_points(
        [
            f"**Search.** {g('prisma_queries')} documented queries of public records found {g('prisma_included')} "
            f"studies and reviews that meet the rules, {g('prisma_included_new')} of them new to this book.",
            f"**Checking.** Each of the guide's {g('m_claims')} statements was split into parts that can be checked "
            f"one by one ({g('m_elements')} in all), each against a primary record.",
            f"**Findings.** {g('m_supported')} parts are supported, {g('m_contradicted')} contradicted and "
            f"{g('m_not_addressed')} not addressed by any checked source; for {g('m_source_not_found')} the cited "
            "work cannot be found.",
            "**Rules, not judgement.** A statement's status follows from its parts by one rule; risk of bias follows "
            f"RoB 2 and certainty GRADE. Last check: {g('m_last_checked')}.",
        ]
    )
