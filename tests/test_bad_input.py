"""Bad input gives a clear message, one line per problem naming file, row, column and rule, and stops before any
chapter runs. Each case breaks a scratch copy of the repository (never the real data) and runs
``python -m relaxbook.data.validate`` on it; the build-level cases run jupyter-book on a reduced table of contents.

Decisions recorded here (and in CONTRIBUTING.md):
* a UTF-8 byte-order mark is **rejected** with a message saying how to fix it (other readers of the published CSVs
  would glue it to the first column name);
* CRLF line endings are **accepted** and give exactly the same values as LF.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest

from conftest import JUPYTER_BOOK, ROOT, reduced_toc, run

# One problem line: "  <file>[, row|line N][, column 'c']: message [rule]"
PROBLEM_LINE = re.compile(
    r"^  (data/[a-z_]+\.(csv|json)|references\.bib)(, (row|line) \d+)?(, column '[^']+')?: \S.* \[[a-z-]+\]$"
)


def validate(root):
    return run([sys.executable, "-m", "relaxbook.data.validate"], cwd=root, root=root)


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def row_of(path: Path, first_cell: str) -> int:
    """Row number (header = 1) of the record whose first cell is ``first_cell``."""
    with open(path, newline="", encoding="utf-8") as f:
        for i, row in enumerate(csv.reader(f), start=1):
            if row and row[0] == first_cell:
                return i
    raise AssertionError(f"test setup: no row {first_cell!r} in {path}")


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


# --- the catalogue: name -> (break the scratch copy, the problem lines expected) ------------------------------


def replace(name, old, new):
    def apply(root):
        edit(root / name, old, new)

    return apply


def add_column(root):
    path = root / "data" / "scales.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",comment"] + [l + ",x" for l in lines[1:]]) + "\n", encoding="utf-8")


def header_only(root):
    path = root / "data" / "scales.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def non_utf8(root):
    path = root / "data" / "scales.csv"
    path.write_bytes(path.read_bytes().replace(b"Modified Ashworth", "Modified Äshworth".encode("latin-1")))


def bom(root):
    path = root / "data" / "drugs.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def claims_row(claim):
    return lambda root: row_of(root / "data" / "claims.csv", claim)


def _drop_rows(path, prefix):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(prefix)]
    assert len(kept) < len(lines), f"test setup: no row starting {prefix!r}"
    path.write_text("".join(kept), encoding="utf-8")


def _drop_line(name, text):
    def apply(root):
        path = root / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if text not in line]
        assert len(kept) == len(lines) - 1, f"test setup: {text!r} not on exactly one line of {name}"
        path.write_text("".join(kept), encoding="utf-8")

    return apply


def _add_status_column(root):
    path = root / "data" / "claims.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0] + ["status"]] + [r + ["verified"] for r in rows[1:]])


def _resave(path, delimiter):
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=delimiter, lineterminator="\n").writerows(rows)


CASES = {
    "wrong type": (
        replace("data/studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,"),
        lambda r: [
            f"data/studies.csv, row {row_of(r / 'data/studies.csv', 'roussan1985')}, column 'n_total': "
            "'thirteen' is not an integer [type]"
        ],
    ),
    "missing required column": (
        replace("data/drugs.csv", "drug_id,inn,", "drug_id,"),
        lambda r: ["data/drugs.csv, row 1, column 'inn': required column is missing from the header [missing-column]"],
    ),
    "extra unknown column": (
        add_column,
        lambda r: [
            "data/scales.csv, row 1, column 'comment': column is not described in data/datapackage.json [extra-column]"
        ],
    ),
    "duplicate primary key": (
        replace("data/pathway_steps.csv", "lanperisone,2,Lanperisone", "lanperisone,1,Lanperisone"),
        lambda r: [
            "data/pathway_steps.csv, row 3, column 'drug_id,step': duplicate key ('lanperisone', 1) "
            "(first on row 2) [primary-key]"
        ],
    ),
    "dangling foreign key": (
        replace("data/arms.csv", "roussan1985-a,roussan1985,", "roussan1985-a,roussan1986,"),
        lambda r: [
            f"data/arms.csv, row {row_of(r / 'data/arms.csv', 'roussan1985-a')}, column 'study_id': "
            "'roussan1986' has no match in studies.study_id [foreign-key]"
        ],
    ),
    "value out of range": (
        replace("data/adverse_effects.csv", ",10,63,", ",10,163,"),
        lambda r: [
            "data/adverse_effects.csv, row 2, column 'frequency_pct_max': 163 is above the maximum 100 [maximum]"
        ],
    ),
    "value below minimum": (
        replace("data/studies.csv", ",13,patients with spasticity,", ",0,patients with spasticity,"),
        lambda r: [
            f"data/studies.csv, row {row_of(r / 'data/studies.csv', 'roussan1985')}, column 'n_total': "
            "0 is below the minimum 1 [minimum]"
        ],
    ),
    "minimum above maximum": (
        replace("data/adverse_effects.csv", ",10,63,", ",70,63,"),
        lambda r: [
            "data/adverse_effects.csv, row 2, column 'frequency_pct_min': 70 is above frequency_pct_max = 63 [min-max]"
        ],
    ),
    "a key breaking its pattern": (
        replace("data/claims.csv", "\nc02,mechanisms,", "\nc2,mechanisms,"),
        lambda r: ["data/claims.csv, row 3, column 'claim_id': 'c2' does not match c[0-9]{2,3} [pattern]"],
    ),
    "value not in enum": (
        replace("data/claims.csv", "c02,mechanisms,", "c02,mechanism,"),
        lambda r: [
            "data/claims.csv, row 3, column 'chapter': 'mechanism' is not one of: introduction, mechanisms, "
            "clinical, protocols, safety, conclusions [enum]"
        ],
    ),
    "empty file": (
        lambda root: (root / "data" / "scales.csv").write_bytes(b""),
        lambda r: ["data/scales.csv, row 1: is empty: expected a header row and data rows [empty]"],
    ),
    "header only": (header_only, lambda r: ["data/scales.csv, row 2: has a header but no data rows [no-rows]"]),
    "non-UTF-8 bytes": (
        non_utf8,
        lambda r: [
            "data/scales.csv, row 2, column 'name': is not valid UTF-8 (byte 0xc4); save the file as UTF-8 [encoding]"
        ],
    ),
    "UTF-8 BOM (rejected)": (
        bom,
        lambda r: [
            "data/drugs.csv, row 1, column 'drug_id': starts with a UTF-8 byte-order mark (BOM); save as UTF-8 "
            "without BOM [encoding]"
        ],
    ),
    "blank cell": (
        replace("data/drugs.csv", "baclofen,baclofen,GABA-B", "baclofen,,GABA-B"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'baclofen')}, column 'inn': "
            "is empty; write NA for unknown [blank]"
        ],
    ),
    "NA in a required column": (
        replace("data/drugs.csv", "baclofen,baclofen,GABA-B", "baclofen,NA,GABA-B"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'baclofen')}, column 'inn': "
            "is NA but this column is required [required]"
        ],
    ),
    "bad date": (
        replace("data/claim_elements.csv", ",2026-12-01\n", ",2026-13-01\n"),
        lambda r: [
            "data/claim_elements.csv, row 2, column 'date_checked': '2026-13-01' is not a date (YYYY-MM-DD) [type]"
        ],
    ),
    "unknown source_key": (
        replace("data/drugs.csv", ",eisai_myonal\n", ",eisai_myonal_typo\n"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'eperisone')}, column 'source_key': "
            "'eisai_myonal_typo' is not a key in references.bib [bibkey]"
        ],
    ),
    "malformed BibTeX entry": (
        replace(
            "references.bib", "  journal = {Saudi Pharmaceutical Journal},", "  journal {Saudi Pharmaceutical Journal},"
        ),
        lambda r: [
            f"references.bib, line {line_of(r / 'references.bib', 'journal {Saudi Pharmaceutical Journal},')}: "
            "syntax error: '=' expected [bibtex]"
        ],
    ),
    "a journal article without DOI or PMID and no reason": (
        _drop_line("references.bib", "10.2174/1874104501408010017"),
        lambda r: [
            f"references.bib, line {line_of(r / 'references.bib', '{tekes2014basic,')}: article 'tekes2014basic' lacks "
            "a DOI or PMID: add them from the PubMed, PMC or publisher record, or say in its note what was searched "
            "[incomplete-record]"
        ],
    ),
    "element supported only by retracted work": (
        replace(
            "data/claim_elements.csv",
            "c27,2,Cited source [17] (Luo 2017) supports the row,not addressed,luo2017comparative;",
            "c27,2,Cited source [17] (Luo 2017) supports the row,supported,luo2017comparative;",
        ),
        lambda r: [
            "data/claim_elements.csv, row 84, column 'source_key': element c27.2 is 'supported' by "
            "'luo2017comparative', the work of excluded study luo2017 (retracted): excluded work supports nothing; "
            "use another source or 'not addressed' [excluded-support]"
        ],
    ),
    "an accurate description of retracted work marked supported": (
        replace(
            "data/claim_elements.csv", "c35,2,Duration 6 weeks,not addressed,", "c35,2,Duration 6 weeks,supported,"
        ),
        lambda r: [
            "data/claim_elements.csv, row 102, column 'source_key': element c35.2 is 'supported' by "
            "'luo2017comparative'"
        ],
    ),
    "the guide cited as its own evidence": (
        replace(
            "data/claim_elements.csv",
            "c01,1,Lanperisone is a centrally acting muscle relaxant,supported,sakitama1997effects",
            "c01,1,Lanperisone is a centrally acting muscle relaxant,supported,benchchem2025lanperisone",
        ),
        lambda r: [
            "data/claim_elements.csv, row 2, column 'source_key': element c01.1 is 'supported' by "
            "'benchchem2025lanperisone', the work of excluded study guide-lan-epe (not found)"
        ],
    ),
    "finding outside the vocabulary": (
        replace(
            "data/claim_elements.csv",
            "c01,1,Lanperisone is a centrally acting muscle relaxant,supported,",
            "c01,1,Lanperisone is a centrally acting muscle relaxant,confirmed,",
        ),
        lambda r: [
            "data/claim_elements.csv, row 2, column 'finding': 'confirmed' is not one of: supported, "
            "contradicted, not addressed, source not found [enum]"
        ],
    ),
    "a claim with no elements": (
        lambda root: _drop_rows(root / "data" / "claim_elements.csv", "c02,"),
        lambda r: [
            f"data/claims.csv, row {row_of(r / 'data/claims.csv', 'c02')}, column 'claim_id': claim c02 has no "
            "elements in data/claim_elements.csv: split it into what can be checked [no-elements]"
        ],
    ),
    "a supported element without a source": (
        replace("data/claim_elements.csv", "relaxant,supported,sakitama1997effects,", "relaxant,supported,NA,"),
        lambda r: [
            "data/claim_elements.csv, row 2, column 'source_key': element c01.1 is 'supported' but names no "
            "source: give the key of the work that says so [no-source]"
        ],
    ),
    "an element checked after the evidence cut-off": (
        replace("data/claim_elements.csv", ",2026-12-01\n", ",2026-12-24\n"),
        lambda r: [
            "data/claim_elements.csv, row 2, column 'date_checked': 2026-12-24 is after the evidence cut-off "
            "2026-12-01 (data/datapackage.json, evidence_cutoff) [after-cutoff]"
        ],
    ),
    "a hand-typed status": (
        _add_status_column,
        lambda r: [
            "data/claims.csv, row 1, column 'status': is not stored: a claim's status is computed from its "
            "elements (data/claim_elements.csv) by the rule in relaxbook/data/status.py; remove the column "
            "[computed-column]"
        ],
    ),
    "an unknown id inside a list": (
        replace(
            "data/certainty.csv", "roussan1985;thiyagarajan2024;goyal2016", "roussan1985;thiyagarajan2042;goyal2016"
        ),
        lambda r: [
            f"data/certainty.csv, row {row_of(r / 'data/certainty.csv', 'baclofen-diazepam-efficacy')}, column "
            "'study_ids': 'thiyagarajan2042' has no match in studies.study_id [list-key]"
        ],
    ),
    "N/A written for NA": (
        replace("data/drugs.csv", "baclofen,baclofen,GABA-B", "baclofen,N/A,GABA-B"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'baclofen')}, column 'inn': 'N/A' means "
            "unknown: write NA [na-spelling]"
        ],
    ),
    "a dash written for NA": (
        replace("data/drugs.csv", "baclofen,baclofen,GABA-B", "baclofen,-,GABA-B"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'baclofen')}, column 'inn': '-' means "
            "unknown: write NA [na-spelling]"
        ],
    ),
    "an arm larger than its study": (
        replace(
            "data/arms.csv",
            "roussan1985-a,roussan1985,baclofen,baclofen,25 to 60 mg/day,25,60,13,",
            "roussan1985-a,roussan1985,baclofen,baclofen,25 to 60 mg/day,25,60,31,",
        ),
        lambda r: [
            f"data/arms.csv, row {row_of(r / 'data/arms.csv', 'roussan1985-a')}, column 'n_arm': 31 patients, "
            "more than study roussan1985's n_total 13 [arm-size]"
        ],
    ),
    "a key with stray whitespace": (
        replace("data/studies.csv", "\nroussan1985,", "\nroussan1985 ,"),
        lambda r: [
            f"data/studies.csv, row {row_of(r / 'data/studies.csv', 'roussan1985 ')}, column 'study_id': "
            "'roussan1985 ' has spaces around it; a key must not [whitespace]"
        ],
    ),
    "a file saved with semicolons": (
        lambda root: _resave(root / "data" / "scales.csv", ";"),
        lambda r: [
            "data/scales.csv, row 1: is separated by semicolons, not commas: save it as CSV with commas (a "
            "spreadsheet's 'CSV UTF-8 (comma delimited)') [delimiter]"
        ],
    ),
    "a file saved with tabs": (
        lambda root: _resave(root / "data" / "scales.csv", "\t"),
        lambda r: ["data/scales.csv, row 1: is separated by tabs, not commas"],
    ),
    "retracted study supports a conclusion": (
        replace("data/conclusion_evidence.csv", "c47,luo2017,excluded (retracted)", "c47,luo2017,supports"),
        lambda r: [
            "data/conclusion_evidence.csv, row 8, column 'role': retracted study luo2017 cannot support claim c47 "
            "[retracted-support]"
        ],
    ),
    "row with too many cells": (
        replace("data/drugs.csv", ",eisai_myonal\n", ",eisai_myonal,extra\n"),
        lambda r: [
            f"data/drugs.csv, row {row_of(r / 'data/drugs.csv', 'eperisone')}: has 7 cells, header has 6 [row-length]"
        ],
    ),
    "unreadable datapackage.json": (
        lambda root: (root / "data" / "datapackage.json").write_text('{"resources": [', encoding="utf-8"),
        lambda r: ["data/datapackage.json: cannot be read: Expecting value: line 1 column 16 (char 15) [descriptor]"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_reported_one_line_per_problem(scratch, case):
    breaks, expected = CASES[case]
    breaks(scratch)
    result = validate(scratch)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert re.match(r"data/ is invalid \(\d+ problem\(s\)\):$", lines[0]), lines[0]
    for line in lines[1:]:
        assert PROBLEM_LINE.match(line), f"not one clear problem line: {line!r}"
    for message in expected(scratch):
        assert any(message in line for line in lines[1:]), f"expected {message!r} in:\n{result.stderr}"
    assert len(lines) - 1 == int(re.search(r"\((\d+) problem", lines[0]).group(1))


@pytest.mark.parametrize("case", ["empty file", "header only", "UTF-8 BOM (rejected)", "missing required column"])
def test_an_unreadable_table_gives_no_follow_on_key_errors(scratch, case):
    """A table that cannot be read is reported once, not as a flood of foreign-key errors in tables that refer to it."""
    breaks, expected = CASES[case]
    breaks(scratch)
    problems = validate(scratch).stderr.splitlines()[1:]
    assert len(problems) == 1, problems


def test_every_catalogue_case_breaks_the_data_it_claims_to(scratch):
    """Guard against a case whose edit no longer applies: the untouched copy is valid, so each failure above is the
    case's own."""
    result = validate(scratch)
    assert result.returncode == 0, result.stderr
    assert "data/ is valid" in result.stdout


def test_crlf_line_endings_are_accepted_and_give_the_same_values(scratch):
    code = (
        "from relaxbook.data.datapkg import validate_package; t = validate_package(); "
        "print(sorted((k, repr(v)) for k, v in t.items()))"
    )
    before = run([sys.executable, "-c", code], cwd=scratch, root=scratch)
    assert before.returncode == 0, before.stderr
    for path in (scratch / "data").glob("*.csv"):
        data = path.read_bytes()
        assert b"\r" not in data
        path.write_bytes(data.replace(b"\n", b"\r\n"))
    after = run([sys.executable, "-c", code], cwd=scratch, root=scratch)
    assert after.returncode == 0, after.stderr
    assert after.stdout == before.stdout
    assert "\\r" not in after.stdout


def test_the_real_data_keep_every_evidence_rule():
    """The rules the catalogue breaks hold on the real data, and they have something to hold on: a retracted study is
    listed, and some elements cite it (as not addressed)."""
    from relaxbook.data import datapkg

    tables = datapkg.validate_package()
    package = datapkg.descriptor()
    assert "luo2017comparative" in datapkg.excluded_keys(tables)
    assert any("luo2017comparative" in str(e["source_key"]) for e in tables["claim_elements"])
    assert datapkg.check_evidence(tables, package) == []


# --- build-level cases (reduced table of contents to stay fast) ------------------------------------------------


def build(root):
    result = run([*JUPYTER_BOOK, "build", ".", "--all", "-n", "-W", "--keep-going"], cwd=root, root=root)
    return result, result.stdout + result.stderr


def test_malformed_csv_stops_make_book_before_any_chapter_runs(scratch):
    from conftest import make

    edit(scratch / "data" / "studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,")
    result = make(scratch, "book")
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "  data/studies.csv, row 4, column 'n_total': 'thirteen' is not an integer [type]" in result.stderr
    assert "executing" not in out.lower() and "Traceback" not in out
    assert not (scratch / "_build" / "html").exists()


def test_malformed_csv_stops_a_build_by_hand_before_any_chapter_runs(scratch):
    """`jupyter-book build .` by hand: relaxbook.ext.badges validates before any chapter executes."""
    edit(scratch / "data" / "studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,")
    result, out = build(scratch)
    assert result.returncode != 0
    assert "data/studies.csv, row 4, column 'n_total': 'thirteen' is not an integer [type]" in out
    assert "executing" not in out.lower()


def test_malformed_csv_build_by_hand_prints_no_traceback(scratch):
    edit(scratch / "data" / "studies.csv", ",13,patients with spasticity,", ",thirteen,patients with spasticity,")
    result, out = build(scratch)
    assert result.returncode != 0 and "Traceback" not in out


def test_unknown_citation_key_fails_the_build_naming_chapter_and_key(scratch):
    reduced_toc(scratch, "conclusions")
    edit(scratch / "chapters" / "conclusions.md", "{cite:p}`sakitama1997effects`", "{cite:p}`nosuchkey2099`")
    result, out = build(scratch)
    assert result.returncode != 0
    assert any("conclusions.md" in line and "nosuchkey2099" in line for line in out.splitlines()), out[-3000:]
    assert "Traceback" not in out


def test_a_chapter_cell_that_raises_fails_the_build_naming_chapter_and_exception(scratch):
    reduced_toc(scratch, "conclusions")
    edit(
        scratch / "chapters" / "conclusions.md",
        "certainty.conclusions_table()",
        "certainty.conclusions_table()\nraise ValueError('deliberate failure 7f3a')",
    )
    result, out = build(scratch)
    assert result.returncode != 0
    lines = out.splitlines()
    assert any("chapters/conclusions.md" in line and "ExecutionError" in line for line in lines), out[-3000:]
    assert "ValueError" in out and "deliberate failure 7f3a" in out
    # the one-line summary `make book` prints after the tracebacks
    from relaxbook.data.validate import explain_build_log

    assert explain_build_log(out, scratch) == [
        "chapters/conclusions.md: ValueError: deliberate failure 7f3a [cell-error]"
    ]
    assert explain_build_log("WARNING: undefined label: 'x'\nbuild finished with problems", scratch) == []
    # no silent page: the failing chapter is not published as if it had worked
    assert not (scratch / "_build" / "html" / "chapters" / "conclusions.html").exists()


# --- the standard validator agrees; ours is authoritative for the project's extra rules -------------------------


def frictionless_report(root):
    """frictionless on the whole package (every table with its data) of the scratch copy."""
    import frictionless

    return frictionless.validate(str(root / "data" / "datapackage.json"))


def frictionless_valid_where_changed(root) -> bool:
    """frictionless on what a case changed: each table whose file differs from the real data/, and each table whose
    foreign keys point at one, read in the scratch package (so foreign keys are checked); the whole package when its
    descriptor changed. The real package is valid (test below), so this is the whole package's verdict, in a tenth of
    the time (frictionless reads every table again for each foreign key)."""
    import frictionless

    data = root / "data"
    if (data / "datapackage.json").read_bytes() != (ROOT / "data" / "datapackage.json").read_bytes():
        return frictionless_report(root).valid
    package = frictionless.Package(str(data / "datapackage.json"))
    changed = {
        r.name for r in package.resources if (data / r.path).read_bytes() != (ROOT / "data" / r.path).read_bytes()
    }
    assert changed, "test setup: the case changed no table"
    pointing = {
        r.name for r in package.resources for fk in r.schema.foreign_keys if fk["reference"]["resource"] in changed
    }
    return all(package.get_resource(name).validate().valid for name in sorted(changed | pointing))


def test_frictionless_validates_the_whole_package_with_its_data(scratch):
    report = frictionless_report(scratch)
    assert report.valid, [f"{t.name}: {e.type}: {e.note}" for t in report.tasks for e in t.errors][:20]
    rows = {t.name: t.stats.get("rows") for t in report.tasks}
    from relaxbook.data.datapkg import validate_package

    assert rows == {name: len(table) for name, table in validate_package().items()}, "frictionless must read every row"


STANDARD_RULES = [
    "wrong type",
    "missing required column",
    "extra unknown column",
    "duplicate primary key",
    "dangling foreign key",
    "value out of range",
    "value below minimum",
    "value not in enum",
    "bad date",
    "NA in a required column",
    "non-UTF-8 bytes",
]
EXTRA_RULES = [
    "unknown source_key",
    "element supported only by retracted work",
    "retracted study supports a conclusion",
    "a claim with no elements",
    "an unknown id inside a list",
    "an arm larger than its study",
]


def test_the_changed_tables_check_sees_a_foreign_key_broken_from_the_other_side(scratch):
    """Removing a study that arms point at changes studies.csv alone; the dangling key is in arms.csv, which the
    check must therefore read too, agreeing with frictionless on the whole package."""
    _drop_rows(scratch / "data" / "studies.csv", "roussan1985,")
    assert not frictionless_report(scratch).valid
    assert not frictionless_valid_where_changed(scratch)


@pytest.mark.parametrize("case", STANDARD_RULES)
def test_frictionless_also_rejects_what_breaks_a_standard_rule(scratch, case):
    CASES[case][0](scratch)
    assert not frictionless_valid_where_changed(scratch)


@pytest.mark.parametrize("case", EXTRA_RULES)
def test_only_our_validator_enforces_the_project_rules(scratch, case):
    """Bib keys (`"bibkey": true`, checked against references.bib) and retracted-work rules are not expressible in
    Table Schema, so frictionless passes these and `relaxbook.data.validate` (run by make book and by the build) is the
    authority: both must pass before anything is published."""
    CASES[case][0](scratch)
    assert frictionless_valid_where_changed(scratch)
    assert validate(scratch).returncode == 1
