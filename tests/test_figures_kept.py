"""Figures drawn once (relaxbook.figures.kept): a figure is drawn again exactly when its code, its arguments, the
packages, datapackage.json, references.bib or what it read of a table changes; otherwise the kept image is returned.
Every chart gets the book's style whatever ran before it."""
from __future__ import annotations

import csv
import shutil

import pytest

from conftest import ROOT
from relaxbook import book, datapkg, figures, paths, profiles


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A scratch copy of data/ and the bib; kept figures go to its own _build."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    shutil.copy(ROOT / "requirements.lock", tmp_path / "requirements.lock")
    for name, value in (("ROOT", tmp_path), ("DATA", tmp_path / "data"), ("BIB", tmp_path / "references.bib"),
                        ("PACKAGE", tmp_path / "data" / "datapackage.json")):
        monkeypatch.setattr(paths, name, value)
    monkeypatch.setattr(datapkg, "_declared", None)
    monkeypatch.setenv(figures.KEPT_ENV, str(tmp_path / "figures"))  # as a build sets it for its kernels
    return tmp_path


def draw(fn, *args):
    """The image's bytes and whether it was found kept."""
    image = fn(*args)
    return image.data, figures.LAST["hit"]


def set_cell(path, key: str, column: str, value: str) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields, table = reader.fieldnames, list(reader)
    hits = [r for r in table if r[fields[0]] == key]
    assert len(hits) == 1, key
    hits[0][column] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def test_a_figure_is_drawn_once_and_again_only_when_a_table_it_reads_changes(scratch):
    first, hit = draw(profiles.timeline_figure)
    assert hit is False and list((scratch / "figures").glob("timeline_figure-*"))
    assert draw(profiles.timeline_figure) == (first, True)
    set_cell(scratch / "data" / "adverse_effects.csv", "ae-bac-1", "effect", "edited: a table it does not read")
    assert draw(profiles.timeline_figure) == (first, True)
    set_cell(scratch / "data" / "regulatory_events.csv", "tol-1960s", "jurisdiction", "edited jurisdiction")
    redrawn, hit = draw(profiles.timeline_figure)
    assert hit is False
    assert draw(profiles.timeline_figure) == (redrawn, True)


def test_the_dose_chart_does_not_read_study_labels_so_a_label_edit_keeps_it(scratch):
    first, _ = draw(profiles.dose_figure)
    set_cell(scratch / "data" / "studies.csv", "roussan1985", "label", "Roussan (label edited)")
    assert draw(profiles.dose_figure) == (first, True)
    arm = next(csv.DictReader(open(scratch / "data" / "arms.csv", encoding="utf-8")))
    set_cell(scratch / "data" / "arms.csv", arm["arm_id"], "dose_max_mg_per_day", "450")
    assert draw(profiles.dose_figure)[1] is False


def test_a_figure_of_study_labels_is_drawn_again_when_a_label_changes(scratch):
    first, _ = draw(book.rob_figure)
    rob = next(csv.DictReader(open(scratch / "data" / "risk_of_bias.csv", encoding="utf-8")))
    set_cell(scratch / "data" / "studies.csv", rob["study_id"], "label", "A study (label edited)")
    redrawn, hit = draw(book.rob_figure)
    assert hit is False and redrawn != first


def test_each_argument_has_its_own_kept_figure_and_a_view_of_other_rows_is_another_input(scratch):
    baclofen, _ = draw(book.pathway_figure, "baclofen")
    diazepam, hit = draw(book.pathway_figure, "diazepam")
    assert hit is False and diazepam != baclofen
    assert draw(book.pathway_figure, "baclofen") == (baclofen, True)
    datapkg.declare(["pathway_steps[drug_id,step,from_node,from_kind,to_node,to_kind,relation,verification]"])
    assert draw(book.pathway_figure, "baclofen")[1] is False  # declared otherwise: drawn from what it now sees


def test_new_code_or_a_broken_kept_file_means_drawing_again(scratch, monkeypatch):
    first, _ = draw(book.claim_status_figure)
    with monkeypatch.context() as m:
        m.setattr(figures, "_kept_key", lambda: "another version of the helper code")
        assert draw(book.claim_status_figure) == (first, False)
    for kept in (scratch / "figures").glob("claim_status_figure-*"):
        kept.write_bytes(b"not a pickle")
    assert draw(book.claim_status_figure) == (first, False)


def test_every_chart_is_drawn_in_the_book_style_whatever_ran_before(scratch):
    import matplotlib

    for fn in (profiles.timeline_figure, profiles.timeline_figure):  # drawn, then found kept
        matplotlib.rcdefaults()
        fn()
        assert matplotlib.rcParams["savefig.dpi"] == figures.STYLE["savefig.dpi"]
        assert matplotlib.rcParams["axes.spines.top"] is False


def test_every_figure_function_of_the_chapters_is_kept():
    import re

    from relaxbook import effects

    modules = {"book": book, "profiles": profiles, "effects": effects}
    called = set()
    for page in (ROOT / "chapters").glob("*.md"):
        called |= set(re.findall(r"\b(book|profiles|effects)\.(\w+_figure)\(", page.read_text(encoding="utf-8")))
    assert len(called) >= 8
    for module, name in called:
        assert getattr(getattr(modules[module], name), "kept", False), f"{module}.{name} is not @figures.kept"


def test_a_kept_figure_never_hides_a_missing_declaration(scratch):
    """Drawn where studies is declared, then asked for by a chapter that did not declare it: the chapter fails as
    it would without the kept figure (its cache key would otherwise miss studies.csv)."""
    datapkg.declare(["risk_of_bias", "studies"])
    draw(book.rob_figure)
    assert draw(book.rob_figure)[1] is True
    datapkg.declare(["risk_of_bias"])
    with pytest.raises(datapkg.DataError, match="is read but not declared"):
        book.rob_figure()


def test_a_kept_figure_drawn_inside_another_passes_on_what_it_read(scratch):
    @figures.kept(style=False)
    def outer():
        return book.pathway_figure("baclofen")

    draw(book.pathway_figure, "baclofen")  # kept on its own first
    outer()
    assert figures.LAST["hit"] is False  # outer: drawn; inside it, pathway_figure was found kept
    outer()
    assert figures.LAST["hit"] is True
    steps = scratch / "data" / "pathway_steps.csv"
    text = steps.read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.startswith("baclofen,"))
    steps.write_text(text.replace(line, line.replace(",target,", ",target,edited ", 1), 1), encoding="utf-8")
    outer()
    assert figures.LAST["hit"] is False  # the inner figure's table changed: the outer one is drawn again


def test_outside_a_build_nothing_is_kept_and_a_replaced_drawing_function_leaves_nothing_behind(scratch, monkeypatch):
    """Tests replace drawing functions (figures.png, figures.flow_diagram): their fakes must never be found by a
    build. Keeping happens only where the build set RELAXBOOK_FIGURES, and only for real images."""
    monkeypatch.delenv(figures.KEPT_ENV)
    draw(profiles.timeline_figure)
    assert figures.LAST["hit"] is None and not (scratch / "figures").exists()
    monkeypatch.setenv(figures.KEPT_ENV, str(scratch / "figures"))
    monkeypatch.setattr(figures, "flow_diagram", lambda *a, **k: None)
    assert book.workflow_figure() is None and figures.LAST["hit"] is False
    assert not list((scratch / "figures").glob("workflow_figure-*"))


def test_the_build_tells_its_kernels_where_figures_are_kept(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from relaxbook import cache

    monkeypatch.delenv(figures.KEPT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    app = SimpleNamespace(config=SimpleNamespace(nb_execution_cache_path="_build/.jupyter_cache"),
                          env=SimpleNamespace(), builder=None, doctreedir=str(tmp_path / "d"))
    cache._builder_inited(app)
    import os

    assert os.environ[figures.KEPT_ENV] == str(tmp_path / "_build" / ".jupyter_cache" / "figures")
