"""The bibliography as downloads (relaxbook/ext/refexport.py): BibTeX, RIS and CSL-JSON made from references.bib at
build time. Each file holds every entry with its key, title and DOI; an entry a format cannot express is exported
with a generic type and named in the build's output; the References page links the three files."""

from __future__ import annotations

import codecs
import io
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
import pytest
import rispy
from bs4 import BeautifulSoup
from pybtex.database import parse_file, parse_string

from conftest import ROOT
from relaxbook.ext import refexport

BIB = ROOT / "references.bib"


def plain(latex: str) -> str:
    """A title as a reader sees it: LaTeX decoded by latexcodec (not the exporter's pybtex path), braces dropped."""
    return " ".join(codecs.decode(latex, "ulatex").replace("{", "").replace("}", "").split())


def expected(bib: Path = BIB) -> dict[str, dict]:
    out = {}
    for key, entry in parse_file(str(bib)).entries.items():
        doi = entry.fields.get("doi")
        out[key] = {"title": plain(entry.fields["title"]), "doi": doi if doi and doi != "NA" else None}
    return out


def check_ris(text: str, want: dict) -> None:
    records = rispy.loads(text)
    assert [r["id"] for r in records] == sorted(want, key=str.lower)
    for r in records:
        assert r["title"] == want[r["id"]]["title"], r["id"]
        assert r.get("doi") == want[r["id"]]["doi"], r["id"]


def check_csl(text: str, want: dict) -> None:
    items = json.loads(text)
    assert [i["id"] for i in items] == sorted(want, key=str.lower)
    for i in items:
        assert i["type"] and i["title"] == want[i["id"]]["title"], i["id"]
        assert i.get("DOI") == want[i["id"]]["doi"], i["id"]


def check_bibtex(text: str, bib: Path = BIB) -> None:
    """Parsed back, the BibTeX download equals references.bib entry for entry (type, fields, names)."""
    source, out = parse_file(str(bib)).entries, parse_string(text, "bibtex").entries
    assert list(out) == sorted(source, key=str.lower)
    for key, entry in source.items():
        assert (out[key].type, dict(out[key].fields), out[key].persons) == (
            entry.type,
            dict(entry.fields),
            entry.persons,
        ), key


# --- without a build ---------------------------------------------------------------------------------------


def test_every_entry_round_trips_key_title_and_doi_through_ris_and_csl_json():
    files, messages = refexport.export(BIB)
    want = expected()
    assert len(want) > 100 and sum(1 for w in want.values() if w["doi"]) > 20  # the check has something to compare
    check_ris(files["references.ris"].decode("utf-8"), want)
    check_csl(files["references.json"].decode("utf-8"), want)
    check_bibtex(files["references.bib"].decode("utf-8"))
    assert messages == []  # every entry of references.bib has a type both formats know, and a title


def test_latex_is_decoded_and_unknown_values_are_left_out():
    entry = parse_string(
        r"""@article{k, author = {M{\"o}ckel, Claudia and {World Health Organization} and {NA} and others},
        title = {A \& B}, journal = {NA}, year = {NA}, pages = {10--12}, urldate = {2026-11-25}}""",
        "bibtex",
    ).entries["k"]
    ris, csl, notes = refexport.convert("k", entry)
    assert csl["author"] == [{"family": "Möckel", "given": "Claudia"}, {"literal": "World Health Organization"}]
    assert ris["authors"] == ["Möckel, Claudia", "World Health Organization"]
    assert csl["title"] == ris["title"] == "A & B"
    assert "container-title" not in csl and "issued" not in csl and "secondary_title" not in ris and "year" not in ris
    assert (csl["page"], ris["start_page"], ris["end_page"]) == ("10-12", "10", "12")
    assert csl["accessed"] == {"date-parts": [[2026, 11, 25]]} and ris["access_date"] == "2026/11/25"
    assert notes == []


def test_bibtex_keeps_latex_as_written():
    """pybtex's own writer re-encodes values (``\\&`` would become ``\\\\&``); the export writes them as they are."""
    files, _ = refexport.export(BIB)
    text = files["references.bib"].decode("utf-8")
    assert r"\\&" not in text and r"Biomedicine \& Pharmacotherapy" in text


def test_export_is_byte_identical_and_sorted_whatever_the_order_of_the_file(tmp_path):
    entries = re.split(r"\n(?=@)", BIB.read_text(encoding="utf-8"))
    shuffled = tmp_path / "shuffled.bib"
    shuffled.write_text("\n".join([entries[0], *reversed(entries[1:])]) + "\n", encoding="utf-8")
    assert refexport.export(BIB)[0] == refexport.export(BIB)[0] == refexport.export(shuffled)[0]


AWKWARD = r"""
@patent{zeta2020patent, author = {Zeta, Ann}, title = {A Device}, year = {2020}, doi = {10.1000/zeta}}
@misc{alpha_notitle, author = {{Some Agency}}, url = {https://example.org/a}, urldate = {2026-01-02}}
@article{beta2021ok, author = {Beta, Bo}, title = {Fine {T}itle}, journal = {J}, year = {2021}, doi = {10.1000/b}}
"""


def test_an_awkward_entry_is_named_in_the_build_output_and_still_exported(tmp_path):
    """A tiny strict Sphinx build (warnings are errors) of a bib with an entry type neither RIS nor CSL knows and an
    entry without a title: the build passes, its output names both keys with each format, and both are exported."""
    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "refs.bib").write_text(AWKWARD, encoding="utf-8")
    (src / "conf.py").write_text(
        "extensions = ['sphinxcontrib.bibtex', 'relaxbook.ext.refexport']\nbibtex_bibfiles = ['refs.bib']\n"
    )
    (src / "index.rst").write_text("Refs\n====\n\n.. reference-downloads::\n")
    status, warning = io.StringIO(), io.StringIO()
    app = Sphinx(src, src, tmp_path / "out", tmp_path / "doctrees", "html", status=status, warning=warning,
                 warningiserror=True, freshenv=True)  # fmt: skip
    app.build()
    assert app.statuscode == 0 and warning.getvalue() == ""
    lines = [line for line in status.getvalue().splitlines() if "references export" in line]
    for key, why in (("zeta2020patent", "@patent has no equivalent"), ("alpha_notitle", "no title")):
        for fmt in ("RIS", "CSL-JSON"):
            assert any(key in line and fmt in line and why in line for line in lines), (key, fmt, lines)
    assert not any("beta2021ok" in line for line in lines)
    out = tmp_path / "out" / "_downloads"
    ris = {r["id"]: r for r in rispy.loads((out / "references.ris").read_text(encoding="utf-8"))}
    csl = {i["id"]: i for i in json.loads((out / "references.json").read_text(encoding="utf-8"))}
    assert set(ris) == set(csl) == {"zeta2020patent", "alpha_notitle", "beta2021ok"}
    assert (ris["zeta2020patent"]["type_of_reference"], csl["zeta2020patent"]["type"]) == ("GEN", "document")
    assert csl["zeta2020patent"]["DOI"] == ris["zeta2020patent"]["doi"] == "10.1000/zeta"
    assert "title" not in csl["alpha_notitle"] and csl["alpha_notitle"]["URL"] == "https://example.org/a"
    assert (ris["beta2021ok"]["type_of_reference"], csl["beta2021ok"]["title"]) == ("JOUR", "Fine Title")
    check_bibtex((out / "references.bib").read_text(encoding="utf-8"), src / "refs.bib")
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert [a["href"] for a in BeautifulSoup(html, "html.parser").select(".reference-downloads a")] == [
        "_downloads/references.bib",
        "_downloads/references.ris",
        "_downloads/references.json",
    ]


# --- the built site ----------------------------------------------------------------------------------------


def test_built_downloads_round_trip_every_entry(site):
    want = expected()
    check_ris((site / "_downloads" / "references.ris").read_text(encoding="utf-8"), want)
    check_csl((site / "_downloads" / "references.json").read_text(encoding="utf-8"), want)
    check_bibtex((site / "_downloads" / "references.bib").read_text(encoding="utf-8"))


@pytest.mark.parametrize("label", ["BibTeX", "RIS", "CSL-JSON"])
def test_references_page_links_each_download_and_the_link_resolves(site, label):
    page = site / "chapters" / "references.html"
    links = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select(".reference-downloads a")
    href = next(a["href"] for a in links if a.get_text() == label)
    target = urlparse(urljoin("http://book/chapters/references.html", href)).path.lstrip("/")
    assert target.endswith(Path(refexport.FORMATS[label]).name)
    assert (site / target).is_file() and (site / target).stat().st_size > 1000
