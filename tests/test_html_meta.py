"""Cite-this metadata and the build stamp: CITATION.cff valid per its schema, ``citation_*`` meta tags and a
reproducible stamp (version, commit, date from SOURCE_DATE_EPOCH or the commit) on every page."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import jsonschema
import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import ROOT, site_pages, toc_files
from relaxbook.ext import site as relsite

CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
CFF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "citation-file-format-1.2.0.json").read_text())


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def test_citation_cff_is_valid_per_its_schema():
    jsonschema.validate(json.loads(json.dumps(CFF, default=str)), CFF_SCHEMA, format_checker=jsonschema.FormatChecker())


def test_cff_schema_check_rejects_a_broken_file():
    broken = {k: v for k, v in CFF.items() if k != "authors"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(json.dumps(broken, default=str)), CFF_SCHEMA)


def soup(site, name):
    return BeautifulSoup((site / name).read_text(encoding="utf-8"), "html.parser")


def meta(doc, name):
    return [m["content"] for m in doc.find_all("meta", attrs={"name": name})]


@pytest.mark.parametrize("page", toc_files())
def test_every_page_has_citation_meta_tags_from_citation_cff(site, page):
    doc = soup(site, f"{page}.html")
    title = doc.select_one("main h1").get_text().strip("#").strip()
    assert meta(doc, "citation_title") == [CFF["title"] if page == "intro" else title]
    if page != "intro":
        assert meta(doc, "citation_book_title") == [CFF["title"]]
    assert meta(doc, "citation_author") == [a.get("name") or a["family-names"] for a in CFF["authors"]]
    assert meta(doc, "citation_publication_date") == [str(CFF["date-released"]).replace("-", "/")]


def test_every_page_has_a_build_stamp_naming_a_real_commit_and_its_date(site):
    for name in site_pages(site):
        stamp = soup(site, name).select_one(".build-stamp")
        assert stamp is not None, name
        assert stamp.select_one(".build-version").get_text() == str(CFF["version"]), name
        commit = stamp.select_one(".build-commit")["title"]
        assert git("cat-file", "-t", commit) == "commit", name
        when = datetime.fromtimestamp(int(git("log", "-1", "--format=%ct", commit)), tz=UTC)
        assert stamp.select_one(".build-date")["datetime"] == when.strftime("%Y-%m-%d"), name


def test_build_date_comes_from_source_date_epoch_not_the_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert relsite.build_info(ROOT)["date"] == "2023-11-14"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    first, second = relsite.build_info(ROOT), relsite.build_info(ROOT)
    assert first == second and first["date"] == datetime.fromtimestamp(
        int(git("log", "-1", "--format=%ct")), tz=UTC
    ).strftime("%Y-%m-%d")


def test_build_stamp_without_git_says_unknown_rather_than_guessing(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    (tmp_path / "CITATION.cff").write_text("version: 9.9.9\n")
    info = relsite.build_info(tmp_path)
    assert (info["version"], info["commit_short"], info["date"]) == ("9.9.9", "unknown", "unknown")


def test_how_to_cite_page_gives_the_version_and_authors_of_citation_cff(site):
    main = soup(site, "chapters/how-to-cite.html").select_one("main")
    text = main.get_text(" ")
    assert f"version {CFF['version']}" in text
    assert "@misc{" in "".join(main.select_one(".highlight-bibtex").get_text().split())
    for author in CFF["authors"]:
        assert (author.get("name") or author["family-names"]) in text
