"""The Methods chapter's PRISMA 2020 flow adds up, and every study the search included is in the book's evidence."""

from __future__ import annotations

import csv

from conftest import ROOT
from recompute import expected_methods_numbers


def rows(name):
    with open(ROOT / "data" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_box_of_the_flow_equals_the_sum_of_the_boxes_it_splits_into():
    from relaxbook.search import exclusion_reasons, prisma_counts

    c = prisma_counts()
    assert c == {k: v for k, v in expected_methods_numbers().items() if k.startswith("prisma_")}
    assert c["prisma_identified"] == c["prisma_duplicates"] + c["prisma_screened"]
    assert c["prisma_screened"] == c["prisma_excluded_screening"] + c["prisma_assessed"]
    assert c["prisma_assessed"] == c["prisma_excluded_assessed"] + c["prisma_included"]
    assert c["prisma_included"] == c["prisma_included_new"] + c["prisma_included_held"]
    assert sum(n for _, n in exclusion_reasons("full record")) == c["prisma_excluded_assessed"]
    assert sum(n for _, n in exclusion_reasons("title/abstract")) == c["prisma_excluded_screening"]
    assert min(c.values()) >= 0 and c["prisma_included"] > 0


def test_every_study_the_search_included_is_an_included_study_of_the_book():
    studies = {k.strip(): s for s in rows("studies") for k in s["source_key"].split(";")}
    for record in rows("screening"):
        if record["decision"] == "included":
            study = studies.get(record["source_key"])
            assert study is not None, f"{record['record_id']}: {record['source_key']} is not in studies.csv"
            assert study["inclusion"] == "included", record["record_id"]


def test_no_query_was_run_after_the_evidence_cut_off():
    import json

    cutoff = json.loads((ROOT / "data" / "datapackage.json").read_text())["evidence_cutoff"]
    assert all(q["date"] <= cutoff for q in rows("search_log"))
