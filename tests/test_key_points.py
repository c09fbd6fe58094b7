"""Chapters open with key points, tables name things as readers do, and the landing page's key findings agree with
the conclusions data. Expected values are recomputed from the CSVs (csv module), never copied from the page."""

from __future__ import annotations

import csv
import re

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT
from recompute import grade, rows


def evidence_chapters() -> list[str]:
    """The chapters of the "The evidence" part of _toc.yml."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    part = next(p for p in toc["parts"] if p["caption"] == "The evidence")
    return [c["file"] for c in part["chapters"]]


def soup(pages, page) -> BeautifulSoup:
    return BeautifulSoup(pages[page], "html.parser")


# --- key points ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", evidence_chapters())
def test_every_evidence_chapter_opens_with_three_to_five_key_points(pages, page):
    main = soup(pages, page).select_one("main article") or soup(pages, page).select_one("main")
    box = main.select_one(".key-points")
    assert box is not None, f"{page}: no key points"
    points = box.select("li")
    assert 3 <= len(points) <= 5, f"{page}: {len(points)} key points"
    # it opens the chapter: no section heading, table, figure or prose paragraph of the chapter comes before it
    section = box.find_parent("section")
    before = [el for el in box.find_all_previous(["h2", "table", "figure", "p"]) if section in el.parents]
    before = [el for el in before if not el.find_parent(class_=["admonition", "data-downloads"])]
    assert before == [], f"{page}: the key points come after {[el.name for el in before]}"
    for li in points:
        text = li.get_text(" ")
        assert li.find("strong"), f"{page}: a key point without its lead: {text}"
        # every number in a point is glued (so tests/test_site.py recomputes it from the CSVs), none is typed
        bare = li.get_text(" ", strip=True)
        for span in li.select("span.pasted-text"):
            bare = bare.replace(span.get_text(), " ", 1)
        bare = re.sub(r"RoB 2|\b(?:19|20)\d\d\b", "", bare)  # a method's name and years (study labels) are not counts
        assert not re.search(r"(?<![\w-])\d+(?![\w-])", bare), f"{page}: a number not glued in a key point: {text}"


def test_key_points_renderer_refuses_too_few_or_too_many_points():
    from relaxbook import render

    render.key_points(["a", "b", "c"])
    for n in (2, 6):
        with pytest.raises(ValueError):
            render.key_points(["x"] * n)


def test_a_key_point_glues_its_numbers():
    from relaxbook import render

    assert render.glued("eff_pooled") == "{glue:text}`eff_pooled`"
    with pytest.raises(ValueError):
        render.glued("1`; drop")


# --- tables name things as readers do --------------------------------------------------------------------------


def internal_ids() -> set[str]:
    """The ids of studies, arms, claims and conclusions (comparisons too) in data/*.csv."""
    ids = set()
    for table, col in (
        ("studies", "study_id"),
        ("arms", "arm_id"),
        ("claims", "claim_id"),
        ("conclusions", "claim_id"),
        ("certainty", "comparison_id"),
    ):
        ids |= {r[col] for r in rows(table)}
    return ids


def snake_case_columns() -> set[str]:
    names = set()
    for path in (ROOT / "data").glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            names |= {c for c in next(csv.reader(f)) if "_" in c}
    return names


def leaks(text: str, ids: set[str], columns: set[str]) -> list[str]:
    words = set(re.findall(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*", text))
    return sorted(words & (ids | columns))


def test_the_leak_check_catches_ids_and_field_names():
    ids, cols = internal_ids(), snake_case_columns()
    assert leaks("Arm thiyagarajan2024-a and c37", ids, cols) == ["c37", "thiyagarajan2024-a"]
    assert leaks("MW (mw_published_g_per_mol)", ids, cols | {"mw_published_g_per_mol"}) == ["mw_published_g_per_mol"]
    assert leaks("Baclofen 5 mg three times daily; claim 37", ids, cols) == []


def test_no_rendered_table_shows_an_internal_id_or_a_raw_field_name(site):
    ids, cols = internal_ids(), snake_case_columns()
    fields = {r["field"] for r in rows("drug_values") if "_" in r["field"]}
    found = {}
    for path in sorted(site.rglob("*.html")):
        if path.relative_to(site).parts[0] in {"_static", "_downloads", "_sources"}:
            continue
        for table in BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").select("main table"):
            bad = leaks(table.get_text(" "), ids, cols | fields)
            if bad:
                found[str(path.relative_to(site))] = bad
    assert found == {}


def test_every_drug_value_field_has_a_readers_label():
    from relaxbook import profiles

    fields = {r["field"] for r in rows("drug_values")}
    assert fields <= set(profiles.FIELD_LABELS)
    assert all("_" not in label for label in profiles.FIELD_LABELS.values())


def test_profile_tables_have_one_column_per_drug_and_labels_with_units(pages):
    page = soup(pages, "chapters/profiles")
    table = page.select_one("table#tbl-pk")
    heads = [th.get_text(" ", strip=True) for th in table.select("thead th")]
    assert heads == ["Item"] + [
        d.capitalize() for d in ["lanperisone", "tolperisone", "eperisone", "baclofen", "diazepam"]
    ]
    labels = [tr.select_one("td").get_text(" ", strip=True) for tr in table.select("tbody tr")]
    units = {
        r["field"]: r["unit"] for r in rows("drug_values") if r["section"] == "pharmacokinetics" and r["unit"] != "NA"
    }
    assert any(label.endswith("(h)") for label in labels) and "h" in units.values()


def test_arm_labels_name_the_drug_and_dose():
    from relaxbook.studies import arm_label

    assert arm_label("baclofen", "10 mg t.i.d.") == "Baclofen 10 mg three times daily"
    assert arm_label("tolperisone 50 mg TID", "50 mg t.i.d.") == "Tolperisone 50 mg three times daily"
    assert arm_label("placebo", "not applicable") == "Placebo"
    assert arm_label("eperisone", "NA (dose not in the abstract)") == "Eperisone (dose NA)"
    assert arm_label("baclofen", None) == arm_label("baclofen", "NA") == "Baclofen (dose NA)"
    assert (
        arm_label("diazepam plus naproxen 500 mg b.i.d.", "5 mg") == "Diazepam plus naproxen 500 mg twice daily: 5 mg"
    )


# --- the landing page agrees with the conclusions data ----------------------------------------------------------


def expected_findings() -> dict[str, tuple[str, str]]:
    """topic -> (statement, certainty wording), from conclusions.csv and certainty.csv (GRADE recomputed)."""
    certainty = {r["comparison_id"]: r for r in rows("certainty")}
    out = {}
    for c in rows("conclusions"):
        if c["topic"] == "NA":
            continue
        if c["comparison_id"] == "NA":
            level = "animal data only"
        else:
            level = grade(certainty[c["comparison_id"]]) or "no evidence"
        out[c["topic"]] = (c["book_statement"], level)
    return out


def test_landing_page_key_findings_agree_with_the_conclusions_data(pages):
    page = soup(pages, "intro")
    items = {}
    for li in page.select("section#in-two-minutes li"):
        lead = li.find("strong")
        if lead:
            items[lead.get_text().rstrip(".:")] = " ".join(li.get_text(" ").split())
    expected = expected_findings()
    assert expected and set(expected) <= set(items)
    for topic, (statement, level) in expected.items():
        text = items[topic]
        assert " ".join(statement.split()) in text, f"{topic}: the statement (its direction) differs from the data"
        shown = re.search(r"\((very low|low|moderate|high) certainty|\((animal data only|no evidence)", text)
        assert shown and (shown.group(1) or shown.group(2)) == level, f"{topic}: certainty {shown}, data {level}"


def test_a_unit_goes_in_the_row_label_only_when_every_value_shares_it():
    import pandas as pd

    from relaxbook import profiles

    base = {"section": "pharmacokinetics", "field": "tmax", "source_key": "k", "verification": "verified"}
    mixed = pd.DataFrame(
        [
            {**base, "value_id": "a", "drug_id": "baclofen", "value": "2", "unit": "h"},
            {**base, "value_id": "b", "drug_id": "diazepam", "value": "about an hour", "unit": None},
        ]
    )
    table = profiles.section_rows("pharmacokinetics", mixed).set_index("item")
    assert list(table.index) == ["Time to peak concentration"]
    assert table.loc["Time to peak concentration", "baclofen"].startswith("2 h ")
    same = mixed.assign(value=["2", "1"], unit=["h", "h"])
    table = profiles.section_rows("pharmacokinetics", same).set_index("item")
    assert list(table.index) == [r"Time to peak concentration \(h\)"]
    assert table.iloc[0]["diazepam"].startswith("1 ") and table.iloc[0]["lanperisone"] == "NA"
