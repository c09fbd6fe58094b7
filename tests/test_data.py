"""The data package: valid, sourced, NA-honest, and never leaning on retracted work. No build needed."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import ROOT
from relaxbook.data import bib, datapkg

DATA = ROOT / "data"
PACKAGE = json.loads((DATA / "datapackage.json").read_text())


def rows(name):
    with open(DATA / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def bibkey_columns():
    for res in PACKAGE["resources"]:
        for field in res["schema"]["fields"]:
            if field.get("bibkey"):
                yield res["name"], field["name"]


def test_data_package_validates():
    tables = datapkg.validate_package()
    assert set(tables) == {r["name"] for r in PACKAGE["resources"]}


def test_every_csv_in_data_is_described():
    described = {r["path"] for r in PACKAGE["resources"]}
    assert {p.name for p in DATA.glob("*.csv")} == described


def test_descriptor_is_a_valid_frictionless_package():
    import frictionless

    report = frictionless.validate(str(DATA / "datapackage.json"))
    errors = [f"{t.name}: {e.type}: {e.note}" for t in report.tasks for e in t.errors]
    assert report.valid, "\n".join(errors[:20])


def test_every_fact_row_has_a_source_key_in_references_bib():
    keys = bib.keys()
    checked = 0
    for table, column in bibkey_columns():
        field = next(
            f for r in PACKAGE["resources"] if r["name"] == table for f in r["schema"]["fields"] if f["name"] == column
        )
        for i, row in enumerate(rows(table), start=2):
            if row[column] == "NA":
                assert not field.get("constraints", {}).get("required"), f"data/{table}.csv row {i}: {column} is NA"
                continue
            for key in row[column].split(";"):
                assert key.strip() in keys, f"data/{table}.csv row {i}: unknown key {key!r}"
                checked += 1
    assert checked > 100


def test_unknown_is_written_na_never_blank():
    for res in PACKAGE["resources"]:
        for i, row in enumerate(rows(res["name"]), start=2):
            for col, value in row.items():
                assert value.strip() != "", f"data/{res['path']} row {i} column {col} is blank (write NA)"


def retracted_keys():
    return {r["source_key"] for r in rows("studies") if r["exclusion_reason"].startswith("retracted")}


def test_retracted_study_never_supports_a_claim_element_or_a_conclusion():
    retracted = retracted_keys()
    assert retracted, "the retracted study must be listed as excluded"
    for element in rows("claim_elements"):
        if set(element["source_key"].split(";")) & retracted:
            assert element["finding"] != "supported", (element["claim_id"], element["element_no"])
    for link in rows("conclusion_evidence"):
        study = next(s for s in rows("studies") if s["study_id"] == link["study_id"])
        if study["source_key"] in retracted:
            assert not link["role"].startswith("supports"), link


def test_retracted_study_is_excluded_with_its_retraction_notice():
    entries = bib.entries()
    for study in rows("studies"):
        if study["exclusion_reason"].startswith("retracted"):
            assert study["inclusion"] == "excluded"
            note = entries[study["source_key"]].fields["note"]
            assert note.startswith("RETRACTED (see ")
            notice = note.split("(see ")[1].split(")")[0]
            assert "Retraction notice" in entries[notice].fields["title"]


def test_each_guide_reference_maps_to_one_entry_and_duplicates_are_one_work():
    refs = rows("guide_references")
    assert [int(r["ref_no"]) for r in refs] == list(range(1, 21))
    by_key = {}
    for r in refs:
        by_key.setdefault(r["source_key"], []).append(int(r["ref_no"]))
    assert by_key["roussan1985baclofen"] == [13, 14]
    assert by_key["luo2017comparative"] == [17, 18]


def test_bib_articles_carry_doi_or_pmid_or_say_na():
    for key, entry in bib.entries().items():
        if entry.type == "article":
            f = entry.fields
            assert "doi" in f or "pmid" in f or "NA" in f.get("note", ""), key
        else:
            assert "urldate" in entry.fields, key


def test_source_guide_is_itself_a_bib_entry():
    entry = bib.entries()["benchchem2025lanperisone"]
    assert "benchchem.com" in entry.fields["url"]


def test_guide_tables_keep_every_row_of_tables_1_to_3():
    cells = rows("guide_tables")
    shape = {(int(c["table_no"]), int(c["row_no"])) for c in cells}
    assert {t for t, _ in shape} == {1, 2, 3}
    assert sum(1 for t, _ in shape if t == 2) == 3  # Roussan, From, Thiagarajan


def test_reading_an_undeclared_table_fails():
    try:
        datapkg.declare(["drugs"])
        datapkg.load("drugs")
        with pytest.raises(datapkg.DataError, match=r"data/claims.csv: is read but not declared"):
            datapkg.load("claims")
        with pytest.raises(datapkg.DataError, match="no table named 'nosuch'"):
            datapkg.declare(["nosuch"])
    finally:
        datapkg._declared = None


def test_a_table_is_validated_once_per_content_and_each_load_is_an_independent_copy(tmp_path, monkeypatch):
    import shutil

    from relaxbook.data import paths

    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    monkeypatch.setattr(datapkg, "_declared", None)
    monkeypatch.setattr(datapkg, "_loaded", {})
    calls = []
    check = datapkg.check_table
    monkeypatch.setattr(datapkg, "check_table", lambda *a, **k: calls.append(1) or check(*a, **k))

    first = datapkg.load("drugs")
    first.loc[0, "drug_id"] = "changed by a caller"
    second = datapkg.load("drugs")
    assert len(calls) == 1 and second.loc[0, "drug_id"] != "changed by a caller"

    path = data / "drugs.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(rows("drugs")[0]["drug_id"], "", 1), encoding="utf-8")  # now invalid
    with pytest.raises(datapkg.DataError):
        datapkg.load("drugs")
    with pytest.raises(datapkg.DataError):  # a failure is never remembered as a success
        datapkg.load("drugs")
    path.write_text(text, encoding="utf-8")
    assert datapkg.load("drugs").equals(second)
