"""The built site: strict build, executed cells, the guide's tables, citations, alt text, glue, self-contained."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

import pytest
from bs4 import BeautifulSoup

from conftest import EXECUTED, ROOT, claims_with_status, toc_files
from recompute import (
    expected_changelog_numbers,
    expected_chapter_numbers,
    expected_comparison_numbers,
    expected_conclusion_numbers,
    expected_effect_numbers,
    expected_head_to_head_numbers,
    expected_methods_numbers,
    expected_profile_numbers,
)

DATA = ROOT / "data"


def read(name):
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def text_of(html):
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_installed_jupyter_book_is_1x():
    import jupyter_book

    assert jupyter_book.__version__.startswith("1.")


def executed_notebooks():
    return sorted(EXECUTED.rglob("*.ipynb"))


def test_every_code_cell_of_every_chapter_executed(site):
    """Every page's notebook ran to the end without errors: the newest jupyter-cache record with the page's code (the
    execution the page was built from; pages with the same code share one record, and myst-nb does not copy
    execution counts when it merges cached outputs) has a count on every code cell, and the page's executed
    notebook has no error output."""
    from jupyter_cache import get_cache

    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))
    by_code = {}
    for record in sorted(cache.list_cache_records(), key=lambda r: r.created):
        nb = cache.get_cache_bundle(record.pk).nb
        by_code[tuple(c.source for c in nb.cells if c.cell_type == "code")] = nb
    notebooks = {p.stem: p for p in executed_notebooks()}
    assert len(notebooks) == len(toc_files())
    for page in toc_files():
        shown = json.loads(notebooks[page.split("/")[-1]].read_text())["cells"]
        code = [c for c in shown if c["cell_type"] == "code"]
        ran = by_code.get(tuple("".join(c["source"]) for c in code))
        assert ran is not None, f"{page}: never executed, or the page was not built from its newest execution"
        assert all(c.get("execution_count") for c in ran.cells if c.cell_type == "code"), f"{page}: a cell did not run"
        for cell in code:
            assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), page


def test_each_row_of_the_guides_tables_appears_in_the_site(pages):
    page = text_of(pages["chapters/clinical"])
    rows = {}
    for cell in read("guide_tables"):
        rows.setdefault((cell["table_no"], cell["row_no"]), []).append(" ".join(cell["text"].split()))
    assert len(rows) == 10
    for key, cells in rows.items():
        for cell in cells:
            assert cell in page, f"Table {key[0]} row {key[1]}: {cell!r} missing"


def test_every_citation_resolves_to_an_entry_on_its_page(pages):
    total = 0
    for name, html in pages.items():
        soup = BeautifulSoup(html, "html.parser")
        ids = {t["id"] for t in soup.find_all(id=True)}
        for a in soup.select("span.bibtex-citation a"):
            total += 1
            assert a["href"].lstrip("#") in ids, f"{name}: citation {a.get_text()} does not resolve"
        assert "??" not in soup.get_text(), name
    assert total > 50


KEPT = {}  # bib keys kept without being cited, with the reason; empty means every entry must be cited


def test_every_bib_entry_is_cited_or_explicitly_kept():
    from relaxbook.data import bib

    cited = set()
    for page in toc_files():
        for roles in re.findall(r"\{cite:[pt]\}`([^`]+)`", (ROOT / f"{page}.md").read_text()):
            cited |= {k.strip() for k in roles.split(",")}
    package = json.loads((DATA / "datapackage.json").read_text())
    for res in package["resources"]:
        for field in res["schema"]["fields"]:
            if field.get("bibkey"):
                for row in read(res["name"]):
                    cited |= set(row[field["name"]].split(";"))
    uncited = bib.keys() - cited - set(KEPT)
    assert not uncited, f"cite these or add them to KEPT with a reason: {sorted(uncited)}"


def test_every_content_image_has_real_alt_text(pages):
    count = 0
    for name, html in pages.items():
        main = BeautifulSoup(html, "html.parser").select_one("main")
        for img in main.find_all("img"):
            count += 1
            alt = img.get("alt", "")
            assert len(alt) > 40, f"{name}: short alt {alt!r}"
            assert not re.search(r"\.(png|svg|jpe?g)$", alt) and "/" not in alt.split()[0], f"{name}: alt is a path"
    assert count >= 5


def test_no_page_loads_anything_from_outside(site):
    for path in site.rglob("*.html"):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        refs = [t.get("src") for t in soup.find_all(["script", "img", "iframe"])]
        refs += [
            l.get("href")
            for l in soup.find_all("link")
            if "stylesheet" in (l.get("rel") or []) or l.get("rel") == ["preload"]
        ]
        for ref in filter(None, refs):
            assert not re.match(r"^(https?:)?//", ref), f"{path.relative_to(site)} loads {ref}"


# --- numbers in prose ---------------------------------------------------------------------------------------


def glued_values() -> dict[str, dict[str, str]]:
    """Glue key -> text/plain per executed page, from myst-nb's ``*.glue.json`` beside each executed notebook."""
    found = {}
    for nb_path in executed_notebooks():
        glue_file = nb_path.with_suffix(".glue.json")
        outputs = json.loads(glue_file.read_text()) if glue_file.exists() else {}
        found[nb_path.stem] = {
            k: o["data"]["text/plain"].strip("'\"") for k, o in outputs.items() if "text/plain" in o.get("data", {})
        }
    return found


def expected_numbers() -> dict[str, object]:
    """Recomputed from the CSVs with the csv module only, independently of relaxbook."""
    claims, studies = claims_with_status(), read("studies")
    status = Counter(c["status"] for c in claims)
    included = [s for s in studies if s["inclusion"] == "included"]
    by_id = {s["study_id"]: s for s in studies}
    ae = read("adverse_effects")
    refs = read("guide_references")
    mech = Counter(c["status"] for c in claims if c["chapter"] == "mechanisms")
    bac = [a for a in ae if a["drug_id"] == "baclofen" and a["frequency_pct_max"] != "NA"]
    return {
        "claims_total": len(claims),
        "claims_verified": status["verified"],
        "claims_partly_verified": status["partly verified"],
        "claims_unsupported": status["unsupported"],
        "claims_contradicted": status["contradicted"],
        "claims_not_found": status["not found"],
        "n_studies": len(studies),
        "n_included": len(included),
        "n_excluded": sum(s["inclusion"] == "excluded" for s in studies),
        "n_direct": sum(s["evidence_type"] == "direct" for s in included),
        "n_indirect": sum(s["evidence_type"] == "indirect" for s in included),
        "guide_trial_n": by_id["guide-lan-epe"]["n_total"],
        "roussan_n": by_id["roussan1985"]["n_total"],
        "thiyagarajan_n": by_id["thiyagarajan2024"]["n_total"],
        "li_n": by_id["li2021"]["n_total"],
        "luo_n": by_id["luo2017"]["n_total"],
        "roussan_weeks": by_id["roussan1985"]["duration_weeks"],
        "luo_weeks": by_id["luo2017"]["duration_weeks"],
        "ae_total": len(ae),
        "ae_with_frequency": sum(a["frequency_pct_max"] != "NA" for a in ae),
        "bac_drowsy_min": min(int(float(a["frequency_pct_min"])) for a in bac),
        "bac_drowsy_max": max(int(float(a["frequency_pct_max"])) for a in bac),
        "guide_works": len({r["source_key"] for r in refs if r["identifies_work"] != "no"}),
        "guide_no_work": sum(r["identifies_work"] == "no" for r in refs),
        "guide_refs": len(refs),
        "guide_t2_rows": len({c["row_no"] for c in read("guide_tables") if c["table_no"] == "2"}),
        "mech_claims": sum(mech.values()),
        "mech_unsupported": mech["unsupported"],
        "evidence_cutoff": json.loads((DATA / "datapackage.json").read_text())["evidence_cutoff"],
        **audit_expected(claims, studies, refs),
        **expected_profile_numbers(),
        **expected_effect_numbers(),
        **expected_head_to_head_numbers(),
        **expected_comparison_numbers(),
        **expected_conclusion_numbers(),
        **expected_methods_numbers(),
        **expected_changelog_numbers(),
        **expected_chapter_numbers(),
    }


def audit_expected(claims, studies, refs) -> dict[str, object]:
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib")).entries
    status = Counter(c["status"] for c in claims)
    keys = list(dict.fromkeys(r["source_key"] for r in refs))
    first = {}
    for r in refs:
        first.setdefault(r["source_key"], r)
    works = [first[k] for k in keys if first[k]["identifies_work"] != "no"]
    wstatus = Counter(w["status"] for w in works)
    out = {
        f"audit_{k.replace(' ', '_')}": status[k]
        for k in ("verified", "partly verified", "unsupported", "contradicted", "not found")
    }
    out.update(
        {
            "audit_total": len(claims),
            "audit_ref_works": len(keys),
            "audit_refs_with_id": sum(1 for k in keys if {"doi", "pmid"} & set(entries[k].fields.keys())),
            "flow_refs": len(refs),
            "flow_duplicates": len(refs) - len(keys),
            "flow_no_work": sum(first[k]["identifies_work"] == "no" for k in keys),
            "flow_works": len(works),
            "flow_verified": wstatus["verified"],
            "flow_partly": wstatus["partly verified"],
            "flow_not_found": wstatus["not found"],
            "flow_added": sum(s["guide_refs"] == "none" for s in studies),
            "flow_from_guide": sum(s["guide_refs"] != "none" for s in studies),
            "flow_considered": len(studies),
            "flow_included": sum(s["inclusion"] == "included" for s in studies),
            "flow_excluded": sum(s["inclusion"] == "excluded" for s in studies),
        }
    )
    return out


def same(a: str, b) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a == str(b)


def test_numbers_glued_into_prose_equal_values_recomputed_from_the_csvs(site):
    expected = expected_numbers()
    checked = 0
    for notebook, values in glued_values().items():
        for key, value in values.items():
            if key.startswith("fig-") or key == "bib_total":
                continue
            assert key in expected, f"{notebook}: glued '{key}' has no independent recomputation in this test"
            assert same(value, expected[key]), f"{notebook}: {key} = {value}, data say {expected[key]}"
            checked += 1
    assert checked >= 30


def test_bib_total_matches_references_bib(site):
    text = (ROOT / "references.bib").read_text()
    n = len(re.findall(r"^@\w+\{", text, re.M))
    values = glued_values()["references"]
    assert int(values["bib_total"]) == n


def test_glued_numbers_are_shown_on_their_pages(pages):
    for page, html in pages.items():
        assert "pasted-text" in html or page == "chapters/references"
        soup = BeautifulSoup(html, "html.parser")
        for span in soup.select("span.pasted-text"):
            assert span.get_text().strip(), page


def test_every_page_shows_the_notice_with_the_evidence_cutoff(pages):
    cutoff = json.loads((DATA / "datapackage.json").read_text())["evidence_cutoff"]
    for name, html in pages.items():
        soup = BeautifulSoup(html, "html.parser")
        box = soup.select_one("main div.admonition.warning")
        assert box is not None, f"{name}: the notice is not rendered as an admonition"
        title = box.select_one(".admonition-title").get_text(" ")
        assert "Not medical advice" in title and cutoff in title, name
        assert "not medical advice" in box.get_text(" ") and "```" not in soup.select_one("main").get_text(), name


def test_every_numbered_reference_names_the_number_its_target_carries(pages):
    """`{numref}` links say "Figure N"/"Table N": the element they point to (on whichever page) has the caption
    number N. Guards relaxbook.ext.badges's memo of the doctrees Sphinx unpickles to number references."""
    from urllib.parse import urljoin, urlparse

    soups = {name: BeautifulSoup(html, "html.parser") for name, html in pages.items()}
    checked = 0
    for name, soup in soups.items():
        for span in soup.select("span.std-numref"):
            link = span.find_parent("a")
            url = urlparse(urljoin(f"http://book/{name}.html", link["href"]))
            target_page = url.path.lstrip("/").removesuffix(".html")
            target = soups[target_page].find(id=url.fragment)
            assert target is not None, f"{name}: {link['href']} points nowhere"
            number = target.select_one(".caption-number")
            assert number is not None, f"{name}: {link['href']} has no caption number"
            assert span.get_text(" ", strip=True) == number.get_text(" ", strip=True), (name, link["href"])
            checked += 1
    assert checked >= 10


def test_bibliography_style_formats_each_parsed_entry_once_and_a_reparsed_entry_again():
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    from relaxbook.ext import patches
    from relaxbook.ext.badges import _register_bib_style

    _register_bib_style()  # what the extension's setup() does
    patches.apply()
    style = find_plugin("pybtex.style.formatting", "relaxbook")()
    bib = "@article{k1, author = {Doe, Jane}, title = {{First title}}, journal = {J}, year = {2001}}"
    entry = parse_string(bib, "bibtex").entries["k1"]
    first = style.format_entry("k1", entry)
    assert style.format_entry("k1", entry) is first  # the same parsed entry: formatted once
    assert "First title" in first.text.render_as("text")
    edited = parse_string(bib.replace("First", "Second"), "bibtex").entries["k1"]
    assert "Second title" in style.format_entry("k1", edited).text.render_as("text")
    assert find_plugin("pybtex.style.formatting", "relaxbook") is type(style)  # plugin lookups memoised, still right


@pytest.mark.parametrize("page", toc_files())
def test_every_glued_figure_shows_a_real_image(page, pages, site):
    """Each {glue:figure} in the page's source is on the page as one SVG with real text (not glyph outlines), not a
    text output such as "None" (what a figure function returning nothing, or a broken kept figure, would show)."""
    names = re.findall(r"```\{glue:figure\} (\S+)", (ROOT / f"{page}.md").read_text(encoding="utf-8"))
    soup = BeautifulSoup(pages[page], "html.parser")
    for name in names:
        figure = soup.find("figure", id=name)
        assert figure is not None, f"{page}: no figure {name}"
        assert not figure.select(".output.text_plain"), f"{page}: {name} shows text, not an image"
        imgs = figure.find_all("img")
        assert len(imgs) == 1, f"{page}: {name} has {len(imgs)} images"
        svg = ((site / page).parent / imgs[0]["src"]).read_text(encoding="utf-8")
        assert "<svg" in svg[:1000] and len(svg) > 2000, f"{page}: {name} is not a real SVG"
        assert svg.count("<text") >= 3, f"{page}: {name} draws its text as outlines, not as text"
