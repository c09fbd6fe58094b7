"""The bench's pure logic (relaxbook/bench.py): medians, target ratios, the table, and the 50x data generator.
The bench itself is run by `make bench`, not by the tests."""
from __future__ import annotations

import csv
import re
import shutil

from conftest import ROOT
from relaxbook import bench


def result(wall, executed=0, peak=100.0):
    return bench.summarise([{"wall_s": w, "executed": executed, "peak_mb": peak} for w in wall])


def test_pages_read_are_counted_from_sphinx_progress_lines():
    log = ("\x1b[01mreading sources... \x1b[39;49;00m[ 50%] \x1b[35mchapters/audit\x1b[39;49;00m\n"
           "reading sources... [100%] intro\nwriting output... [100%] intro\n")
    assert bench.pages_read(log) == 2 and bench.pages_read("updating environment: 0 added, 0 changed") == 0


def test_summary_is_the_median_of_the_runs():
    r = result([9.0, 1.0, 2.0], executed=3, peak=250.4)
    assert (r["wall_s"], r["wall_min_s"], r["wall_max_s"], r["executed"], r["peak_mb"]) == (2.0, 1.0, 9.0, 3, 250)


def test_targets_are_ratios_within_one_run():
    results = {"cold": result([14.0], executed=7), "csv": result([8.0]), "csv1": result([6.3]), "noop": result([6.0]),
               "floor": result([5.0]), "scale": result([22.0])}
    got = {t["target"]: (t["value"], t["pass"]) for t in bench.evaluate(results)}
    assert got["CSV edit <= 0.5x cold"] == (0.57, False)
    assert got["CSV edit, a table read by one page <= 0.5x cold"] == (0.45, True)
    assert got["warm no-op <= 1.5x Sphinx floor"] == (1.2, True)
    assert got["cold <= 1.8 s per executed chapter"] == (2.0, False)
    assert got["studies x50 <= 1.5x normal cold"] == (1.57, False)
    assert "| CSV edit <= 0.5x cold | 0.57 | 0.5 | FAIL |" in bench.table(results, bench.evaluate(results))


def test_missing_scenarios_are_skipped_not_guessed():
    assert bench.evaluate({"cold": result([10.0], executed=5)}) == [
        {"target": "cold <= 1.8 s per executed chapter", "value": 2.0, "limit": 1.8, "pass": False}]


def test_fan_out_counts_the_pages_that_declare_each_table(tmp_path):
    counts = bench.fan_out(ROOT)
    assert set(counts) == {p.stem for p in (ROOT / "data").glob("*.csv")}
    assert counts["adverse_effects"] == 1  # the bench's one-page CSV edit
    assert counts["studies"] == max(counts.values()) >= 2  # the bench's other CSV edit: the widest table
    # a page without a declaration reads every table
    book = tmp_path / "book"
    shutil.copytree(ROOT, book, ignore=shutil.ignore_patterns(".venv", "_build", ".git"))
    intro = book / "intro.md"
    text, n = re.subn(r"^book\.setup\(.*\)$", "pass", intro.read_text(encoding="utf-8"), count=1, flags=re.M)
    assert n == 1
    intro.write_text(text)
    wider = bench.fan_out(book)
    assert all(wider[t] == counts[t] + (t not in ("claims", "studies")) for t in counts)
    line = bench.fan_out_line({"a": 1, "b": 1, "c": 8})
    assert line == "Tables by the number of pages that read them: 1 page: 2 tables; 8 pages: 1 table (c)"


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_multiplied_studies_keep_keys_unique_and_foreign_keys_valid(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    bench.multiply_studies(data, factor=3)
    studies, arms = read(data / "studies.csv"), read(data / "arms.csv")
    assert len(studies) == 3 * len(read(ROOT / "data" / "studies.csv"))
    assert len(arms) == 3 * len(read(ROOT / "data" / "arms.csv"))
    ids = [s["study_id"] for s in studies]
    assert len(set(ids)) == len(ids) and len({a["arm_id"] for a in arms}) == len(arms)
    assert {a["study_id"] for a in arms} <= set(ids)
    from relaxbook import paths
    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    from relaxbook.datapkg import validate_package
    assert len(validate_package()["studies"]) == len(studies)


# --- tables stay readable at scale ----------------------------------------------------------------------------

def test_first_rows_cuts_long_tables_and_links_the_csv():
    import pandas as pd
    from relaxbook import render
    df = pd.DataFrame({"a": range(120)})
    shown, note = render.first_rows(df, 50, "data/studies.csv")
    assert len(shown) == 50 and note == "Showing the first 50 of 120 rows. All rows: {download}`data/studies.csv </data/studies.csv>`."
    assert render.first_rows(df, 200, "x.csv") == (df, "") and render.first_rows(df, None)[1] == ""


def scaled(tmp_path, monkeypatch):
    import IPython.display
    from relaxbook import datapkg, paths
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    bench.multiply_studies(data)
    monkeypatch.setattr(paths, "DATA", data)
    monkeypatch.setattr(paths, "PACKAGE", data / "datapackage.json")
    monkeypatch.setattr(datapkg, "_declared", None)
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    return shown


def test_characteristics_table_at_50x_shows_a_page_of_rows_and_a_count(tmp_path, monkeypatch):
    from relaxbook import book, render
    shown = scaled(tmp_path, monkeypatch)
    book.characteristics_table()
    text = shown[0]
    total = 50 * len(read(ROOT / "data" / "studies.csv"))
    assert text.count("\n| ") == 2 + render.LIST_ROWS  # header, rule and the first rows
    assert f"Showing the first {render.LIST_ROWS} of {total} rows" in text and "data/studies.csv" in text


# --- what the profile pointed at -------------------------------------------------------------------------------

def test_a_chapter_without_charts_never_imports_matplotlib():
    """matplotlib (with the inline backend) costs ~1 s per kernel: only chart functions may import it."""
    import subprocess
    import sys
    code = ("import sys; from relaxbook import book; book.setup('studies', 'arms', 'claims'); "
            "book.study_numbers(); book.characteristics_table(); book.claim_counts(); "
            "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_each_scenario_times_the_command_the_issue_names():
    """Cold and scale: the strict build with --all from nothing. The warm no-op and the edits: the strict build
    run again incrementally (the issue's "warm no-op", not its "warm --all", which is reported beside it)."""
    assert {k for k, _ in bench.SCENARIOS} == set(bench.COMMANDS) | {"floor"}
    for key in ("cold", "scale", "all"):
        assert "--all" in bench.COMMANDS[key] and "-W" in bench.COMMANDS[key]
    for key in ("noop", "prose", "code", "csv", "csv1", "bib"):
        assert "--all" not in bench.COMMANDS[key] and {"-n", "-W", "--keep-going"} <= set(bench.COMMANDS[key])


def test_every_table_of_studies_or_arms_stays_one_page_at_50x(tmp_path, monkeypatch):
    from relaxbook import book, profiles, render
    shown = scaled(tmp_path, monkeypatch)
    book.excluded_table()
    profiles.dose_table()
    for text, source in zip(shown, ("data/studies.csv", "data/arms.csv")):
        assert text.count("\n| ") == 2 + render.LIST_ROWS and "Showing the first" in text and source in text


def test_no_table_shows_more_than_the_maximum_and_the_note_says_where_the_rest_is():
    import pandas as pd
    from relaxbook import render
    shown, note = render.first_rows(pd.DataFrame({"a": range(render.MAX_ROWS + 1)}), render.MAX_ROWS)
    assert len(shown) == render.MAX_ROWS and "Data behind this page" in note


def test_dose_figure_draws_one_marker_pair_per_distinct_dose_at_50x(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from relaxbook import figures, profiles
    scaled(tmp_path, monkeypatch)
    drawn = []
    monkeypatch.setattr(figures, "png", lambda fig: drawn.append(fig) or plt.close(fig))
    profiles.dose_figure()
    ax = drawn[0].axes[0]
    doses = profiles.study_doses()
    doses = doses[doses["flag"] != "dose NA"]
    distinct = doses[["drug_id", "dose_min_mg_per_day", "dose_max_mg_per_day", "flag"]].astype(str).drop_duplicates()
    assert len(ax.collections) == len(distinct) < len(doses) / 10
    assert {t.get_text() for t in ax.texts if t.get_text().startswith("\u00d7")} >= {"\u00d750"}


def test_rendering_claim_badges_does_not_import_pandas_into_sphinx():
    """pandas costs ~0.7 s to import; the Sphinx process only needs claims.csv's rows for the badges."""
    import subprocess
    import sys
    code = ("import sys; from relaxbook import sphinxext; c = sphinxext._claims(); "
            "print(len(c), 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    count, imported = out.split()
    assert int(count) == len(read(ROOT / "data" / "claims.csv")) and imported == "False"
