"""Tables and figures stay readable when the evidence grows: a scratch data package with 50x the studies and arms
(synthetic rows with unique keys), and the costs a chapter must not pay (matplotlib without a chart, pandas in
Sphinx)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from conftest import ROOT

SCALE = 50


def multiply_studies(data: Path, factor: int = SCALE) -> None:
    """Add ``factor - 1`` synthetic copies of every study and its arms (unique keys, valid foreign keys)."""
    for name, key, link in (("studies", "study_id", None), ("arms", "arm_id", "study_id")):
        path = data / f"{name}.csv"
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        out = list(rows)
        for i in range(1, factor):
            for row in rows:
                new = dict(row, **{key: f"{row[key]}-syn{i}"})
                if link:
                    new[link] = f"{row[link]}-syn{i}"
                if "label" in new:
                    new["label"] = f"{row['label']} (synthetic {i})"
                out.append(new)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
        path.write_text(buf.getvalue(), encoding="utf-8")


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_multiplied_studies_keep_keys_unique_and_foreign_keys_valid(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    multiply_studies(data, factor=3)
    studies, arms = read(data / "studies.csv"), read(data / "arms.csv")
    assert len(studies) == 3 * len(read(ROOT / "data" / "studies.csv"))
    assert len(arms) == 3 * len(read(ROOT / "data" / "arms.csv"))
    ids = [s["study_id"] for s in studies]
    assert len(set(ids)) == len(ids) and len({a["arm_id"] for a in arms}) == len(arms)
    assert {a["study_id"] for a in arms} <= set(ids)
    from relaxbook.data import paths

    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    from relaxbook.data.datapkg import validate_package

    assert len(validate_package()["studies"]) == len(studies)


# --- tables stay readable at scale ----------------------------------------------------------------------------


def test_first_rows_cuts_long_tables_and_links_the_csv():
    import pandas as pd

    from relaxbook import render

    df = pd.DataFrame({"a": range(120)})
    shown, note = render.first_rows(df, 50, "data/studies.csv")
    assert (
        len(shown) == 50
        and note == "Showing the first 50 of 120 rows. All rows: {download}`data/studies.csv </data/studies.csv>`."
    )
    assert render.first_rows(df, 200, "x.csv") == (df, "") and render.first_rows(df, None)[1] == ""


def scaled(tmp_path, monkeypatch):
    import IPython.display

    from relaxbook.data import datapkg, paths

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    multiply_studies(data)
    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    monkeypatch.setattr(datapkg, "_declared", None)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    return shown


def test_characteristics_table_at_50x_shows_a_page_of_rows_and_a_count(tmp_path, monkeypatch):
    from relaxbook import render, studies

    shown = scaled(tmp_path, monkeypatch)
    studies.characteristics_table()
    text = shown[0]
    total = 50 * len(read(ROOT / "data" / "studies.csv"))
    assert text.count("\n| ") == 2 + render.LIST_ROWS  # header, rule and the first rows
    assert f"Showing the first {render.LIST_ROWS} of {total} rows" in text and "data/studies.csv" in text


# --- what the profile pointed at -------------------------------------------------------------------------------


def test_a_chapter_without_charts_never_imports_matplotlib():
    """matplotlib (with the inline backend) costs ~1 s per kernel: only chart functions may import it."""
    import subprocess
    import sys

    code = (
        "import sys; from relaxbook import book, claims, studies; "
        "book.setup('studies', 'arms', 'claims', 'claim_elements'); "
        "studies.study_numbers(); studies.characteristics_table(); claims.claim_counts(); "
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_table_of_studies_or_arms_stays_one_page_at_50x(tmp_path, monkeypatch):
    from relaxbook import profiles, render, studies

    shown = scaled(tmp_path, monkeypatch)
    studies.excluded_table()
    profiles.dose_table()
    for text, source in zip(shown, ("data/studies.csv", "data/arms.csv")):
        assert text.count("\n| ") == 2 + render.LIST_ROWS and "Showing the first" in text and source in text


def test_no_table_shows_more_than_the_maximum_and_the_note_says_where_the_rest_is():
    import pandas as pd

    from relaxbook import render

    shown, note = render.first_rows(pd.DataFrame({"a": range(render.MAX_ROWS + 1)}), render.MAX_ROWS)
    assert len(shown) == render.MAX_ROWS and "Data behind this page" in note


def test_dose_figure_draws_one_mark_per_drug_and_dose_kind_at_50x(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from relaxbook import figures, profiles

    scaled(tmp_path, monkeypatch)
    drawn = []
    monkeypatch.setattr(figures, "svg", lambda fig, rows: drawn.append(fig) or plt.close(fig))
    profiles.dose_figure()
    ax = drawn[0].axes[0]
    doses = profiles.study_doses()
    doses = doses[doses["flag"] != "dose NA"]
    kinds = doses.groupby(["drug_id", "flag"]).size()
    assert len(ax.collections) == len(kinds) < len(doses) / 10
    labels = [t.get_text() for t in ax.texts]
    for n in kinds:  # each mark says how many arms it stands for
        assert any(t.startswith(f"{n} arms, ") for t in labels), n


def test_rendering_claim_badges_does_not_import_pandas_into_sphinx():
    """pandas costs ~0.7 s to import; the Sphinx process only needs claims.csv's rows for the badges."""
    import subprocess
    import sys

    code = "import sys; from relaxbook.ext import badges; c = badges._claims(); print(len(c), 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    count, imported = out.split()
    assert int(count) == len(read(ROOT / "data" / "claims.csv")) and imported == "False"
