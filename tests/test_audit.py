"""The evidence audit: statuses, sources, retractions, corrections, badges, certainty and the bibliography lint."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, claims_with_status, status_of, toc_files
from recompute import grade
from relaxbook.data import bib

DATA = ROOT / "data"
STATUSES = {"verified", "partly verified", "unsupported", "contradicted", "not found"}


def read(name):
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def excluded_keys():
    """Works excluded because they are retracted or duplicate publications (never usable as support)."""
    return {
        s["source_key"]
        for s in read("studies")
        if s["inclusion"] == "excluded" and s["exclusion_reason"].startswith(("retracted", "duplicate"))
    }


def test_every_claim_has_elements_each_with_a_finding_a_source_or_a_search_and_a_date():
    keys = bib.keys()
    claims, elements = read("claims"), read("claim_elements")
    assert len(claims) >= 40
    by_claim = Counter(e["claim_id"] for e in elements)
    for c in claims:
        assert by_claim[c["claim_id"]] >= 1, c["claim_id"]
        assert c["evidence_says"].strip(), c["claim_id"]
    for e in elements:
        assert e["finding"] in {"supported", "contradicted", "not addressed", "source not found"}, e
        if e["finding"] in {"supported", "contradicted"}:
            assert e["source_key"] != "NA" and all(k in keys for k in e["source_key"].split(";")), e
        assert e["locator"].strip() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", e["date_checked"]), e


def test_no_element_is_supported_by_retracted_or_duplicate_work():
    bad = excluded_keys()
    assert bad, "the retracted study must be listed as excluded"
    for e in read("claim_elements"):
        if e["finding"] == "supported":
            assert not set(e["source_key"].split(";")) & bad, (e["claim_id"], e["element_no"])
    for row in read("conclusions"):
        assert not set(row["source_key"].split(";")) & bad, row["claim_id"]
    studies = {s["study_id"]: s for s in read("studies")}
    for row in read("certainty"):
        for sid in filter(lambda x: x != "NA", row["study_ids"].split(";")):
            assert studies[sid]["inclusion"] == "included", f"{row['comparison_id']} uses excluded {sid}"


def test_each_claims_status_is_the_one_its_elements_give_by_the_rule():
    """The chapter API computes every status; the rule written again in conftest must give the same."""
    from relaxbook import claims

    computed = dict(zip(claims.frame()["claim_id"], claims.frame()["status"], strict=True))
    assert computed == {c["claim_id"]: c["status"] for c in claims_with_status()}
    assert len(set(computed.values())) == 5, "every status occurs, so the rule is exercised on real data"


@pytest.mark.parametrize(
    "findings, status",
    [
        (["supported"], "verified"),
        (["supported", "supported"], "verified"),
        (["supported", "not addressed"], "partly verified"),
        (["supported", "source not found"], "partly verified"),
        (["supported", "contradicted"], "contradicted"),
        (["not addressed", "contradicted"], "contradicted"),
        (["not addressed"], "unsupported"),
        (["not addressed", "source not found"], "unsupported"),
        (["source not found"], "not found"),
        (["source not found", "source not found"], "not found"),
    ],
)
def test_the_status_rule_decides_every_mixed_case_once(findings, status):
    from relaxbook.data.status import claim_status

    assert claim_status(findings) == status == status_of(findings)


@pytest.mark.parametrize("findings", [[], ["confirmed"]])
def test_the_status_rule_refuses_no_elements_or_an_unknown_finding(findings):
    from relaxbook.data.status import claim_status

    with pytest.raises(ValueError):
        claim_status(findings)


def test_each_of_the_twenty_references_maps_to_an_entry_or_a_documented_not_found():
    refs = read("guide_references")
    keys = bib.keys()
    assert sorted(int(r["ref_no"]) for r in refs) == list(range(1, 21))
    for r in refs:
        assert r["source_key"] in keys
        if r["identifies_work"] == "no":
            assert r["status"] == "not found" and "identif" in bib.field(r["source_key"], "note")


def test_bibliography_has_no_duplicate_doi_or_title():
    dois, titles = Counter(), Counter()
    for _key, entry in bib.entries().items():
        if "doi" in entry.fields:
            dois[entry.fields["doi"].lower()] += 1
        titles[re.sub(r"\W+", " ", entry.fields["title"]).lower().strip()] += 1
    assert [d for d, n in dois.items() if n > 1] == []
    assert [t for t, n in titles.items() if n > 1] == []


def test_journal_articles_carry_doi_or_pmid_or_say_why_not():
    for key, entry in bib.entries().items():
        if entry.type == "article" and "doi" not in entry.fields and "pmid" not in entry.fields:
            assert "NA" in entry.fields.get("note", ""), f"{key}: no DOI/PMID and no note saying why"


def test_certainty_levels_are_computed_from_the_downgrades():
    from relaxbook import certainty

    mine, theirs = read("certainty"), certainty.certainty_rows()
    assert len(mine) == len(theirs), "a row of certainty.csv was dropped or added"
    for row, computed in zip(mine, theirs, strict=True):
        assert computed["level"] == grade(row), row["comparison_id"]


# --- the built site ----------------------------------------------------------------------------------------------


def page(site, name):
    return BeautifulSoup((site / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def test_corrections_table_lists_exactly_the_contradicted_claims(site):
    table = page(site, "chapters/corrections").select_one("table#tbl-corrections")
    shown = {span["id"].removeprefix("claim-") for span in table.select("span.claim-id")}
    assert shown == {c["claim_id"] for c in claims_with_status() if c["status"] == "contradicted"}


def test_excluded_table_lists_retracted_work_with_its_notice(site):
    table = page(site, "chapters/corrections").select_one("table#tbl-excluded")
    text = table.get_text(" ")
    for s in read("studies"):
        if s["inclusion"] == "excluded":
            assert s["label"] in text
            if s["notice_key"] != "NA":
                assert "Saudi Pharmaceutical Journal" in text and "2020" in text


def test_findings_table_shows_every_finding_and_marks_those_of_excluded_studies_as_not_used(site):
    table = page(site, "chapters/clinical").select_one("table#tbl-findings")
    rows = table.select("tbody tr")
    findings, studies = read("findings"), {s["study_id"]: s for s in read("studies")}
    assert len(rows) == len(findings)
    for row, finding in zip(rows, findings):
        study = studies[finding["study_id"]]
        cells = [td.get_text(" ", strip=True) for td in row.select("td")]
        assert cells[0] == study["label"] and cells[2] == finding["outcome"]
        assert cells[5] == finding["verification"]
        assert cells[6].startswith("excluded" if study["inclusion"] == "excluded" else study["inclusion"])
    assert any(studies[f["study_id"]]["notice_key"] != "NA" for f in findings), (
        "the retracted trial's findings are listed"
    )


@pytest.mark.parametrize("name", toc_files())
def test_every_badge_shows_its_claims_status_and_links_to_an_anchor_on_its_page(site, name):
    soup = page(site, name)
    status = {c["claim_id"]: c["status"] for c in claims_with_status()}
    elements = {}
    for e in read("claim_elements"):
        elements.setdefault(e["claim_id"], []).append(e["element"])
    ids = {t["id"] for t in soup.find_all(id=True)}
    for badge in soup.select("a.claim-badge"):
        cid = badge["href"].removeprefix("#claim-")
        assert badge.select_one(".claim-status").get_text() == status[cid]
        assert badge.select_one(".claim-icon")["aria-hidden"] == "true"
        tip = badge.select_one(".claim-tip").get_text()
        assert all(" ".join(el.split()) in tip for el in elements[cid]), f"{cid}: the tooltip must list its elements"
        assert f"claim-{cid}" in ids, f"{name}: badge for {cid} has no anchor on the page"


@pytest.mark.parametrize("name", toc_files())
def test_every_claim_role_in_a_page_renders_as_a_badge(site, name):
    """A {claim} role must become a linked badge with its icon and tooltip, never plain text."""
    source = (ROOT / f"{name}.md").read_text(encoding="utf-8")
    roles = len(re.findall(r"\{claim\}`c\d+`", source))
    badges = page(site, name).select("a.claim-badge[href^='#claim-']")
    assert len(badges) >= roles
    assert all(b.select_one(".claim-icon") and b.select_one(".claim-tip[role=tooltip]") for b in badges)
    if name == "chapters/conclusions":
        assert roles > 0, "the conclusions page discusses the guide's claims with badges"


def test_every_claim_is_listed_with_its_badge_in_its_chapter(site):
    chapter_page = {"introduction": "intro"}
    for c in read("claims"):
        name = chapter_page.get(c["chapter"], f"chapters/{c['chapter']}")
        soup = page(site, name)
        assert soup.find(id=f"claim-{c['claim_id']}"), f"{c['claim_id']} not listed on {name}"


def test_with_status_gives_each_claim_its_elements_sources_and_latest_date():
    from relaxbook.data.status import with_status

    claims = [{"claim_id": "c01"}, {"claim_id": "c02"}]
    elements = [
        {
            "claim_id": "c01",
            "element_no": 2,
            "finding": "not addressed",
            "source_key": "b;NA",
            "date_checked": "2026-11-30",
            "element": "second",
        },
        {
            "claim_id": "c01",
            "element_no": 1,
            "finding": "supported",
            "source_key": " a ; b",
            "date_checked": "2026-12-01",
            "element": "first",
        },
    ]
    one, two = with_status(claims, elements)
    assert one["status"] == "partly verified" and [e["element"] for e in one["elements"]] == ["first", "second"]
    assert one["checked_against"] == "a;b" and one["date_checked"] == "2026-12-01"
    assert two == {"claim_id": "c02", "status": None, "elements": [], "checked_against": None, "date_checked": None}


@pytest.mark.parametrize("findings, message", [([], "at least one element"), (["confirmed"], "'confirmed'")])
def test_the_status_rule_says_what_is_wrong(findings, message):
    from relaxbook.data.status import claim_status

    with pytest.raises(ValueError, match=message):
        claim_status(findings)
