"""schema.org ClaimReview JSON-LD (relaxbook/ext/claimreview.py): every page that lists checked claims embeds
exactly one ClaimReview per claim anchored on it, with the computed status, and claims.jsonld holds them all."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from conftest import claims_with_status, toc_files

RATING = {"verified": 5, "partly verified": 4, "not found": 3, "unsupported": 2, "contradicted": 1}


def reviews(html: str) -> list[dict]:
    soup = BeautifulSoup(html, "html.parser")
    graph = []
    for script in soup.find_all("script", type="application/ld+json"):
        graph += json.loads(script.string)["@graph"]
    return [g for g in graph if g["@type"] == "ClaimReview"]


@pytest.mark.parametrize("name", toc_files())
def test_each_page_has_one_claimreview_per_claim_anchored_on_it(pages, name):
    soup = BeautifulSoup(pages[name], "html.parser")
    anchored = [t["id"].removeprefix("claim-") for t in soup.select("span.claim-id[id^='claim-']")]
    found = reviews(pages[name])
    assert sorted(r["url"].split("#claim-")[1] for r in found) == sorted(set(anchored))
    status = {c["claim_id"]: c for c in claims_with_status()}
    for r in found:
        claim = status[r["url"].split("#claim-")[1]]
        assert r["url"].startswith(f"{name}.html#")
        assert r["reviewRating"]["alternateName"] == claim["status"]
        assert r["reviewRating"]["ratingValue"] == RATING[claim["status"]]
        assert r["claimReviewed"] == claim["source_text"] and r["datePublished"]


def test_claims_jsonld_holds_every_claim_the_book_and_its_data(site):
    graph = json.loads((site / "_downloads" / "claims.jsonld").read_text(encoding="utf-8"))["@graph"]
    claims = claims_with_status()
    found = {g["url"].split("#claim-")[1]: g for g in graph if g["@type"] == "ClaimReview"}
    assert set(found) == {c["claim_id"] for c in claims}
    assert all(found[c["claim_id"]]["reviewRating"]["alternateName"] == c["status"] for c in claims)
    assert {"Book", "Dataset"} <= {g["@type"] for g in graph}
