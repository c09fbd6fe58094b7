"""schema.org Book and Dataset JSON-LD (relaxbook/ext/claimreview.py): every page's JSON-LD parses and holds exactly
one Book (from CITATION.cff and the build stamp), and the landing page's Dataset offers the data package's zip and
every table's CSV, each a file of the built site."""

from __future__ import annotations

import json

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import ROOT, site_pages
from relaxbook.ext import claimreview

CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
PACKAGE = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
BASE = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]["html_baseurl"]


def graph(html: str) -> list[dict]:
    """Every node of every JSON-LD script of a page (each script must parse and use schema.org)."""
    nodes = []
    for script in BeautifulSoup(html, "html.parser").find_all("script", type="application/ld+json"):
        data = json.loads(script.string)
        assert data["@context"] == "https://schema.org"
        nodes += data["@graph"]
    return nodes


def of_type(nodes: list[dict], kind: str) -> list[dict]:
    return [n for n in nodes if n["@type"] == kind]


@pytest.mark.parametrize("name", site_pages())
def test_every_page_holds_exactly_one_book_from_citation_cff(site, name):
    html = (site / name).read_text(encoding="utf-8")
    books = of_type(graph(html), "Book")
    assert len(books) == 1, name
    book = books[0]
    assert book["name"] == CFF["title"] and book["version"] == str(CFF["version"])
    assert [a["name"] for a in book["author"]] == [a.get("name") or a["family-names"] for a in CFF["authors"]]
    assert book["license"].endswith(CFF["license"]) and book["url"] == BASE and book["inLanguage"] == "en"
    stamp = BeautifulSoup(html, "html.parser").select_one(".build-date")["datetime"]
    assert book["datePublished"] == stamp  # the footer's build date


def test_landing_page_dataset_offers_the_zip_and_every_tables_csv_and_each_exists(site):
    nodes = graph((site / "intro.html").read_text(encoding="utf-8"))
    (dataset,) = of_type(nodes, "Dataset")
    assert dataset["name"] == PACKAGE["title"] and dataset["license"] == PACKAGE["licenses"][0]["path"]
    assert dataset["creator"] and dataset["description"] == PACKAGE["description"]
    urls = {d["contentUrl"]: d for d in dataset["distribution"]}
    assert all(d["@type"] == "DataDownload" and d["encodingFormat"] for d in urls.values())
    csvs = {u.rsplit("/", 1)[1] for u, d in urls.items() if d["encodingFormat"] == "text/csv"}
    assert csvs == {r["path"] for r in PACKAGE["resources"]}
    assert any(d["encodingFormat"] == "application/zip" for d in urls.values())
    for url in urls:
        assert url.startswith(BASE) and (site / url.removeprefix(BASE)).is_file(), url


def test_only_the_landing_page_carries_the_dataset(pages):
    assert [n for n, html in pages.items() if of_type(graph(html), "Dataset")] == ["intro"]


def test_book_and_dataset_follow_their_sources():
    """Synthetic inputs: a person author, an unknown build date, a table with its own media type."""
    meta = {"title": "T", "version": "1.2", "license": "MIT", "authors": [{"family-names": "Doe", "given-names": "Jo"}]}
    book = claimreview.book(meta, {"date": "unknown"}, "https://x.org/b/", "de")
    assert book["author"] == [{"@type": "Person", "familyName": "Doe", "givenName": "Jo", "name": "Jo Doe"}]
    assert "datePublished" not in book and book["license"] == "https://spdx.org/licenses/MIT"
    assert (book["url"], book["inLanguage"], book["version"]) == ("https://x.org/b/", "de", "1.2")
    assert claimreview.book(meta, {"date": "2026-01-02"}, "u/", "en")["datePublished"] == "2026-01-02"
    package = {"title": "D", "resources": [{"name": "a", "path": "a.csv"}, {"name": "b", "path": "b.tsv",
               "mediatype": "text/tab-separated-values"}]}  # fmt: skip
    dataset = claimreview.dataset(package, meta, "https://x.org/b/", "_d/p.zip", "_d/data")
    assert [(d["contentUrl"], d["encodingFormat"]) for d in dataset["distribution"]] == [
        ("https://x.org/b/_d/p.zip", "application/zip"),
        ("https://x.org/b/_d/data/a.csv", "text/csv"),
        ("https://x.org/b/_d/data/b.tsv", "text/tab-separated-values"),
    ]
    assert dataset["license"] == "https://spdx.org/licenses/MIT"  # no licence in the package: the book's
