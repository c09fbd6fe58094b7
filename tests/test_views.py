"""Views: a chapter may declare part of a table (``studies[study_id,label]``, optionally ``where study_id in
outcome_stats``). It sees exactly that part (relaxbook.datapkg.load) and is re-executed exactly when that part changes
(relaxbook.cache hashes the same part); anything it asks for that does not exist is named with its file and column."""
from __future__ import annotations

import csv
import shutil

import pytest

from conftest import ROOT
from relaxbook import cache, datapkg, paths

EFFECTS_VIEW = "studies[study_id,label,inclusion] where study_id in outcome_stats"


def rows(table: str) -> list[dict]:
    with open(ROOT / "data" / f"{table}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def declared(monkeypatch):
    monkeypatch.setattr(datapkg, "_declared", None)
    return datapkg.declare


@pytest.mark.parametrize("spec, view", [
    ("studies", datapkg.View("studies")),
    ("studies[study_id, label]", datapkg.View("studies", ("study_id", "label"))),
    (EFFECTS_VIEW, datapkg.View("studies", ("study_id", "label", "inclusion"), "study_id", "outcome_stats")),
])
def test_views_are_parsed_and_checked_against_the_schemas(spec, view):
    assert datapkg.parse_view(spec) == view
    assert datapkg.spec_table(spec) == "studies"


@pytest.mark.parametrize("spec, where, column, message", [
    ("studies[study_id,lable]", "data/studies.csv", "lable", "studies has no column 'lable'"),
    ("studies[label] where sid in outcome_stats", "data/studies.csv", "sid", "studies has no column 'sid'"),
    ("studies[label] where n_total in outcome_stats", "data/studies.csv", "n_total", "by a text column only"),
    ("studies[label] when x", "data/datapackage.json", None, "expected 'table', 'table[col,...]'"),
    ("stuides[label]", "data/datapackage.json", None, "no table named 'stuides'"),
])
def test_a_view_of_what_does_not_exist_is_named_with_its_file_and_column(spec, where, column, message):
    with pytest.raises(datapkg.DataError) as err:
        datapkg.parse_view(spec)
    problem = err.value.problems[0]
    assert (problem.file, problem.column) == (where, column) and message in problem.message


def test_a_chapter_sees_exactly_its_view(declared):
    declared(["outcome_stats", EFFECTS_VIEW])
    seen = datapkg.load("studies")
    referenced = {r["study_id"] for r in rows("outcome_stats")}
    expected = [r for r in rows("studies") if r["study_id"] in referenced]
    assert list(seen.columns) == ["study_id", "label", "inclusion"]
    assert seen["study_id"].tolist() == [r["study_id"] for r in expected] and 0 < len(expected) < len(rows("studies"))
    assert seen["label"].tolist() == [r["label"] for r in expected]
    with pytest.raises(KeyError, match="n_total"):
        seen["n_total"]  # outside the view: an error, never a silent value
    assert len(datapkg.load("outcome_stats")) == len(rows("outcome_stats"))  # declared whole: whole


def test_a_column_view_keeps_every_row(declared):
    declared(["studies[study_id,inclusion]"])
    seen = datapkg.load("studies")
    assert list(seen.columns) == ["study_id", "inclusion"] and len(seen) == len(rows("studies"))


@pytest.fixture
def scratch_data(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    return data


def set_cell(path, key: str, column: str, value: str) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, table = reader.fieldnames, list(reader)
    hits = [r for r in table if r[fields[0]] == key]
    assert len(hits) == 1
    hits[0][column] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def view_hash(spec: str) -> str:
    return cache.digest([cache.TableView(paths.DATA / "studies.csv", datapkg.parse_view(spec))])


def test_a_views_hash_follows_exactly_the_cells_it_shows(scratch_data):
    referenced = sorted({r["study_id"] for r in rows("outcome_stats")})
    unreferenced = next(r["study_id"] for r in rows("studies") if r["study_id"] not in referenced)
    before = view_hash(EFFECTS_VIEW)
    set_cell(scratch_data / "studies.csv", unreferenced, "label", "edited, outside the view's rows")
    set_cell(scratch_data / "studies.csv", referenced[0], "n_total", "999")  # outside its columns
    assert view_hash(EFFECTS_VIEW) == before
    set_cell(scratch_data / "studies.csv", referenced[0], "label", "edited, inside the view")
    inside = view_hash(EFFECTS_VIEW)
    assert inside != before
    # a row enters the view when another table starts to reference it
    first = rows("outcome_stats")[0]["stat_id"]
    set_cell(scratch_data / "outcome_stats.csv", first, "study_id", unreferenced)
    assert view_hash(EFFECTS_VIEW) != inside


def test_a_page_depends_on_its_view_not_on_the_whole_file(scratch_data):
    page = ('---\nkernelspec:\n  name: python3\n---\n```{code-cell} ipython3\nfrom relaxbook import book\n'
            f'book.setup("claims", "{EFFECTS_VIEW}")\n```\n')
    deps = cache.dependencies(page)
    views = [d for d in deps if isinstance(d, cache.TableView)]
    assert [str(v.view) for v in views] == [EFFECTS_VIEW]
    assert paths.DATA / "claims.csv" in deps and paths.DATA / "studies.csv" not in deps
    # a declaration that does not parse counts as its whole table: the page fails when it runs, never stale
    broken = page.replace("study_id,label", "study_id,lable")
    assert paths.DATA / "studies.csv" in cache.dependencies(broken)
