"""Load and validate the CSV tables described by ``data/datapackage.json``.

The descriptor follows the Frictionless Table Schema (types, ``constraints.required``, ``enum``, ``minimum``,
``maximum``, ``pattern``, ``primaryKey``, ``foreignKeys``). One project-specific field property is added:
``"bibkey": true`` marks a column whose values must be keys of ``references.bib``.

Every problem is reported as one line naming the file, the row (line number in the file, header = 1), the column
and the rule broken; :class:`DataError` carries all of them, so a maintainer sees every error at once.
``NA`` is the only spelling of "unknown"; an empty cell is an error, never a silent zero.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

from relaxbook.data import bib, paths
from relaxbook.data.errors import DataError, Problem

NA = "NA"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def descriptor() -> dict:
    try:
        return json.loads(paths.PACKAGE.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError([Problem(_rel(paths.PACKAGE), None, None, "descriptor", f"cannot be read: {exc}")]) from None


def resource(name: str, package: dict | None = None) -> dict:
    package = package or descriptor()
    for res in package["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in package["resources"])
    raise DataError([Problem(_rel(paths.PACKAGE), None, None, "resource", f"no table named '{name}' (known: {known})")])


# --- reading -------------------------------------------------------------------------------------------------


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[Problem]]:
    """Header and rows of a CSV as strings, with encoding-level problems."""
    f = _rel(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [], [Problem(f, None, None, "file", f"cannot be read: {exc.strerror}")]
    if raw.startswith(b"\xef\xbb\xbf"):
        # Rejected, not silently stripped: other readers of the published CSVs (spreadsheets, R, pandas without
        # encoding="utf-8-sig") would glue the BOM to the first column name. CONTRIBUTING.md documents this.
        header = next(csv.reader(io.StringIO(raw[3:].decode("utf-8", "replace"))), [None])
        return (
            [],
            [],
            [
                Problem(
                    f,
                    1,
                    header[0] if header else None,
                    "encoding",
                    "starts with a UTF-8 byte-order mark (BOM); save as UTF-8 without BOM",
                )
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = list(csv.reader(io.StringIO(raw[: exc.start].decode("utf-8"), newline="")))
        row = len(before) or 1
        header = before[0] if before else []
        cell = len(before[-1]) - 1 if before else 0
        column = header[cell] if 0 <= cell < len(header) else None
        return (
            [],
            [],
            [
                Problem(
                    f,
                    row,
                    column,
                    "encoding",
                    f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ],
        )
    rows = list(csv.reader(io.StringIO(text, newline="")))  # CRLF and LF are both accepted
    if not rows or not any(cell.strip() for cell in rows[0]):
        return [], [], [Problem(f, 1, None, "empty", "is empty: expected a header row and data rows")]
    return rows[0], rows[1:], []


def _convert(value: str, field: dict):
    """Return (python value, error message or None). ``NA`` becomes None."""
    if value == NA:
        return None, None
    kind = field.get("type", "string")
    try:
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise ValueError
            return int(value), None
        if kind == "number":
            if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", value):
                raise ValueError
            return float(value), None
        if kind == "boolean":
            if value not in ("true", "false"):
                raise ValueError
            return value == "true", None
        if kind == "date":
            return date.fromisoformat(value), None
        if kind == "year":
            if not re.fullmatch(r"\d{4}", value):
                raise ValueError
            return int(value), None
    except ValueError:
        article = "an" if kind[0] in "aeiou" else "a"
        return None, f"'{value}' is not {article} {kind}" + (" (YYYY-MM-DD)" if kind == "date" else "")
    if value == "":
        return None, "is empty; write NA for unknown"
    return value, None


def check_table(res: dict, bib_keys: set[str] | None = None) -> tuple[list[dict], list[Problem]]:
    """Validate one table; return its typed rows (dicts) and the problems found."""
    path = paths.DATA / res["path"]
    f = _rel(path)
    header, rows, problems = _read_rows(path)
    if problems:
        return [], problems
    fields = res["schema"]["fields"]
    names = [fd["name"] for fd in fields]
    for col in names:
        if col not in header:
            problems.append(Problem(f, 1, col, "missing-column", "required column is missing from the header"))
    for col in header:
        if col not in names:
            problems.append(Problem(f, 1, col, "extra-column", "column is not described in data/datapackage.json"))
    if len(set(header)) != len(header):
        problems.append(Problem(f, 1, None, "duplicate-column", "header repeats a column name"))
    if problems:
        return [], problems
    if not rows:
        problems.append(Problem(f, 2, None, "no-rows", "has a header but no data rows"))
    typed: list[dict] = []
    pk = res["schema"].get("primaryKey", [])
    pk = [pk] if isinstance(pk, str) else pk
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(Problem(f, i, None, "row-length", f"has {len(row)} cells, header has {len(header)}"))
            continue
        cells = dict(zip(header, row, strict=True))
        out = {}
        for fd in fields:
            col, value = fd["name"], cells[fd["name"]]
            cons = fd.get("constraints", {})
            if value.strip() == "":
                problems.append(Problem(f, i, col, "blank", "is empty; write NA for unknown"))
                continue
            conv, err = _convert(value, fd)
            if err:
                problems.append(Problem(f, i, col, "type", err))
                continue
            if conv is None and value == NA and cons.get("required"):
                problems.append(Problem(f, i, col, "required", "is NA but this column is required"))
            if conv is not None:
                if "enum" in cons and conv not in cons["enum"]:
                    problems.append(
                        Problem(f, i, col, "enum", f"'{value}' is not one of: {', '.join(map(str, cons['enum']))}")
                    )
                if "minimum" in cons and conv < cons["minimum"]:
                    problems.append(Problem(f, i, col, "minimum", f"{value} is below the minimum {cons['minimum']}"))
                if "maximum" in cons and conv > cons["maximum"]:
                    problems.append(Problem(f, i, col, "maximum", f"{value} is above the maximum {cons['maximum']}"))
                if "pattern" in cons and not re.fullmatch(cons["pattern"], str(conv)):
                    problems.append(Problem(f, i, col, "pattern", f"'{value}' does not match {cons['pattern']}"))
                if fd.get("bibkey") and bib_keys is not None:
                    for key in str(conv).split(";"):
                        if key.strip() not in bib_keys:
                            problems.append(
                                Problem(f, i, col, "bibkey", f"'{key.strip()}' is not a key in references.bib")
                            )
            out[col] = conv
        if pk:
            key = tuple(out.get(c) for c in pk)
            if key in seen:
                problems.append(
                    Problem(
                        f,
                        i,
                        ",".join(pk),
                        "primary-key",
                        f"duplicate key {key if len(key) > 1 else key[0]!r} (first on row {seen[key]})",
                    )
                )
            else:
                seen[key] = i
        typed.append(out)
    return typed, problems


def validate_package(bib_keys: set[str] | None = None) -> dict[str, list[dict]]:
    """Validate every table, the foreign keys between them, every bib-key column and the cross-table rules
    (:func:`check_retracted_support`).

    Returns the typed rows per table; raises :class:`DataError` listing every problem, including a malformed
    ``references.bib`` (then bib-key columns are not checked, as every key would look unknown).
    """
    problems: list[Problem] = []
    if bib_keys is None:
        try:
            bib_keys = bib.keys()
        except DataError as exc:
            problems += [
                Problem(
                    p.file, p.row, p.column, p.rule, re.sub(r"^syntax error in line \d+: ", "syntax error: ", p.message)
                )
                for p in exc.problems
            ]
    package = descriptor()
    tables: dict[str, list[dict]] = {}
    broken: set[str] = set()  # tables that could not be read at all: no follow-on key errors about them
    for res in package["resources"]:
        rows, probs = check_table(res, bib_keys)
        tables[res["name"]] = rows
        problems += probs
        if probs and not rows:
            broken.add(res["name"])
    for res in package["resources"]:
        f = _rel(paths.DATA / res["path"])
        for fk in res["schema"].get("foreignKeys", []):
            cols = [fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"]
            ref = fk["reference"]
            target = ref.get("resource") or res["name"]
            if res["name"] in broken or target in broken:
                continue
            tcols = [ref["fields"]] if isinstance(ref["fields"], str) else ref["fields"]
            known = {tuple(r.get(c) for c in tcols) for r in tables.get(target, [])}
            for i, row in enumerate(tables[res["name"]], start=2):
                key = tuple(row.get(c) for c in cols)
                if all(v is None for v in key):
                    continue
                if key not in known:
                    problems.append(
                        Problem(
                            f,
                            i,
                            ",".join(cols),
                            "foreign-key",
                            f"{key[0] if len(key) == 1 else key!r} has no match in {target}.{','.join(tcols)}",
                        )
                    )
    problems += check_ranges(tables, package)
    if not broken & {"studies", "claims", "conclusion_evidence"}:
        problems += check_retracted_support(tables, package)
    if problems:
        raise DataError(problems)
    return tables


def check_ranges(tables: dict[str, list[dict]], package: dict) -> list[Problem]:
    """In every row, a ``*_min*`` column is not above its ``*_max*`` twin (e.g. ``dose_min_mg_per_day``)."""
    problems = []
    for res in package["resources"]:
        names = [fd["name"] for fd in res["schema"]["fields"]]
        pairs = [
            (n, n.replace("_min", "_max", 1)) for n in names if "_min" in n and n.replace("_min", "_max", 1) in names
        ]
        for lo, hi in pairs:
            for i, row in enumerate(tables.get(res["name"], []), start=2):
                a, b = row.get(lo), row.get(hi)
                if a is not None and b is not None and a > b:
                    problems.append(
                        Problem(_rel(paths.DATA / res["path"]), i, lo, "min-max", f"{a:g} is above {hi} = {b:g}")
                    )
    return problems


SUPPORTING_STATUSES = ("verified", "partly verified")


def retracted_keys(tables: dict[str, list[dict]]) -> dict[str, str]:
    """Bib keys of retracted work -> study_id: studies whose ``exclusion_reason`` starts with 'retracted'."""
    out = {}
    for study in tables.get("studies", []):
        if str(study.get("exclusion_reason") or "").startswith("retracted"):
            for key in str(study.get("source_key") or "").split(";"):
                out[key.strip()] = study["study_id"]
    return out


def check_retracted_support(tables: dict[str, list[dict]], package: dict | None = None) -> list[Problem]:
    """Retracted work never supports anything.

    * ``claims.csv``: a claim with status ``verified`` or ``partly verified`` must not list a retracted work in
      ``checked_against`` (no exceptions: an accurate description of a retracted paper is 'unsupported').
    * ``conclusion_evidence.csv``: a retracted study's ``role`` must not start with 'supports'.
    """
    package = package or descriptor()
    files = {r["name"]: _rel(paths.DATA / r["path"]) for r in package["resources"]}
    retracted = retracted_keys(tables)
    problems: list[Problem] = []
    for i, claim in enumerate(tables.get("claims", []), start=2):
        keys = [k.strip() for k in str(claim.get("checked_against") or "").split(";")]
        bad = [k for k in keys if k in retracted]
        if not bad or claim.get("status") not in SUPPORTING_STATUSES:
            continue
        problems.append(
            Problem(
                files.get("claims", "data/claims.csv"),
                i,
                "checked_against",
                "retracted-support",
                f"claim {claim.get('claim_id')} is '{claim.get('status')}' but rests on retracted work "
                f"'{bad[0]}' (study {retracted[bad[0]]}); mark it contradicted or check it against "
                "another source",
            )
        )
    studies = {s.get("study_id"): s for s in tables.get("studies", [])}
    retracted_studies = set(retracted.values())
    for i, link in enumerate(tables.get("conclusion_evidence", []), start=2):
        if link.get("study_id") in retracted_studies and str(link.get("role") or "").startswith("supports"):
            problems.append(
                Problem(
                    files.get("conclusion_evidence", "data/conclusion_evidence.csv"),
                    i,
                    "role",
                    "retracted-support",
                    f"retracted study {link.get('study_id')} "
                    f"({studies[link['study_id']].get('source_key')}) cannot support claim "
                    f"{link.get('claim_id')}",
                )
            )
    return problems


# --- what a chapter may read: the tables it declares -------------------------------------------------------

_SETUP_CALL = re.compile(r"\bbook\.setup\(([^)]*)\)")


CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.M | re.S)
CELL_OPTION = re.compile(r"^:[\w-]+:.*\n", re.M)


def page_code(text: str) -> str:
    """The code cells of a MyST text notebook, without their ``:option:`` lines."""
    return "\n".join(CELL_OPTION.sub("", body) for body in CODE_CELL.findall(text))


def declared_tables(text: str) -> list[str] | None:
    """The table names passed to a page's ``book.setup(...)`` call(s), read from its code cells only (the prose may
    show such a call); None when the page has no such call. They must be string literals: anything else raises
    ValueError, so the declaration can be read without running the page."""
    import ast

    calls = _SETUP_CALL.findall(page_code(text) if CODE_CELL.search(text) else text)
    if not calls:
        return None
    names: list[str] = []
    for args in calls:
        for arg in ast.parse(f"f({args})", mode="eval").body.args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ValueError(f"book.setup(...) takes table names as string literals, got {ast.unparse(arg)}")
            names.append(arg.value)
    return names


_declared: set[str] | None = None


def declare(tables) -> None:
    """Declare the tables a chapter reads (called by ``book.setup``): loading any other table then fails, so the
    declaration in each chapter's first cell is a complete, checked list of its data dependencies."""
    global _declared
    package = descriptor()
    for name in tables:
        resource(name, package)  # an unknown table is named now, with the known ones
    _declared = set(tables)


_loaded: dict[tuple, object] = {}  # validated tables, keyed by everything their content depends on


def load(name: str):
    """The table ``name`` as a pandas DataFrame with schema types; NA stays missing (``pd.NA``).

    Raises :class:`DataError` naming file, row and column when the table breaks its schema, or when a chapter reads
    a table it did not declare in ``book.setup(...)``. A table is validated once per content of its file, schema
    and the bib keys (chapters call helpers that load the same table many times); each call returns its own copy.
    """
    import hashlib

    res = resource(name)
    path = paths.DATA / res["path"]
    if _declared is not None and name not in _declared:
        raise DataError(
            [
                Problem(
                    _rel(path),
                    None,
                    None,
                    "undeclared",
                    f"is read but not declared: add '{name}' to book.setup(...) in this chapter",
                )
            ]
        )
    bib_keys = bib.keys()
    content = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None
    memo_key = (name, json.dumps(res, sort_keys=True), content, hash(frozenset(bib_keys)))
    if memo_key not in _loaded:
        _loaded[memo_key] = _frame(res, bib_keys)
    return _loaded[memo_key].copy()


def checked_rows(res: dict, bib_keys: set[str] | None = None) -> list[dict]:
    """The typed rows of one table; :class:`DataError` listing every problem if it breaks its schema."""
    rows, problems = check_table(res, bib_keys)
    if problems:
        raise DataError(problems)
    return rows


def _frame(res: dict, bib_keys: set[str]):
    import pandas as pd

    rows = checked_rows(res, bib_keys)
    dtypes = {"integer": "Int64", "year": "Int64", "number": "Float64", "boolean": "boolean"}
    cols = [fd["name"] for fd in res["schema"]["fields"]]
    df = pd.DataFrame(rows, columns=cols)
    for fd in res["schema"]["fields"]:
        kind = fd.get("type", "string")
        if kind in dtypes:
            df[fd["name"]] = pd.array(df[fd["name"]].tolist(), dtype=dtypes[kind])
        else:
            df[fd["name"]] = df[fd["name"]].astype("object").where(df[fd["name"]].notna(), pd.NA)
    return df
