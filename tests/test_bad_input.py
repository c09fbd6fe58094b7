"""Bad input gives a clear message naming file, row and column, and stops before any chapter runs."""
from __future__ import annotations

import sys

import pytest

from conftest import BIN, run


def validate(root):
    return run([sys.executable, "-m", "relaxbook.validate"], cwd=root, root=root)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CASES = {
    "wrong type": ("studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,",
                   "data/studies.csv, row 4, column 'n_total': 'thirteen' is not an integer [type]"),
    "missing column": ("drugs.csv", "drug_id,inn,", "drug_id,",
                       "data/drugs.csv, row 1, column 'inn': required column is missing from the header [missing-column]"),
    "unknown source key": ("drugs.csv", ",eisai_myonal\n", ",eisai_myonal_typo\n",
                           "data/drugs.csv, row 4, column 'source_key': 'eisai_myonal_typo' is not a key in references.bib [bibkey]"),
    "dangling foreign key": ("arms.csv", "roussan1985-a,roussan1985,", "roussan1985-a,roussan1986,",
                             "data/arms.csv, row 6, column 'study_id': 'roussan1986' has no match in studies.study_id [foreign-key]"),
    "value not in enum": ("claims.csv", "c02,mechanisms,", "c02,mechanism,",
                          "data/claims.csv, row 3, column 'chapter': 'mechanism' is not one of"),
    "out of range": ("adverse_effects.csv", ",10,63,", ",10,163,",
                     "data/adverse_effects.csv, row 2, column 'frequency_pct_max': 163 is above the maximum 100 [maximum]"),
}


@pytest.mark.parametrize("case", CASES)
def test_malformed_csv_names_file_row_and_column(scratch, case):
    name, old, new, message = CASES[case]
    edit(scratch / "data" / name, old, new)
    result = validate(scratch)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_valid_data_passes_validation(scratch):
    result = validate(scratch)
    assert result.returncode == 0, result.stderr
    assert "data/ is valid" in result.stdout


def test_malformed_csv_stops_the_build_before_any_chapter_runs(scratch):
    edit(scratch / "data" / "studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,")
    result = run([str(BIN / "jupyter-book"), "build", ".", "--all", "-n", "-W", "--keep-going"], cwd=scratch, root=scratch)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data/studies.csv, row 4, column 'n_total': 'thirteen' is not an integer" in out
    assert "executing" not in out.lower() and "Executing" not in out


def test_unknown_citation_key_fails_the_build_naming_chapter_and_key(scratch):
    (scratch / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: chapters/conclusions\n")
    edit(scratch / "chapters" / "conclusions.md", "{cite:p}`sakitama1997effects`", "{cite:p}`nosuchkey2099`")
    result = run([str(BIN / "jupyter-book"), "build", ".", "--all", "-n", "-W", "--keep-going"], cwd=scratch, root=scratch)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "conclusions.md" in out and "nosuchkey2099" in out
