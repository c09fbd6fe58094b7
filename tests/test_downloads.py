"""Take it away: every page links the CSVs it declares in ``book.setup(...)``, the whole data package as a zip and
the book as a PDF; downloaded CSVs are the repository's data with formula-like text cells neutralised."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, toc_files
from relaxbook.ext import site as relsite

PACKAGE = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
FIELDS = [
    {"name": "study_id", "type": "string"},
    {"name": "n_total", "type": "integer"},
    {"name": "effect", "type": "number"},
    {"name": "note", "type": "string"},
]


# --- unit tests: no build needed ------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_like_text_cells_are_prefixed_with_a_quote(cell):
    assert relsite.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["baclofen", "NA", "5 mg", "'already quoted", ""])
def test_ordinary_text_cells_are_unchanged(cell):
    assert relsite.neutralise(cell) == cell


def test_safe_csv_neutralises_text_fields_and_leaves_numeric_fields_alone():
    text = 'study_id,n_total,effect,note\n=cmd|x,-3,-0.5,"-bad, idea"\nok,12,1e-3,@me\n'
    rows = list(csv.reader(io.StringIO(relsite.safe_csv(text, FIELDS))))
    assert rows[0] == ["study_id", "n_total", "effect", "note"]
    assert rows[1] == ["'=cmd|x", "-3", "-0.5", "'-bad, idea"]
    assert rows[2] == ["ok", "12", "1e-3", "'@me"]


def test_safe_csv_keeps_crlf_line_endings():
    assert relsite.safe_csv("a,b\r\n1,2\r\n", [{"name": "a", "type": "integer"}]) == "a,b\r\n1,2\r\n"


def test_declared_tables_are_parsed_from_the_setup_call():
    src = '```{code-cell}\nfrom relaxbook import book\nbook.setup("claims", "studies")\n```\nbook.setup("x")'
    assert relsite.declared_tables(src) == ["claims", "studies"]
    assert relsite.declared_tables("book.setup()") == []
    assert relsite.declared_tables("no call") is None
    with pytest.raises(ValueError):
        relsite.declared_tables("book.setup(TABLES)")


def test_every_toc_page_declares_known_tables():
    known = {r["name"] for r in PACKAGE["resources"]}
    for page in toc_files():
        tables = relsite.declared_tables((ROOT / f"{page}.md").read_text(encoding="utf-8"))
        assert tables is not None and set(tables) <= known, page


def test_data_package_zip_is_reproducible(tmp_path):
    when = datetime(2026, 1, 2, tzinfo=UTC)
    relsite.write_downloads(tmp_path / "a", when)
    relsite.write_downloads(tmp_path / "b", when)
    a, b = (tmp_path / x / relsite.ZIP_NAME for x in "ab")
    assert a.read_bytes() == b.read_bytes()


# --- the built site -------------------------------------------------------------------------------------------


def box_links(site, page):
    soup = BeautifulSoup((site / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    boxes = soup.select("main .data-downloads")
    assert len(boxes) == 1, f"{page}: expected one 'Data behind this page' box"
    return [a["href"] for a in boxes[0].find_all("a")]


@pytest.mark.parametrize("page", toc_files())
def test_each_page_links_exactly_the_tables_it_declares_plus_zip_and_pdf(site, page):
    declared = relsite.declared_tables((ROOT / f"{page}.md").read_text(encoding="utf-8"))
    paths = {r["name"]: r["path"] for r in PACKAGE["resources"]}
    prefix = "../" * page.count("/")
    links = box_links(site, page)
    assert links[: len(declared)] == [f"{prefix}_downloads/data/{paths[t]}" for t in declared]
    assert links[len(declared) :] == [f"{prefix}_downloads/data-package.zip", f"{prefix}_downloads/book.pdf"]


def source_rows(res):
    with open(ROOT / "data" / res["path"], newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("res", PACKAGE["resources"], ids=lambda r: r["name"])
def test_downloaded_csv_is_the_source_with_text_cells_neutralised(site, res):
    with open(site / "_downloads" / "data" / res["path"], newline="", encoding="utf-8") as f:
        got = list(csv.reader(f))
    types = {fld["name"]: fld.get("type", "string") for fld in res["schema"]["fields"]}
    src = source_rows(res)
    assert got[0] == src[0] and len(got) == len(src)
    for row_got, row_src in zip(got[1:], src[1:]):
        for name, g, s in zip(src[0], row_got, row_src):
            textual = types[name] not in relsite.NUMERIC_TYPES
            assert g == ("'" + s if textual and s[:1] in ("=", "+", "-", "@", "\t", "\r") else s), (res["name"], name)


def test_data_package_zip_holds_every_table_and_the_descriptor(site):
    with zipfile.ZipFile(site / "_downloads" / "data-package.zip") as zf:
        names = set(zf.namelist())
        expected = {f"data-package/{r['path']}" for r in PACKAGE["resources"]}
        assert expected | {"data-package/datapackage.json", "data-package/CITATION.cff"} <= names
        first = PACKAGE["resources"][0]
        assert zf.read(f"data-package/{first['path']}") == (site / "_downloads" / "data" / first["path"]).read_bytes()
        assert json.loads(zf.read("data-package/datapackage.json")) == PACKAGE
