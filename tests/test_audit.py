"""The evidence audit: statuses, sources, retractions, corrections, badges, certainty and the bibliography lint."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, toc_files
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


def test_every_claim_has_a_valid_status_a_source_and_a_date():
    keys = bib.keys()
    claims = read("claims")
    assert len(claims) >= 40
    for c in claims:
        assert c["status"] in STATUSES, c["claim_id"]
        assert c["checked_against"] != "NA" and all(k in keys for k in c["checked_against"].split(";")), c["claim_id"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", c["date_checked"]), c["claim_id"]
        assert c["evidence_says"].strip(), c["claim_id"]


def test_retracted_or_duplicate_work_never_supports_an_included_claim():
    bad = excluded_keys()
    for c in read("claims"):
        if c["status"] in {"verified", "partly verified"}:
            assert not set(c["checked_against"].split(";")) & excluded_keys(), c["claim_id"]
    for row in read("conclusions"):
        assert not set(row["source_key"].split(";")) & bad, row["claim_id"]
    studies = {s["study_id"]: s for s in read("studies")}
    for row in read("certainty"):
        for sid in filter(lambda x: x != "NA", row["study_ids"].split(";")):
            assert studies[sid]["inclusion"] == "included", f"{row['comparison_id']} uses excluded {sid}"


def test_the_retracted_study_is_caught_if_it_were_used_as_support(monkeypatch):
    claims = read("claims")
    retracted = next(iter(excluded_keys()))
    claims[0] = {**claims[0], "status": "verified", "checked_against": retracted}
    supported = [
        c
        for c in claims
        if c["status"] in {"verified", "partly verified"} and set(c["checked_against"].split(";")) & excluded_keys()
    ]
    assert supported, "the guard above must be able to fail"


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


def grade(row):
    if row["start_level"] == "NA":
        return None
    level = {"high": 4, "low": 2}[row["start_level"]]
    level += sum(
        int(row[d]) for d in ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
    )
    return ["very low", "very low", "low", "moderate", "high"][max(level, 1)]


def test_certainty_levels_are_computed_from_the_downgrades():
    from relaxbook import certainty

    for mine, theirs in zip(read("certainty"), certainty.certainty_rows()):
        assert theirs["level"] == grade(mine), mine["comparison_id"]


# --- the built site ----------------------------------------------------------------------------------------------


def page(site, name):
    return BeautifulSoup((site / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def test_corrections_table_lists_exactly_the_contradicted_claims(site):
    table = page(site, "chapters/corrections").select_one("table#tbl-corrections")
    shown = {span.get_text() for span in table.select("span.claim-id")}
    assert shown == {c["claim_id"] for c in read("claims") if c["status"] == "contradicted"}


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
    status = {c["claim_id"]: c["status"] for c in read("claims")}
    ids = {t["id"] for t in soup.find_all(id=True)}
    for badge in soup.select("a.claim-badge"):
        cid = badge["href"].removeprefix("#claim-")
        assert badge.select_one(".claim-status").get_text() == status[cid]
        assert badge.select_one(".claim-icon")["aria-hidden"] == "true"
        assert "Checked against" in badge.select_one(".claim-tip").get_text()
        assert f"claim-{cid}" in ids, f"{name}: badge for {cid} has no anchor on the page"


def test_every_claim_is_listed_with_its_badge_in_its_chapter(site):
    chapter_page = {"introduction": "intro"}
    for c in read("claims"):
        name = chapter_page.get(c["chapter"], f"chapters/{c['chapter']}")
        soup = page(site, name)
        assert soup.find(id=f"claim-{c['claim_id']}"), f"{c['claim_id']} not listed on {name}"
